import Foundation
import SwitchboardWire

/// A JSON Schema (draft 2020-12), compiled once and used to validate many instances.
///
/// Every vocabulary of the draft is applied: core (`$ref`, `$dynamicRef`, `$id`, `$anchor`,
/// `$dynamicAnchor`, `$defs`), applicator, unevaluated, validation; `format` and the content
/// keywords are annotations (not asserted), as the draft's default. References resolve within the
/// document, across its embedded resources (`$id`), and to documents given in `resources` (the
/// 2020-12 meta-schema is always known); nothing is fetched.
///
/// ```swift
/// let schema = try JSONSchema(JSONValue.parse(schemaText))
/// for violation in schema.validate(answer) { print(violation) }   // "/items/2/temp_c: expected number, got string"
/// ```
public struct JSONSchema: Sendable {
    let program: SchemaProgram

    /// Compiles `document`.
    /// - Parameters:
    ///   - baseURI: the document's URI when it has no `$id` (the default is a fixed URN).
    ///   - resources: other documents by URI, for references that leave this one.
    /// - Throws: ``SchemaError`` for a schema that cannot be used: a reference that resolves to
    ///   nothing, a pattern that is not a regular expression, a keyword of the wrong type.
    public init(_ document: JSONValue, baseURI: String? = nil, resources: [String: JSONValue] = [:])
        throws(SchemaError)
    {
        var known = resources
        if known[MetaSchema.uri] == nil { known[MetaSchema.uri] = MetaSchema.document }
        program = try SchemaCompiler.compile(document, baseURI: baseURI ?? "urn:switchboard:schema", resources: known)
    }

    /// Parses and compiles a schema's JSON text.
    public init(parsing text: String) throws(SchemaError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(Array(text.utf8))
        } catch {
            throw SchemaError(location: "", message: "the schema is not valid JSON: \(error)")
        }
        try self.init(document)
    }

    /// Every way `instance` breaks the schema, keyword by keyword (the whole value's, then its
    /// members' in order); empty when it is valid.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        var context = EvaluationContext(program: program, collecting: true)
        _ = context.evaluate(program.root, instance, annotate: false)
        return context.violations
    }

    /// Whether `instance` is valid; stops at the first violation.
    public func isValid(_ instance: JSONValue) -> Bool {
        var context = EvaluationContext(program: program, collecting: false)
        return context.evaluate(program.root, instance, annotate: false).valid
    }
}

/// One way an instance breaks a schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// Where in the instance, as a JSON Pointer (`/items/2/temp_c`; empty for the whole document).
    public var instancePath: String
    /// The keyword that failed, as a pointer into the schema (`/properties/items/items/type`).
    public var schemaPath: String
    /// What is wrong: `expected number, got string`.
    public var message: String

    public init(instancePath: String, schemaPath: String, message: String) {
        self.instancePath = instancePath
        self.schemaPath = schemaPath
        self.message = message
    }

    /// `/items/2/temp_c: expected number, got string` (`/` for the whole document).
    public var description: String { "\(instancePath.isEmpty ? "/" : instancePath): \(message)" }
}

/// A schema that cannot be compiled.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the schema, as a JSON Pointer.
    public var location: String
    public var message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}
