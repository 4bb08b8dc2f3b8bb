import OrderedCollections

extension Anthropic {
    /// A response message (`type: "message"`), also the payload of `message_start`.
    public struct MessageResponse: JSONRepresentable, Equatable {
        /// `msg_…`.
        public var id: String
        public var type: String
        public var role: String
        public var content: [ContentBlock]
        public var model: String
        /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`,
        /// `model_context_window_exceeded`; `null` in `message_start`.
        public var stopReason: String?
        public var stopSequence: String?
        public var usage: Usage
        public var extra: JSONObject

        public init(
            id: String,
            content: [ContentBlock],
            model: String,
            stopReason: String?,
            stopSequence: String? = nil,
            usage: Usage,
            extra: JSONObject = [:]
        ) {
            self.id = id
            self.type = "message"
            self.role = "assistant"
            self.content = content
            self.model = model
            self.stopReason = stopReason
            self.stopSequence = stopSequence
            self.usage = usage
            self.extra = extra
        }

        /// The text blocks joined.
        public var text: String { content.compactMap(\.text).joined() }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            id = try reader.required("id")
            type = try reader.optional("type") ?? "message"
            role = try reader.optional("role") ?? "assistant"
            content = try reader.optional("content") ?? []
            model = try reader.optional("model") ?? ""
            stopReason = try reader.optional("stop_reason")
            stopSequence = try reader.optional("stop_sequence")
            usage = try reader.optional("usage") ?? Usage(inputTokens: 0, outputTokens: 0)
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("id", id)
            object.set("type", type)
            object.set("role", role)
            object.set("content", content)
            object.set("model", model)
            object.setOrNull("stop_reason", stopReason)
            object.setOrNull("stop_sequence", stopSequence)
            object.set("usage", usage)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// Token usage.
    ///
    /// `input_tokens` counts only the tokens after the last cache breakpoint: total input is
    /// `input_tokens + cache_creation_input_tokens + cache_read_input_tokens`.
    public struct Usage: JSONRepresentable, Equatable {
        public var inputTokens: Int
        public var cacheCreationInputTokens: Int?
        public var cacheReadInputTokens: Int?
        /// Cache writes by TTL.
        public var cacheCreation: CacheCreation?
        public var outputTokens: Int
        public var serviceTier: String?
        public var extra: JSONObject

        public init(
            inputTokens: Int,
            cacheCreationInputTokens: Int? = nil,
            cacheReadInputTokens: Int? = nil,
            cacheCreation: CacheCreation? = nil,
            outputTokens: Int,
            serviceTier: String? = nil,
            extra: JSONObject = [:]
        ) {
            self.inputTokens = inputTokens
            self.cacheCreationInputTokens = cacheCreationInputTokens
            self.cacheReadInputTokens = cacheReadInputTokens
            self.cacheCreation = cacheCreation
            self.outputTokens = outputTokens
            self.serviceTier = serviceTier
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            inputTokens = try reader.optional("input_tokens") ?? 0
            cacheCreationInputTokens = try reader.optional("cache_creation_input_tokens")
            cacheReadInputTokens = try reader.optional("cache_read_input_tokens")
            cacheCreation = try reader.optional("cache_creation")
            outputTokens = try reader.optional("output_tokens") ?? 0
            serviceTier = try reader.optional("service_tier")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("input_tokens", inputTokens)
            object.set("cache_creation_input_tokens", cacheCreationInputTokens)
            object.set("cache_read_input_tokens", cacheReadInputTokens)
            object.set("cache_creation", cacheCreation)
            object.set("output_tokens", outputTokens)
            object.set("service_tier", serviceTier)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `usage.cache_creation`: cache writes split by TTL.
    public struct CacheCreation: JSONRepresentable, Equatable {
        public var ephemeral5mInputTokens: Int
        public var ephemeral1hInputTokens: Int
        public var extra: JSONObject

        public init(ephemeral5mInputTokens: Int, ephemeral1hInputTokens: Int) {
            self.ephemeral5mInputTokens = ephemeral5mInputTokens
            self.ephemeral1hInputTokens = ephemeral1hInputTokens
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            ephemeral5mInputTokens = try reader.optional("ephemeral_5m_input_tokens") ?? 0
            ephemeral1hInputTokens = try reader.optional("ephemeral_1h_input_tokens") ?? 0
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("ephemeral_5m_input_tokens", ephemeral5mInputTokens)
            object.set("ephemeral_1h_input_tokens", ephemeral1hInputTokens)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// An error body: `{"type":"error","error":{"type","message"},"request_id"?}`.
    public struct ErrorBody: JSONRepresentable, Equatable, Error {
        public var error: ErrorDetail
        public var requestID: String?
        public var extra: JSONObject

        public init(type: String, message: String, requestID: String? = nil) {
            self.error = ErrorDetail(type: type, message: message)
            self.requestID = requestID
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            _ = try reader.optional("type", as: String.self)
            error = try reader.required("error")
            requestID = try reader.optional("request_id")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object["type"] = "error"
            object.set("error", error)
            object.set("request_id", requestID)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The inner `error` object: `{"type":"overloaded_error","message":"Overloaded"}`.
    public struct ErrorDetail: JSONRepresentable, Equatable {
        public var type: String
        public var message: String
        public var extra: JSONObject

        public init(type: String, message: String) {
            self.type = type
            self.message = message
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            message = try reader.optional("message") ?? ""
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("message", message)
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
