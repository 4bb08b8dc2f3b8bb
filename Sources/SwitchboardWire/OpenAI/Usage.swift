import OrderedCollections

extension OpenAI {
    /// Token usage of a chat completion.
    ///
    /// `cached_tokens` are a *subset* of `prompt_tokens`: uncached input is
    /// `prompt_tokens - cached_tokens`. Reasoning tokens are part of `completion_tokens`. Every
    /// detail object and key is optional on the wire.
    public struct Usage: JSONRepresentable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int
        public var promptTokensDetails: PromptTokensDetails?
        public var completionTokensDetails: CompletionTokensDetails?
        public var extra: JSONObject

        public init(
            promptTokens: Int,
            completionTokens: Int,
            promptTokensDetails: PromptTokensDetails? = nil,
            completionTokensDetails: CompletionTokensDetails? = nil,
            extra: JSONObject = [:]
        ) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = promptTokens + completionTokens
            self.promptTokensDetails = promptTokensDetails
            self.completionTokensDetails = completionTokensDetails
            self.extra = extra
        }

        /// Prompt tokens read from the provider's prompt cache (0 when not reported).
        public var cachedTokens: Int { promptTokensDetails?.cachedTokens ?? 0 }
        /// Completion tokens spent on reasoning (0 when not reported).
        public var reasoningTokens: Int { completionTokensDetails?.reasoningTokens ?? 0 }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            promptTokens = try reader.optional("prompt_tokens") ?? 0
            completionTokens = try reader.optional("completion_tokens") ?? 0
            totalTokens = try reader.optional("total_tokens") ?? (promptTokens + completionTokens)
            promptTokensDetails = try reader.optional("prompt_tokens_details")
            completionTokensDetails = try reader.optional("completion_tokens_details")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("prompt_tokens", promptTokens)
            object.set("completion_tokens", completionTokens)
            object.set("total_tokens", totalTokens)
            object.set("prompt_tokens_details", promptTokensDetails)
            object.set("completion_tokens_details", completionTokensDetails)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `usage.prompt_tokens_details`.
    public struct PromptTokensDetails: JSONRepresentable, Equatable {
        public var cachedTokens: Int?
        public var audioTokens: Int?
        /// GPT-5.6 and later: prompt tokens written to the cache (billed at 1.25× input).
        public var cacheWriteTokens: Int?
        public var extra: JSONObject

        public init(
            cachedTokens: Int? = nil,
            audioTokens: Int? = nil,
            cacheWriteTokens: Int? = nil,
            extra: JSONObject = [:]
        ) {
            self.cachedTokens = cachedTokens
            self.audioTokens = audioTokens
            self.cacheWriteTokens = cacheWriteTokens
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            cachedTokens = try reader.optional("cached_tokens")
            audioTokens = try reader.optional("audio_tokens")
            cacheWriteTokens = try reader.optional("cache_write_tokens")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("cached_tokens", cachedTokens)
            object.set("audio_tokens", audioTokens)
            object.set("cache_write_tokens", cacheWriteTokens)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `usage.completion_tokens_details`.
    public struct CompletionTokensDetails: JSONRepresentable, Equatable {
        public var reasoningTokens: Int?
        public var audioTokens: Int?
        public var acceptedPredictionTokens: Int?
        public var rejectedPredictionTokens: Int?
        public var extra: JSONObject

        public init(
            reasoningTokens: Int? = nil,
            audioTokens: Int? = nil,
            acceptedPredictionTokens: Int? = nil,
            rejectedPredictionTokens: Int? = nil,
            extra: JSONObject = [:]
        ) {
            self.reasoningTokens = reasoningTokens
            self.audioTokens = audioTokens
            self.acceptedPredictionTokens = acceptedPredictionTokens
            self.rejectedPredictionTokens = rejectedPredictionTokens
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            reasoningTokens = try reader.optional("reasoning_tokens")
            audioTokens = try reader.optional("audio_tokens")
            acceptedPredictionTokens = try reader.optional("accepted_prediction_tokens")
            rejectedPredictionTokens = try reader.optional("rejected_prediction_tokens")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("reasoning_tokens", reasoningTokens)
            object.set("audio_tokens", audioTokens)
            object.set("accepted_prediction_tokens", acceptedPredictionTokens)
            object.set("rejected_prediction_tokens", rejectedPredictionTokens)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// An error body: `{"error":{"message","type","param","code"}}`. All four keys are always
    /// written; `param` and `code` may be `null`.
    public struct ErrorBody: JSONRepresentable, Equatable, Error {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?
        /// Members of the inner `error` object this model does not know.
        public var extra: JSONObject

        public init(message: String, type: String, param: String? = nil, code: String? = nil, extra: JSONObject = [:]) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var outer = try JSONObjectReader(json, at: path)
            let inner = try outer.required("error", as: JSONValue.self)
            var reader = try JSONObjectReader(inner, at: path.appending("error"))
            message = try reader.optional("message") ?? ""
            type = try reader.optional("type") ?? ""
            param = try reader.optional("param")
            code = try reader.optional("code")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var inner = JSONObject()
            inner.set("message", message)
            inner.set("type", type)
            inner.setOrNull("param", param)
            inner.setOrNull("code", code)
            inner.merge(extra: extra)
            return ["error": .object(inner)]
        }
    }
}
