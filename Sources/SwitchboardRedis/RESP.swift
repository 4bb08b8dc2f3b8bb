import NIOCore

/// A value of the Redis serialization protocol (RESP2): what a server answers.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    /// An error reply (`-ERR …`, `-NOSCRIPT …`).
    case error(String)
    case integer(Int)
    /// A bulk string; `nil` is the null reply (a missing key).
    case bulkString([UInt8]?)
    /// An array; `nil` is the null array (an aborted transaction).
    case array([RESPValue]?)

    /// The reply as text: a simple or bulk string, or an integer's digits.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes?): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulkString(let bytes?): Int(String(decoding: bytes, as: UTF8.self))
        case .simpleString(let text): Int(text)
        default: nil
        }
    }

    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): true
        default: false
        }
    }
}

/// Writes commands as RESP arrays of bulk strings.
enum RESPEncoder {
    static func write(_ arguments: [RedisArgument], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            switch argument {
            case .text(let text):
                buffer.writeString("$\(text.utf8.count)\r\n")
                buffer.writeString(text)
            case .bytes(let bytes):
                buffer.writeString("$\(bytes.count)\r\n")
                buffer.writeBytes(bytes)
            }
            buffer.writeStaticString("\r\n")
        }
    }
}

/// One argument of a command.
public enum RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case bytes([UInt8])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .text(String(value)) }
}

/// Reads RESP replies from the byte stream. Refuses what no Redis sends (an unknown type byte,
/// a negative or oversized length, nesting past a depth), so a peer sending garbage closes the
/// connection instead of growing memory.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    static let maxBulkLength = 64 << 20
    static let maxDepth = 16

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var view = buffer
        guard let value = try Self.parse(&view, depth: 0) else { return .needMoreData }
        buffer = view
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }

    /// One whole value from the front of `buffer` (advancing past it), or `nil` when it has not
    /// all arrived.
    static func parse(_ buffer: inout ByteBuffer, depth: Int) throws(RESPError) -> RESPValue? {
        guard depth <= maxDepth else { throw RESPError("replies nested more than \(maxDepth) deep") }
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: 1)
        guard let line = try readLine(&rest) else { return nil }
        let value: RESPValue
        switch type {
        case UInt8(ascii: "+"):
            value = .simpleString(line)
        case UInt8(ascii: "-"):
            value = .error(line)
        case UInt8(ascii: ":"):
            guard let integer = Int(line) else {
                throw RESPError("an integer reply that is not a number: \(line.prefix(32))")
            }
            value = .integer(integer)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1, length <= maxBulkLength else {
                throw RESPError("a bulk length out of range: \(line.prefix(32))")
            }
            if length == -1 {
                value = .bulkString(nil)
            } else {
                guard rest.readableBytes >= length + 2, let bytes = rest.readBytes(length: length) else { return nil }
                guard rest.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw RESPError("a bulk string not ended by CRLF")
                }
                value = .bulkString(bytes)
            }
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1, count <= maxBulkLength else {
                throw RESPError("an array length out of range: \(line.prefix(32))")
            }
            if count == -1 {
                value = .array(nil)
            } else {
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(count, 1_024))
                for _ in 0..<count {
                    guard let element = try parse(&rest, depth: depth + 1) else { return nil }
                    elements.append(element)
                }
                value = .array(elements)
            }
        default:
            throw RESPError("an unknown reply type byte \(type)")
        }
        buffer = rest
        return value
    }

    /// The text up to CRLF (consumed), or `nil` when the line has not all arrived.
    private static func readLine(_ buffer: inout ByteBuffer) throws(RESPError) -> String? {
        let view = buffer.readableBytesView
        guard let carriageReturn = view.firstIndex(of: UInt8(ascii: "\r")) else {
            guard view.count < 64 << 10 else { throw RESPError("a reply line longer than 64 KiB") }
            return nil
        }
        guard carriageReturn + 1 < view.endIndex else { return nil }
        guard view[carriageReturn + 1] == UInt8(ascii: "\n") else { throw RESPError("a reply line not ended by CRLF") }
        let length = carriageReturn - view.startIndex
        let line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}

/// The server sent something that is not RESP.
struct RESPError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "Redis sent \(description)" }
}
