import OrderedCollections

/// A location inside a JSON document, written `messages[2].content` for people and
/// `/messages/2/content` (RFC 6901) for tools.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath { JSONPath(components + [.key(key)]) }
    public func appending(_ index: Int) -> JSONPath { JSONPath(components + [.index(index)]) }

    /// `messages[2].content`; empty for the root.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    /// RFC 6901 JSON Pointer: `/messages/2/content`; empty for the root.
    public var pointer: String {
        components.map { component in
            switch component {
            case .key(let key):
                "/"
                    + key.flatMap { character -> [Character] in
                        switch character {
                        case "~": ["~", "0"]
                        case "/": ["~", "1"]
                        default: [character]
                        }
                    }.map(String.init).joined()
            case .index(let index): "/\(index)"
            }
        }.joined()
    }
}

/// A request or response body that does not have the shape a wire model expects.
///
/// The message names the field and what was wrong, so that it can go back to a caller as is:
/// `messages[2].content: expected a string or an array, got integer`.
public struct WireDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is; the root for a body that is not JSON at all.
    public var path: JSONPath
    /// What is wrong, without the path.
    public var reason: String

    public init(path: JSONPath, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.components.isEmpty ? reason : "\(path): \(reason)" }

    static func typeMismatch(_ path: JSONPath, expected: String, got value: JSONValue) -> WireDecodingError {
        WireDecodingError(path: path, reason: "expected \(expected), got \(value.typeName)")
    }
}

/// A value with a JSON form: the wire models and the scalar types they are built from.
///
/// Wire models decode with ``JSONObjectReader``, which keeps every member the model does not know
/// in an `extra` object, and encode known members in the provider's order followed by `extra`. So a
/// field a newer SDK sends passes through the gateway untouched.
public protocol JSONRepresentable: Sendable {
    /// Decodes the value found at `path`, throwing ``WireDecodingError`` with that path on a mismatch.
    init(json: JSONValue, at path: JSONPath) throws
    /// The JSON form of the value.
    var json: JSONValue { get }
}

extension JSONRepresentable {
    /// Decodes a value from the root of a document.
    public init(json: JSONValue) throws {
        try self.init(json: json, at: .root)
    }

    /// Parses and decodes UTF-8 JSON text.
    /// - Throws: ``WireDecodingError``; a syntax error is reported at the root with its line and column.
    public init(parsing bytes: some Collection<UInt8>) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw WireDecodingError(path: .root, reason: "the body is not valid JSON: \(error)")
        }
        try self.init(json: value, at: .root)
    }

    /// Compact JSON text, members in the provider's order.
    public func serialized(_ options: JSONWriteOptions = []) -> String { json.serialized(options) }

    /// Compact UTF-8 JSON bytes, members in the provider's order.
    public func serializedBytes(_ options: JSONWriteOptions = []) -> [UInt8] { json.serializedBytes(options) }
}

extension JSONValue: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws { self = json }
    public var json: JSONValue { self }
}

extension String: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard case .string(let value) = json else {
            throw WireDecodingError.typeMismatch(path, expected: "a string", got: json)
        }
        self = value
    }
    public var json: JSONValue { .string(self) }
}

extension Int: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard let value = json.intValue else {
            throw WireDecodingError.typeMismatch(path, expected: "an integer", got: json)
        }
        self = value
    }
    public var json: JSONValue { .integer(self) }
}

extension Double: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard let value = json.doubleValue else {
            throw WireDecodingError.typeMismatch(path, expected: "a number", got: json)
        }
        self = value
    }
    /// Integral values are written as integers, as the providers do (`"temperature": 0`).
    public var json: JSONValue {
        if rounded() == self, abs(self) < 9.0e15 { return .integer(Int(self)) }
        return .double(self)
    }
}

extension Bool: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard case .bool(let value) = json else {
            throw WireDecodingError.typeMismatch(path, expected: "a boolean", got: json)
        }
        self = value
    }
    public var json: JSONValue { .bool(self) }
}

extension Array: JSONRepresentable where Element: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard case .array(let elements) = json else {
            throw WireDecodingError.typeMismatch(path, expected: "an array", got: json)
        }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try Element(json: element, at: path.appending(index)))
        }
        self = result
    }
    public var json: JSONValue { .array(map(\.json)) }
}

extension OrderedDictionary: JSONRepresentable where Key == String, Value: JSONRepresentable {
    public init(json: JSONValue, at path: JSONPath) throws {
        guard case .object(let members) = json else {
            throw WireDecodingError.typeMismatch(path, expected: "an object", got: json)
        }
        var result = OrderedDictionary<String, Value>()
        for (key, member) in members {
            result[key] = try Value(json: member, at: path.appending(key))
        }
        self = result
    }
    public var json: JSONValue { .object(JSONObject(uniqueKeysWithValues: map { ($0.key, $0.value.json) })) }
}

/// A field that can be absent, explicitly `null`, or a value. Used as `Nullable<T>?` where the
/// providers write an explicit `null` that a faithful copy must keep (`"refusal": null`).
public enum Nullable<Wrapped: JSONRepresentable>: JSONRepresentable {
    case null
    case value(Wrapped)

    public init(json: JSONValue, at path: JSONPath) throws {
        self = json.isNull ? .null : .value(try Wrapped(json: json, at: path))
    }

    public var json: JSONValue {
        switch self {
        case .null: .null
        case .value(let wrapped): wrapped.json
        }
    }

    /// The value, or `nil` for `null`.
    public var value: Wrapped? {
        if case .value(let wrapped) = self { return wrapped }
        return nil
    }
}

extension Nullable: Equatable where Wrapped: Equatable {}
extension Nullable: Hashable where Wrapped: Hashable {}

/// Reads the members of one JSON object into a wire model, remembering which members it used so
/// that the rest can be kept as the model's `extra`.
public struct JSONObjectReader {
    /// Where the object is in the document.
    public let path: JSONPath
    /// The object being read.
    public let object: JSONObject
    private var consumed: [String] = []

    /// - Throws: ``WireDecodingError`` when `value` is not an object.
    public init(_ value: JSONValue, at path: JSONPath) throws {
        guard case .object(let object) = value else {
            throw WireDecodingError.typeMismatch(path, expected: "an object", got: value)
        }
        self.object = object
        self.path = path
    }

    /// A member that must be present and not null.
    public mutating func required<T: JSONRepresentable>(_ key: String, as type: T.Type = T.self) throws -> T {
        consumed.append(key)
        guard let member = object[key], !member.isNull else {
            throw WireDecodingError(path: path.appending(key), reason: "is required")
        }
        return try T(json: member, at: path.appending(key))
    }

    /// A member that may be absent or null; both read as `nil`.
    public mutating func optional<T: JSONRepresentable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        consumed.append(key)
        guard let member = object[key], !member.isNull else { return nil }
        return try T(json: member, at: path.appending(key))
    }

    /// A member whose explicit `null` is kept: absent → `nil`, `null` → `.null`.
    public mutating func nullable<T: JSONRepresentable>(_ key: String, as type: T.Type = T.self) throws -> Nullable<T>?
    {
        consumed.append(key)
        guard let member = object[key] else { return nil }
        return try Nullable<T>(json: member, at: path.appending(key))
    }

    /// The members no `required`, `optional` or `nullable` call asked for, in document order.
    public func remaining() -> JSONObject {
        object.filter { !consumed.contains($0.key) }
    }
}

extension OrderedDictionary where Key == String, Value == JSONValue {
    /// Sets `key` to `value`'s JSON form, or leaves it out when `value` is `nil`.
    public mutating func set(_ key: String, _ value: (some JSONRepresentable)?) {
        if let value { self[key] = value.json }
    }

    /// Sets `key` to `value`'s JSON form, or to an explicit `null` when `value` is `nil`.
    public mutating func setOrNull(_ key: String, _ value: (some JSONRepresentable)?) {
        self[key] = value?.json ?? .null
    }

    /// Appends the members of `extra` that are not already set.
    public mutating func merge(extra: JSONObject) {
        for (key, value) in extra where self[key] == nil {
            self[key] = value
        }
    }
}
