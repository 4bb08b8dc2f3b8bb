import OrderedCollections

extension Anthropic {
    /// One server-sent event of a Messages stream. The SSE `event:` name equals the payload's `type`.
    ///
    /// Order on the wire: `message_start`, then per content block `content_block_start`,
    /// `content_block_delta`…, `content_block_stop`, then `message_delta` (cumulative usage) and
    /// `message_stop`. `ping` may appear anywhere; `error` ends a failed stream.
    public enum StreamEvent: JSONRepresentable, Equatable {
        case messageStart(MessageResponse)
        case contentBlockStart(index: Int, block: ContentBlock)
        case ping
        case contentBlockDelta(index: Int, delta: BlockDelta)
        case contentBlockStop(index: Int)
        case messageDelta(MessageDelta, usage: DeltaUsage)
        case messageStop
        case error(ErrorDetail)
        /// An event type this model does not know; clients must ignore it gracefully.
        case unknown(type: String, payload: JSONObject)

        /// The SSE event name, equal to the payload's `type`.
        public var name: String {
            switch self {
            case .messageStart: "message_start"
            case .contentBlockStart: "content_block_start"
            case .ping: "ping"
            case .contentBlockDelta: "content_block_delta"
            case .contentBlockStop: "content_block_stop"
            case .messageDelta: "message_delta"
            case .messageStop: "message_stop"
            case .error: "error"
            case .unknown(let type, _): type
            }
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            let type = try reader.required("type", as: String.self)
            switch type {
            case "message_start":
                self = .messageStart(try reader.required("message"))
            case "content_block_start":
                self = .contentBlockStart(
                    index: try reader.required("index"),
                    block: try reader.required("content_block")
                )
            case "ping":
                self = .ping
            case "content_block_delta":
                self = .contentBlockDelta(index: try reader.required("index"), delta: try reader.required("delta"))
            case "content_block_stop":
                self = .contentBlockStop(index: try reader.required("index"))
            case "message_delta":
                self = .messageDelta(
                    try reader.required("delta"),
                    usage: try reader.optional("usage") ?? DeltaUsage(outputTokens: 0)
                )
            case "message_stop":
                self = .messageStop
            case "error":
                self = .error(try reader.required("error"))
            default:
                self = .unknown(type: type, payload: reader.object)
            }
        }

        public var json: JSONValue {
            var object = JSONObject()
            object["type"] = .string(name)
            switch self {
            case .messageStart(let message):
                object.set("message", message)
            case .contentBlockStart(let index, let block):
                object.set("index", index)
                object.set("content_block", block)
            case .ping, .messageStop:
                break
            case .contentBlockDelta(let index, let delta):
                object.set("index", index)
                object.set("delta", delta)
            case .contentBlockStop(let index):
                object.set("index", index)
            case .messageDelta(let delta, let usage):
                object.set("delta", delta)
                object.set("usage", usage)
            case .error(let detail):
                object.set("error", detail)
            case .unknown(_, let payload):
                object.merge(extra: payload)
            }
            return .object(object)
        }
    }

    /// The delta of a `content_block_delta`: `text_delta{text}`, `input_json_delta{partial_json}`,
    /// `thinking_delta{thinking}`, `signature_delta{signature}`, `citations_delta{…}`.
    public struct BlockDelta: JSONRepresentable, Equatable {
        public var type: String
        public var text: String?
        public var partialJSON: String?
        public var thinking: String?
        public var signature: String?
        public var extra: JSONObject

        public init(type: String) {
            self.type = type
            self.extra = [:]
        }

        public static func text(_ text: String) -> BlockDelta {
            var delta = BlockDelta(type: "text_delta")
            delta.text = text
            return delta
        }

        public static func inputJSON(_ partialJSON: String) -> BlockDelta {
            var delta = BlockDelta(type: "input_json_delta")
            delta.partialJSON = partialJSON
            return delta
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            text = try reader.optional("text")
            partialJSON = try reader.optional("partial_json")
            thinking = try reader.optional("thinking")
            signature = try reader.optional("signature")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("text", text)
            object.set("partial_json", partialJSON)
            object.set("thinking", thinking)
            object.set("signature", signature)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The `delta` of a `message_delta`: the stop reason and matched stop sequence.
    public struct MessageDelta: JSONRepresentable, Equatable {
        public var stopReason: String?
        public var stopSequence: String?
        public var extra: JSONObject

        public init(stopReason: String?, stopSequence: String? = nil) {
            self.stopReason = stopReason
            self.stopSequence = stopSequence
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            stopReason = try reader.optional("stop_reason")
            stopSequence = try reader.optional("stop_sequence")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.setOrNull("stop_reason", stopReason)
            object.setOrNull("stop_sequence", stopSequence)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The cumulative `usage` of a `message_delta`: output tokens always, input and cache figures in
    /// newer streams.
    public struct DeltaUsage: JSONRepresentable, Equatable {
        public var inputTokens: Int?
        public var cacheCreationInputTokens: Int?
        public var cacheReadInputTokens: Int?
        public var outputTokens: Int
        public var extra: JSONObject

        public init(
            inputTokens: Int? = nil,
            cacheCreationInputTokens: Int? = nil,
            cacheReadInputTokens: Int? = nil,
            outputTokens: Int
        ) {
            self.inputTokens = inputTokens
            self.cacheCreationInputTokens = cacheCreationInputTokens
            self.cacheReadInputTokens = cacheReadInputTokens
            self.outputTokens = outputTokens
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            inputTokens = try reader.optional("input_tokens")
            cacheCreationInputTokens = try reader.optional("cache_creation_input_tokens")
            cacheReadInputTokens = try reader.optional("cache_read_input_tokens")
            outputTokens = try reader.optional("output_tokens") ?? 0
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("input_tokens", inputTokens)
            object.set("cache_creation_input_tokens", cacheCreationInputTokens)
            object.set("cache_read_input_tokens", cacheReadInputTokens)
            object.set("output_tokens", outputTokens)
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
