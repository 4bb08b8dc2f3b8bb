import Foundation
import SwitchboardWire

/// What a model answered, as validators see it, whichever provider format it came in.
public struct ModelOutput: Sendable, Equatable {
    /// A tool call in the answer: OpenAI's function call or Anthropic's `tool_use` block.
    public struct ToolCall: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The input as the model wrote it (OpenAI sends it as JSON text).
        public var arguments: String
        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// The answer's text (every text part, in order).
    public var text: String
    public var toolCalls: [ToolCall]

    public init(text: String, toolCalls: [ToolCall] = []) {
        self.text = text
        self.toolCalls = toolCalls
    }
}

/// What an answer may be checked against: the request's own context (system prompt, documents and
/// earlier messages, not the answer) and the configured knowledge.
public struct ValidationContext: Sendable {
    public var sources: [String]

    public init(sources: [String]) {
        self.sources = sources
    }
}

/// One problem a validator found in an answer.
public struct Violation: Sendable, Equatable, CustomStringConvertible {
    /// Which validator: `schema`, `json`, `tool:NAME`, `code:LANGUAGE`, `grounding`, or a custom name.
    public var validator: String
    /// Where: a JSON Pointer into the answer (`/items/2/temp_c`), a code block (`block 2`), empty
    /// for the whole answer.
    public var location: String
    public var message: String
    /// The text at fault, when there is one (an unsupported number, a name).
    public var span: String?

    public init(validator: String, location: String = "", message: String, span: String? = nil) {
        self.validator = validator
        self.location = location
        self.message = message
        self.span = span
    }

    /// `schema /items/2/temp_c: expected number, got string`.
    public var description: String {
        location.isEmpty ? "\(validator): \(message)" : "\(validator) \(location): \(message)"
    }

    public var json: JSONValue {
        var object: JSONObject = ["validator": .string(validator), "message": .string(message)]
        if !location.isEmpty { object["location"] = .string(location) }
        if let span { object["span"] = .string(span) }
        return .object(object)
    }
}

/// A check of a model's answer. Conform to add your own and pass it to the pipeline
/// (`Pipeline(…, validators: [MyCheck()])`); a route lists it by `name` in `validate.custom`.
public protocol OutputValidator: Sendable {
    /// How the configuration and the journal name this validator.
    var name: String { get }
    /// Every problem in `output`; empty when it passes.
    func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation]
}

/// The answer's text is JSON that satisfies a schema (structured output, a route's schema).
public struct SchemaOutputValidator: OutputValidator {
    public let name = "schema"
    public let schema: JSONSchema
    /// Only require JSON (any object), as `response_format: json_object` does.
    public let objectOnly: Bool

    public init(schema: JSONSchema) {
        self.schema = schema
        self.objectOnly = false
    }

    private init(objectOnly: Bool) {
        self.schema = try! JSONSchema(.object(["type": "object"]))
        self.objectOnly = objectOnly
    }

    /// The answer must be a JSON object (OpenAI's `json_object` mode).
    public static let jsonObject = SchemaOutputValidator(objectOnly: true)

    public func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation] {
        guard let value = Self.parseJSON(output.text, validator: objectOnly ? "json" : name) else {
            return [
                Violation(
                    validator: objectOnly ? "json" : name,
                    message: "the answer is not JSON: \(Self.preview(output.text))"
                )
            ]
        }
        return schema.validate(value).map {
            Violation(validator: objectOnly ? "json" : name, location: $0.instancePath, message: $0.message)
        }
    }

    /// The answer as JSON: the whole text, or the one fenced ```json block it consists of.
    static func parseJSON(_ text: String, validator: String) -> JSONValue? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let value = try? JSONValue.parse(Array(trimmed.utf8)) { return value }
        let blocks = CodeBlocks.extract(trimmed)
        if blocks.count == 1, ["json", ""].contains(blocks[0].language),
            trimmed.hasPrefix("```"), trimmed.hasSuffix("```")
        {
            return try? JSONValue.parse(Array(blocks[0].code.utf8))
        }
        return nil
    }

    static func preview(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return "\"" + (line.count > 80 ? String(line.prefix(77)) + "…" : line) + "\""
    }
}

/// Each tool call's input satisfies its tool's schema (Anthropic `input_schema`, OpenAI
/// `parameters`).
public struct ToolInputValidator: OutputValidator {
    public let name = "tools"
    public let schemas: [String: JSONSchema]

    public init(schemas: [String: JSONSchema]) {
        self.schemas = schemas
    }

    public func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation] {
        var found: [Violation] = []
        for call in output.toolCalls {
            let validator = "tool:\(call.name)"
            guard let schema = schemas[call.name] else {
                found.append(
                    Violation(validator: validator, message: "the model called a tool the request does not declare")
                )
                continue
            }
            guard let input = try? JSONValue.parse(Array(call.arguments.utf8)) else {
                found.append(
                    Violation(
                        validator: validator,
                        message: "the arguments are not JSON: \(SchemaOutputValidator.preview(call.arguments))"
                    )
                )
                continue
            }
            found += schema.validate(input).map {
                Violation(validator: validator, location: $0.instancePath, message: $0.message)
            }
        }
        return found
    }
}
