import Foundation
import SwitchboardWire

/// Produces JSON values that satisfy a JSON Schema (the subset structured outputs use: `type`,
/// `properties`, `required`, `items`, `prefixItems`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`,
/// `$ref` into `$defs`/`definitions`, length, item-count and numeric bounds, common `format`s),
/// and, on request, values that violate it in the ways models do.
struct SchemaInstanceGenerator {
    private let root: JSONValue
    private var random: SplitMix64

    init(root: JSONValue, seed: UInt64) {
        self.root = root
        self.random = SplitMix64(seed: seed)
    }

    /// A value valid against the root schema.
    mutating func validInstance() -> JSONValue {
        instance(for: root, depth: 0)
    }

    /// A value that does not satisfy the root schema: a required member with the wrong type, a
    /// missing required member, or (one time in four) text that is not JSON at all.
    mutating func invalidText() -> String {
        let valid = validInstance()
        switch random.next() % 4 {
        case 0:
            return "Sure! Here is the JSON you asked for: \(valid.serialized())"
        case 1:
            return breakRequired(valid, schema: resolve(root), removing: true).serialized()
        default:
            return breakRequired(valid, schema: resolve(root), removing: false).serialized()
        }
    }

    private func resolve(_ schema: JSONValue) -> JSONValue {
        guard let reference = schema["$ref"]?.stringValue, reference.hasPrefix("#") else { return schema }
        var current = root
        for part in reference.dropFirst().split(separator: "/") {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let member = current[key] {
                current = member
            } else if let index = Int(key), let element = current[index] {
                current = element
            } else {
                return .bool(true)
            }
        }
        return current
    }

    private mutating func instance(for rawSchema: JSONValue, depth: Int) -> JSONValue {
        let schema = resolve(rawSchema)
        if case .bool(let allowed) = schema { return allowed ? "value" : .null }
        guard depth < 12 else { return .null }
        if let constant = schema["const"] { return constant }
        if let choices = schema["enum"]?.arrayValue, !choices.isEmpty {
            return choices[Int(random.next() % UInt64(choices.count))]
        }
        if let options = (schema["anyOf"] ?? schema["oneOf"])?.arrayValue, let first = options.first {
            return instance(for: first, depth: depth + 1)
        }
        if let parts = schema["allOf"]?.arrayValue, !parts.isEmpty {
            return instance(for: mergeAllOf(parts), depth: depth + 1)
        }
        switch typeOf(schema) {
        case "object": return object(schema, depth: depth)
        case "array": return array(schema, depth: depth)
        case "integer": return .integer(integer(schema))
        case "number": return .double(Double(integer(schema)) + 0.5)
        case "boolean": return .bool(random.next() % 2 == 0)
        case "null": return .null
        default: return .string(string(schema))
        }
    }

    private func typeOf(_ schema: JSONValue) -> String {
        switch schema["type"] {
        case .string(let type): return type
        case .array(let types):
            return types.compactMap(\.stringValue).first { $0 != "null" } ?? "null"
        default:
            if schema["properties"] != nil || schema["required"] != nil { return "object" }
            if schema["items"] != nil || schema["prefixItems"] != nil { return "array" }
            return "string"
        }
    }

    private func mergeAllOf(_ parts: [JSONValue]) -> JSONValue {
        var properties = JSONObject()
        var required: [JSONValue] = []
        for part in parts.map(resolve) {
            for (key, value) in part["properties"]?.objectValue ?? [:] { properties[key] = value }
            required += part["required"]?.arrayValue ?? []
        }
        return ["type": "object", "properties": .object(properties), "required": .array(required)]
    }

    private mutating func object(_ schema: JSONValue, depth: Int) -> JSONValue {
        var result = JSONObject()
        let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        for (key, propertySchema) in schema["properties"]?.objectValue ?? [:] {
            result[key] = instance(for: propertySchema, depth: depth + 1)
        }
        for key in required.sorted() where result[key] == nil {
            result[key] = "value"
        }
        return .object(result)
    }

    private mutating func array(_ schema: JSONValue, depth: Int) -> JSONValue {
        var elements: [JSONValue] = []
        for itemSchema in schema["prefixItems"]?.arrayValue ?? [] {
            elements.append(instance(for: itemSchema, depth: depth + 1))
        }
        let minimum = schema["minItems"]?.intValue ?? 0
        let maximum = schema["maxItems"]?.intValue ?? max(minimum, 3)
        let target = max(minimum, min(maximum, 2 + Int(random.next() % 2)))
        if let items = schema["items"], items != .bool(false) {
            while elements.count < target { elements.append(instance(for: items, depth: depth + 1)) }
        }
        return .array(elements)
    }

    private mutating func integer(_ schema: JSONValue) -> Int {
        var low = schema["minimum"]?.doubleValue.map { Int($0.rounded(.up)) } ?? 0
        var high = schema["maximum"]?.doubleValue.map { Int($0.rounded(.down)) } ?? max(low + 100, 100)
        if let exclusive = schema["exclusiveMinimum"]?.doubleValue { low = max(low, Int(exclusive.rounded(.down)) + 1) }
        if let exclusive = schema["exclusiveMaximum"]?.doubleValue { high = min(high, Int(exclusive.rounded(.up)) - 1) }
        guard high >= low else { return low }
        var value = low + Int(random.next() % UInt64(high - low + 1))
        if let step = schema["multipleOf"]?.intValue, step > 0 {
            value = (value / step) * step
            if value < low { value += step }
        }
        return value
    }

    private mutating func string(_ schema: JSONValue) -> String {
        switch schema["format"]?.stringValue {
        case "date": return "2026-11-29"
        case "date-time": return "2026-11-29T12:00:00Z"
        case "time": return "12:00:00Z"
        case "email": return "user@example.com"
        case "uri", "url": return "https://example.com/docs"
        case "uuid":
            let hex = String(random.next(), radix: 16) + String(random.next(), radix: 16)
            let digits = Array((hex + String(repeating: "0", count: 32)).prefix(32))
            return
                "\(String(digits[0..<8]))-\(String(digits[8..<12]))-4\(String(digits[13..<16]))-a\(String(digits[17..<20]))-\(String(digits[20..<32]))"
        default: break
        }
        let minimum = schema["minLength"]?.intValue ?? 0
        let maximum = schema["maxLength"]?.intValue ?? Int.max
        var text = TextGenerator.vocabulary[Int(random.next() % UInt64(TextGenerator.vocabulary.count))]
        while text.count < minimum { text += " " + TextGenerator.vocabulary[Int(random.next() % 30)] }
        return String(text.prefix(max(minimum, min(maximum, text.count))))
    }

    private mutating func breakRequired(_ value: JSONValue, schema: JSONValue, removing: Bool) -> JSONValue {
        guard case .object(var members) = value else {
            // A non-object root: give it the wrong type.
            return value.isNumber ? "not a number" : 42
        }
        let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? Array(members.keys)
        guard !required.isEmpty else { return "not an object" }
        let key = required[Int(random.next() % UInt64(required.count))]
        if removing {
            members[key] = nil
        } else {
            members[key] = wrongType(for: members[key] ?? .null)
        }
        return .object(members)
    }

    private func wrongType(for value: JSONValue) -> JSONValue {
        switch value {
        case .string: 42
        case .integer, .double: "not a number"
        case .bool: "yes"
        case .array, .object: "text"
        case .null: "unexpected"
        }
    }
}
