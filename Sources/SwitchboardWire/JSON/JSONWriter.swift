/// How a ``JSONValue`` is written as text.
public struct JSONWriteOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Object members in Unicode code point order of their keys instead of insertion order.
    public static let sortedKeys = JSONWriteOptions(rawValue: 1 << 0)
    /// Two-space indentation and one member or element per line.
    public static let prettyPrinted = JSONWriteOptions(rawValue: 1 << 1)
    /// Numbers in one normal form: an integral number is written as an integer (`1.0` → `1`,
    /// `-0` → `0`). With `.sortedKeys` this gives the canonical form used for cache keys.
    public static let normalizedNumbers = JSONWriteOptions(rawValue: 1 << 2)

    /// Sorted keys and normalised numbers, compact: equal JSON values give equal bytes.
    public static let canonical: JSONWriteOptions = [.sortedKeys, .normalizedNumbers]
}

extension JSONValue {
    /// The value as JSON text; compact, in insertion order, unless `options` say otherwise.
    public func serialized(_ options: JSONWriteOptions = []) -> String {
        String(decoding: serializedBytes(options), as: UTF8.self)
    }

    /// The value as UTF-8 JSON bytes.
    public func serializedBytes(_ options: JSONWriteOptions = []) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONWriter(options: options).write(self, into: &output, indent: 0)
        return output
    }
}

private struct JSONWriter {
    let options: JSONWriteOptions

    func write(_ value: JSONValue, into output: inout [UInt8], indent: Int) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number): writeDouble(number, into: &output)
        case .string(let string): Self.writeString(string, into: &output)
        case .array(let elements):
            guard !elements.isEmpty else {
                output.append(contentsOf: "[]".utf8)
                return
            }
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent + 1)
                write(element, into: &output, indent: indent + 1)
            }
            newline(into: &output, indent: indent)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else {
                output.append(contentsOf: "{}".utf8)
                return
            }
            output.append(UInt8(ascii: "{"))
            var first = true
            func member(_ key: String, _ element: JSONValue) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                newline(into: &output, indent: indent + 1)
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                if options.contains(.prettyPrinted) { output.append(UInt8(ascii: " ")) }
                write(element, into: &output, indent: indent + 1)
            }
            if options.contains(.sortedKeys) {
                for key in members.keys.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }) {
                    member(key, members[key]!)
                }
            } else {
                for (key, element) in members { member(key, element) }
            }
            newline(into: &output, indent: indent)
            output.append(UInt8(ascii: "}"))
        }
    }

    func newline(into output: inout [UInt8], indent: Int) {
        guard options.contains(.prettyPrinted) else { return }
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    func writeDouble(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        if options.contains(.normalizedNumbers), number.rounded() == number, abs(number) < 9_007_199_254_740_992 {
            output.append(contentsOf: String(Int(number)).utf8)
            return
        }
        output.append(contentsOf: number.description.utf8)
    }

    static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case 0x0A: output.append(contentsOf: "\\n".utf8)
            case 0x0D: output.append(contentsOf: "\\r".utf8)
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0x08: output.append(contentsOf: "\\b".utf8)
            case 0x0C: output.append(contentsOf: "\\f".utf8)
            case 0x00..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
