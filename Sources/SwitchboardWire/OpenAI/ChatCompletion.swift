import OrderedCollections

extension OpenAI {
    /// A whole (non-streaming) chat completion: `object: "chat.completion"`.
    public struct ChatCompletion: JSONRepresentable, Equatable {
        public var id: String
        public var object: String
        /// Unix seconds.
        public var created: Int
        public var model: String
        public var choices: [Choice]
        public var usage: Usage?
        public var serviceTier: String?
        public var systemFingerprint: String?
        public var extra: JSONObject

        public init(
            id: String,
            created: Int,
            model: String,
            choices: [Choice],
            usage: Usage?,
            serviceTier: String? = nil,
            systemFingerprint: String? = nil,
            extra: JSONObject = [:]
        ) {
            self.id = id
            self.object = "chat.completion"
            self.created = created
            self.model = model
            self.choices = choices
            self.usage = usage
            self.serviceTier = serviceTier
            self.systemFingerprint = systemFingerprint
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            id = try reader.required("id")
            object = try reader.optional("object") ?? "chat.completion"
            created = try reader.optional("created") ?? 0
            model = try reader.required("model")
            choices = try reader.required("choices")
            usage = try reader.optional("usage")
            serviceTier = try reader.optional("service_tier")
            systemFingerprint = try reader.optional("system_fingerprint")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("id", id)
            object.set("object", self.object)
            object.set("created", created)
            object.set("model", model)
            object.set("choices", choices)
            object.set("usage", usage)
            object.set("service_tier", serviceTier)
            object.set("system_fingerprint", systemFingerprint)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// One choice of a ``ChatCompletion``.
    public struct Choice: JSONRepresentable, Equatable {
        public var index: Int
        public var message: ChatMessage
        /// `null` unless logprobs were requested.
        public var logprobs: JSONValue?
        /// `stop`, `length`, `tool_calls`, `content_filter` or `function_call`.
        public var finishReason: String?
        public var extra: JSONObject

        public init(
            index: Int,
            message: ChatMessage,
            finishReason: String?,
            logprobs: JSONValue? = nil,
            extra: JSONObject = [:]
        ) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
            self.logprobs = logprobs
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            index = try reader.optional("index") ?? 0
            message = try reader.required("message")
            logprobs = try reader.optional("logprobs")
            finishReason = try reader.optional("finish_reason")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("index", index)
            object.set("message", message)
            object.setOrNull("logprobs", logprobs)
            object.setOrNull("finish_reason", finishReason)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// One `chat.completion.chunk` of a stream.
    ///
    /// With `stream_options.include_usage`, the last chunk before `[DONE]` has `choices: []` and the
    /// `usage` of the whole request; the other chunks have `usage: null`, or no `usage` key at all
    /// (both occur on the wire).
    public struct ChatCompletionChunk: JSONRepresentable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var model: String
        public var serviceTier: String?
        public var systemFingerprint: String?
        public var choices: [ChunkChoice]
        /// Absent, explicit `null`, or the usage of the whole request (last chunk only).
        public var usage: Nullable<Usage>?
        public var extra: JSONObject

        public init(
            id: String,
            created: Int,
            model: String,
            systemFingerprint: String? = nil,
            choices: [ChunkChoice],
            usage: Nullable<Usage>? = nil,
            extra: JSONObject = [:]
        ) {
            self.id = id
            self.object = "chat.completion.chunk"
            self.created = created
            self.model = model
            self.systemFingerprint = systemFingerprint
            self.choices = choices
            self.usage = usage
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            id = try reader.required("id")
            object = try reader.optional("object") ?? "chat.completion.chunk"
            created = try reader.optional("created") ?? 0
            model = try reader.optional("model") ?? ""
            serviceTier = try reader.optional("service_tier")
            systemFingerprint = try reader.optional("system_fingerprint")
            choices = try reader.optional("choices") ?? []
            usage = try reader.nullable("usage")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("id", id)
            object.set("object", self.object)
            object.set("created", created)
            object.set("model", model)
            object.set("service_tier", serviceTier)
            object.set("system_fingerprint", systemFingerprint)
            object.set("choices", choices)
            object.set("usage", usage)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// One choice of a ``ChatCompletionChunk``.
    public struct ChunkChoice: JSONRepresentable, Equatable {
        public var index: Int
        public var delta: ChunkDelta
        public var logprobs: JSONValue?
        /// `null` until the last delta of the choice.
        public var finishReason: String?
        public var extra: JSONObject

        public init(index: Int = 0, delta: ChunkDelta, finishReason: String? = nil, extra: JSONObject = [:]) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            index = try reader.optional("index") ?? 0
            delta = try reader.optional("delta") ?? ChunkDelta()
            logprobs = try reader.optional("logprobs")
            finishReason = try reader.optional("finish_reason")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("index", index)
            object.set("delta", delta)
            object.setOrNull("logprobs", logprobs)
            object.setOrNull("finish_reason", finishReason)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// What a chunk adds to a choice: the role (first chunk), content text, or tool-call fragments.
    public struct ChunkDelta: JSONRepresentable, Equatable {
        public var role: String?
        public var content: String?
        /// The first chunk carries an explicit `"refusal": null`.
        public var refusal: Nullable<String>?
        public var toolCalls: [ToolCallDelta]?
        public var extra: JSONObject

        public init(
            role: String? = nil,
            content: String? = nil,
            refusal: Nullable<String>? = nil,
            toolCalls: [ToolCallDelta]? = nil,
            extra: JSONObject = [:]
        ) {
            self.role = role
            self.content = content
            self.refusal = refusal
            self.toolCalls = toolCalls
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            role = try reader.optional("role")
            content = try reader.optional("content")
            refusal = try reader.nullable("refusal")
            toolCalls = try reader.optional("tool_calls")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("role", role)
            object.set("content", content)
            object.set("refusal", refusal)
            object.set("tool_calls", toolCalls)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// A fragment of a tool call in a stream; `index` says which call it extends.
    public struct ToolCallDelta: JSONRepresentable, Equatable {
        public var index: Int
        public var id: String?
        public var type: String?
        public var name: String?
        public var arguments: String?
        public var extra: JSONObject

        public init(index: Int, id: String? = nil, type: String? = nil, name: String? = nil, arguments: String? = nil) {
            self.index = index
            self.id = id
            self.type = type
            self.name = name
            self.arguments = arguments
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            index = try reader.optional("index") ?? 0
            id = try reader.optional("id")
            type = try reader.optional("type")
            let function = try reader.optional("function", as: JSONValue.self)
            name = function?["name"]?.stringValue
            arguments = function?["arguments"]?.stringValue
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("index", index)
            object.set("id", id)
            object.set("type", type)
            if name != nil || arguments != nil {
                var function = JSONObject()
                function.set("name", name)
                function.set("arguments", arguments)
                object["function"] = .object(function)
            }
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
