import OrderedCollections

extension OpenAI {
    /// `POST /v1/chat/completions` request body.
    ///
    /// The fields Switchboard reads or changes are typed; everything else (`logit_bias`,
    /// `reasoning_effort`, `modalities`, fields newer than this model) stays in ``extra`` and is
    /// forwarded unchanged.
    public struct ChatCompletionRequest: JSONRepresentable, Equatable {
        public var model: String
        public var messages: [ChatMessage]
        /// 0–2; the provider's default is 1.
        public var temperature: Double?
        public var topP: Double?
        /// Deprecated by OpenAI in favour of ``maxCompletionTokens``; both are accepted.
        public var maxTokens: Int?
        public var maxCompletionTokens: Int?
        public var n: Int?
        public var stream: Bool?
        public var streamOptions: StreamOptions?
        /// `stop` as sent: a string is read as a one-element list.
        public var stop: [String]?
        public var seed: Int?
        public var responseFormat: ResponseFormat?
        public var tools: [Tool]?
        public var toolChoice: ToolChoice?
        public var parallelToolCalls: Bool?
        /// Deprecated by OpenAI in favour of ``safetyIdentifier`` and ``promptCacheKey``.
        public var user: String?
        public var safetyIdentifier: String?
        public var promptCacheKey: String?
        public var presencePenalty: Double?
        public var frequencyPenalty: Double?
        public var metadata: JSONObject?
        public var extra: JSONObject

        public init(
            model: String,
            messages: [ChatMessage],
            temperature: Double? = nil,
            maxCompletionTokens: Int? = nil,
            stream: Bool? = nil,
            extra: JSONObject = [:]
        ) {
            self.model = model
            self.messages = messages
            self.temperature = temperature
            self.maxCompletionTokens = maxCompletionTokens
            self.stream = stream
            self.extra = extra
        }

        /// The output-token ceiling the caller asked for: `max_completion_tokens`, else `max_tokens`.
        public var requestedMaxOutputTokens: Int? { maxCompletionTokens ?? maxTokens }

        /// Whether the response is a stream of chunks.
        public var isStreaming: Bool { stream ?? false }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            model = try reader.required("model")
            messages = try reader.required("messages")
            temperature = try reader.optional("temperature")
            topP = try reader.optional("top_p")
            maxTokens = try reader.optional("max_tokens")
            maxCompletionTokens = try reader.optional("max_completion_tokens")
            n = try reader.optional("n")
            stream = try reader.optional("stream")
            streamOptions = try reader.optional("stream_options")
            stop = try reader.optional("stop", as: StopSequences.self)?.values
            seed = try reader.optional("seed")
            responseFormat = try reader.optional("response_format")
            tools = try reader.optional("tools")
            toolChoice = try reader.optional("tool_choice")
            parallelToolCalls = try reader.optional("parallel_tool_calls")
            user = try reader.optional("user")
            safetyIdentifier = try reader.optional("safety_identifier")
            promptCacheKey = try reader.optional("prompt_cache_key")
            presencePenalty = try reader.optional("presence_penalty")
            frequencyPenalty = try reader.optional("frequency_penalty")
            metadata = try reader.optional("metadata")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("model", model)
            object.set("messages", messages)
            object.set("temperature", temperature)
            object.set("top_p", topP)
            object.set("max_tokens", maxTokens)
            object.set("max_completion_tokens", maxCompletionTokens)
            object.set("n", n)
            object.set("stream", stream)
            object.set("stream_options", streamOptions)
            object.set("stop", stop)
            object.set("seed", seed)
            object.set("response_format", responseFormat)
            object.set("tools", tools)
            object.set("tool_choice", toolChoice)
            object.set("parallel_tool_calls", parallelToolCalls)
            object.set("user", user)
            object.set("safety_identifier", safetyIdentifier)
            object.set("prompt_cache_key", promptCacheKey)
            object.set("presence_penalty", presencePenalty)
            object.set("frequency_penalty", frequencyPenalty)
            object.set("metadata", metadata)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `stream_options`: only meaningful with `stream: true`.
    public struct StreamOptions: JSONRepresentable, Equatable {
        /// Ask for a last chunk with `usage` and `choices: []` before `[DONE]`.
        public var includeUsage: Bool?
        public var extra: JSONObject

        public init(includeUsage: Bool? = nil, extra: JSONObject = [:]) {
            self.includeUsage = includeUsage
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            includeUsage = try reader.optional("include_usage")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("include_usage", includeUsage)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `stop` accepts a string or an array of up to 4 strings.
    struct StopSequences: JSONRepresentable {
        var values: [String]

        init(json: JSONValue, at path: JSONPath) throws {
            switch json {
            case .string(let value): values = [value]
            case .array: values = try [String](json: json, at: path)
            default: throw WireDecodingError.typeMismatch(path, expected: "a string or an array of strings", got: json)
            }
        }

        var json: JSONValue { values.json }
    }

    /// `response_format`: `text`, `json_object`, or `json_schema` with a schema.
    public struct ResponseFormat: JSONRepresentable, Equatable {
        public var type: String
        public var jsonSchema: JSONSchemaFormat?
        public var extra: JSONObject

        public init(type: String, jsonSchema: JSONSchemaFormat? = nil, extra: JSONObject = [:]) {
            self.type = type
            self.jsonSchema = jsonSchema
            self.extra = extra
        }

        public static let text = ResponseFormat(type: "text")
        public static let jsonObject = ResponseFormat(type: "json_object")
        public static func jsonSchema(name: String, schema: JSONValue, strict: Bool? = true) -> ResponseFormat {
            ResponseFormat(
                type: "json_schema",
                jsonSchema: JSONSchemaFormat(name: name, schema: schema, strict: strict)
            )
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            jsonSchema = try reader.optional("json_schema")
            extra = reader.remaining()
            if type == "json_schema", jsonSchema == nil {
                throw WireDecodingError(
                    path: path.appending("json_schema"),
                    reason: "is required when type is json_schema"
                )
            }
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("json_schema", jsonSchema)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `response_format.json_schema`.
    public struct JSONSchemaFormat: JSONRepresentable, Equatable {
        /// a-z, A-Z, 0-9, `_` or `-`, at most 64 characters.
        public var name: String
        public var description: String?
        public var schema: JSONValue?
        public var strict: Bool?
        public var extra: JSONObject

        public init(
            name: String,
            description: String? = nil,
            schema: JSONValue?,
            strict: Bool? = nil,
            extra: JSONObject = [:]
        ) {
            self.name = name
            self.description = description
            self.schema = schema
            self.strict = strict
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            name = try reader.required("name")
            description = try reader.optional("description")
            schema = try reader.optional("schema")
            strict = try reader.optional("strict")
            extra = reader.remaining()
            let allowed = name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
            guard allowed, !name.isEmpty, name.utf8.count <= 64 else {
                throw WireDecodingError(
                    path: path.appending("name"),
                    reason: "must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'"
                )
            }
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("name", name)
            object.set("description", description)
            object.set("schema", schema)
            object.set("strict", strict)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// A tool the model may call: `{"type":"function","function":{name, description, parameters, strict}}`.
    public struct Tool: JSONRepresentable, Equatable {
        public var type: String
        public var function: FunctionDefinition?
        public var extra: JSONObject

        public init(function: FunctionDefinition) {
            self.type = "function"
            self.function = function
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            function = try reader.optional("function")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("function", function)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The declaration of a callable function.
    public struct FunctionDefinition: JSONRepresentable, Equatable {
        public var name: String
        public var description: String?
        /// A JSON Schema for the arguments.
        public var parameters: JSONValue?
        public var strict: Bool?
        public var extra: JSONObject

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil, strict: Bool? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
            self.strict = strict
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            name = try reader.required("name")
            description = try reader.optional("description")
            parameters = try reader.optional("parameters")
            strict = try reader.optional("strict")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("name", name)
            object.set("description", description)
            object.set("parameters", parameters)
            object.set("strict", strict)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `tool_choice`: `none`, `auto`, `required`, or one named function.
    public enum ToolChoice: JSONRepresentable, Equatable {
        /// `"none"`: the model must not call a tool.
        case noTools
        case auto
        case required
        case function(String)
        /// A form this model does not interpret (e.g. `allowed_tools`), forwarded as is.
        case other(JSONValue)

        public init(json: JSONValue, at path: JSONPath) throws {
            switch json {
            case .string("none"): self = .noTools
            case .string("auto"): self = .auto
            case .string("required"): self = .required
            case .string(let other):
                throw WireDecodingError(
                    path: path,
                    reason: "must be 'none', 'auto', 'required' or an object, got '\(other)'"
                )
            case .object:
                if json["type"]?.stringValue == "function", let name = json["function"]?["name"]?.stringValue {
                    self = .function(name)
                } else {
                    self = .other(json)
                }
            default:
                throw WireDecodingError.typeMismatch(path, expected: "a string or an object", got: json)
            }
        }

        public var json: JSONValue {
            switch self {
            case .noTools: "none"
            case .auto: "auto"
            case .required: "required"
            case .function(let name): ["type": "function", "function": ["name": .string(name)]]
            case .other(let value): value
            }
        }
    }
}
