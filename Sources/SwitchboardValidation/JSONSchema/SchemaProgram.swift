import Foundation
import SwitchboardWire

/// A compiled schema: every subschema reached from the root (and through references) as a node,
/// its keywords checked and turned into instructions once.
final class SchemaProgram: Sendable {
    let nodes: [SchemaNode]
    let resources: [SchemaResource]
    let root: Int

    init(nodes: [SchemaNode], resources: [SchemaResource], root: Int) {
        self.nodes = nodes
        self.resources = resources
        self.root = root
    }
}

/// A schema resource: a document or a subschema with its own `$id`.
struct SchemaResource: Sendable {
    var uri: String
    /// `$dynamicAnchor` names → their nodes, for `$dynamicRef`'s dynamic scope.
    var dynamicAnchors: [String: Int]
}

struct SchemaNode: Sendable {
    enum Body: Sendable {
        /// `true` or `false` as a schema.
        case always(Bool)
        case keywords([Keyword])
    }

    var body: Body
    var resource: Int
    /// Where the subschema is, for messages: its resource's URI and a JSON Pointer.
    var location: String
    /// It has `unevaluatedProperties` or `unevaluatedItems`, so its in-place subschemas must report
    /// what they evaluated.
    var needsAnnotations: Bool
}

/// The JSON types of the `type` keyword, as bits.
struct TypeSet: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = TypeSet(rawValue: 1)
    static let boolean = TypeSet(rawValue: 2)
    static let object = TypeSet(rawValue: 4)
    static let array = TypeSet(rawValue: 8)
    static let number = TypeSet(rawValue: 16)
    static let string = TypeSet(rawValue: 32)
    static let integer = TypeSet(rawValue: 64)

    static let names: [(String, TypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("object", .object), ("array", .array), ("number", .number),
        ("string", .string), ("integer", .integer),
    ]

    func admits(_ value: JSONValue) -> Bool {
        switch value {
        case .null: contains(.null)
        case .bool: contains(.boolean)
        case .object: contains(.object)
        case .array: contains(.array)
        case .string: contains(.string)
        case .integer: contains(.number) || contains(.integer)
        case .double(let number):
            contains(.number) || (contains(.integer) && number.isFinite && number.rounded() == number)
        }
    }

    var description: String {
        let names = Self.names.filter { contains($0.1) }.map(\.0)
        return names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// Member names with their nodes: scanned when few (faster than hashing short strings), hashed
/// when many.
struct NameTable: Sendable {
    static let scanLimit = 12
    let names: [String]
    let nodes: [Int]
    private let index: [String: Int]?

    init(_ pairs: [(String, Int)]) {
        names = pairs.map(\.0)
        nodes = pairs.map(\.1)
        index = pairs.count > Self.scanLimit ? Dictionary(pairs, uniquingKeysWith: { first, _ in first }) : nil
    }

    func lookup(_ name: String) -> Int? {
        if let index { return index[name] }
        for position in names.indices where names[position] == name { return nodes[position] }
        return nil
    }
}

/// A regular expression of a schema (`pattern`, `patternProperties`), compiled once.
final class SchemaPattern: @unchecked Sendable {
    // NSRegularExpression is immutable once made and safe to use from several threads.
    let source: String
    private let expression: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        self.expression = try NSRegularExpression(pattern: source)
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// One keyword, ready to check.
enum Keyword: Sendable {
    case ref(Int)
    /// The statically resolved target, and the anchor name when the target is a `$dynamicAnchor`.
    case dynamicRef(Int, anchor: String?)
    case type(TypeSet)
    case enumeration([JSONValue])
    case constant(JSONValue)
    case multipleOf(Double)
    case maximum(Double)
    case exclusiveMaximum(Double)
    case minimum(Double)
    case exclusiveMinimum(Double)
    case maxLength(Int)
    case minLength(Int)
    case pattern(SchemaPattern)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case contains(Int, minimum: Int, maximum: Int?)
    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case dependentRequired([(String, [String])])
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case dependentSchemas([(String, Int)])
    case prefixItems([Int])
    /// `items`: the schema for items after the first `after` (those `prefixItems` covers).
    case items(Int, after: Int)
    case properties(NameTable)
    case patternProperties([(SchemaPattern, Int)])
    case additionalProperties(Int, named: NameTable, patterns: [SchemaPattern])
    case propertyNames(Int)
    case unevaluatedItems(Int)
    case unevaluatedProperties(Int)

    /// The keyword's name, for the schema path of a violation.
    var name: String {
        switch self {
        case .ref: "$ref"
        case .dynamicRef: "$dynamicRef"
        case .type: "type"
        case .enumeration: "enum"
        case .constant: "const"
        case .multipleOf: "multipleOf"
        case .maximum: "maximum"
        case .exclusiveMaximum: "exclusiveMaximum"
        case .minimum: "minimum"
        case .exclusiveMinimum: "exclusiveMinimum"
        case .maxLength: "maxLength"
        case .minLength: "minLength"
        case .pattern: "pattern"
        case .maxItems: "maxItems"
        case .minItems: "minItems"
        case .uniqueItems: "uniqueItems"
        case .contains: "contains"
        case .maxProperties: "maxProperties"
        case .minProperties: "minProperties"
        case .required: "required"
        case .dependentRequired: "dependentRequired"
        case .allOf: "allOf"
        case .anyOf: "anyOf"
        case .oneOf: "oneOf"
        case .not: "not"
        case .conditional: "if"
        case .dependentSchemas: "dependentSchemas"
        case .prefixItems: "prefixItems"
        case .items: "items"
        case .properties: "properties"
        case .patternProperties: "patternProperties"
        case .additionalProperties: "additionalProperties"
        case .propertyNames: "propertyNames"
        case .unevaluatedItems: "unevaluatedItems"
        case .unevaluatedProperties: "unevaluatedProperties"
        }
    }
}
