import OrderedCollections

/// Namespace for Anthropic Messages wire models.
public enum Anthropic {}

extension Anthropic {
    /// `POST /v1/messages` request body.
    public struct MessagesRequest: JSONRepresentable, Equatable {
        public var model: String
        /// Required by the API.
        public var maxTokens: Int
        public var messages: [Message]
        /// A string or an array of text blocks (which may carry `cache_control`).
        public var system: Content?
        /// 0–1; the provider's default is 1.
        public var temperature: Double?
        public var topP: Double?
        public var topK: Int?
        public var stopSequences: [String]?
        public var stream: Bool?
        public var tools: [Tool]?
        public var toolChoice: ToolChoice?
        public var metadata: JSONObject?
        /// 2026 API: a top-level marker applied to the last cacheable block.
        public var cacheControl: CacheControl?
        public var extra: JSONObject

        public init(
            model: String,
            maxTokens: Int,
            messages: [Message],
            system: Content? = nil,
            temperature: Double? = nil,
            stream: Bool? = nil,
            extra: JSONObject = [:]
        ) {
            self.model = model
            self.maxTokens = maxTokens
            self.messages = messages
            self.system = system
            self.temperature = temperature
            self.stream = stream
            self.extra = extra
        }

        public var isStreaming: Bool { stream ?? false }

        /// `metadata.user_id`, Anthropic's end-user identifier.
        public var metadataUserID: String? { metadata?["user_id"]?.stringValue }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            model = try reader.required("model")
            maxTokens = try reader.required("max_tokens")
            messages = try reader.required("messages")
            system = try reader.optional("system")
            temperature = try reader.optional("temperature")
            topP = try reader.optional("top_p")
            topK = try reader.optional("top_k")
            stopSequences = try reader.optional("stop_sequences")
            stream = try reader.optional("stream")
            tools = try reader.optional("tools")
            toolChoice = try reader.optional("tool_choice")
            metadata = try reader.optional("metadata")
            cacheControl = try reader.optional("cache_control")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("model", model)
            object.set("max_tokens", maxTokens)
            object.set("system", system)
            object.set("messages", messages)
            object.set("temperature", temperature)
            object.set("top_p", topP)
            object.set("top_k", topK)
            object.set("stop_sequences", stopSequences)
            object.set("stream", stream)
            object.set("tools", tools)
            object.set("tool_choice", toolChoice)
            object.set("metadata", metadata)
            object.set("cache_control", cacheControl)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// One turn: `user` or `assistant` (the 2026 API also lists `system`).
    public struct Message: JSONRepresentable, Equatable {
        public var role: String
        public var content: Content
        public var extra: JSONObject

        public init(role: String, content: Content, extra: JSONObject = [:]) {
            self.role = role
            self.content = content
            self.extra = extra
        }

        public static func user(_ text: String) -> Message { Message(role: "user", content: .text(text)) }
        public static func assistant(_ text: String) -> Message { Message(role: "assistant", content: .text(text)) }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            role = try reader.required("role")
            content = try reader.required("content")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("role", role)
            object.set("content", content)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// Content of a message or of `system`: a string or an array of blocks.
    public enum Content: JSONRepresentable, Equatable {
        case text(String)
        case blocks([ContentBlock])

        public init(json: JSONValue, at path: JSONPath) throws {
            switch json {
            case .string(let text): self = .text(text)
            case .array: self = .blocks(try [ContentBlock](json: json, at: path))
            default:
                throw WireDecodingError.typeMismatch(
                    path,
                    expected: "a string or an array of content blocks",
                    got: json
                )
            }
        }

        public var json: JSONValue {
            switch self {
            case .text(let text): .string(text)
            case .blocks(let blocks): blocks.json
            }
        }

        /// The text: the string, or the `text` blocks joined with newlines.
        public var text: String {
            switch self {
            case .text(let text): text
            case .blocks(let blocks): blocks.compactMap(\.text).joined(separator: "\n")
            }
        }

        /// The content as blocks (a string becomes one text block).
        public var blocks: [ContentBlock] {
            switch self {
            case .text(let text): [.text(text)]
            case .blocks(let blocks): blocks
            }
        }
    }

    /// A content block: `text`, `image`, `document`, `tool_use`, `tool_result`, `thinking`, … One
    /// struct for all kinds: the fields of kinds this model does not spell out stay in ``extra``.
    public struct ContentBlock: JSONRepresentable, Equatable {
        public var type: String
        /// `text` blocks.
        public var text: String?
        /// `tool_use` blocks.
        public var id: String?
        public var name: String?
        public var input: JSONValue?
        /// `tool_result` blocks.
        public var toolUseID: String?
        public var content: JSONValue?
        public var isError: Bool?
        /// `thinking` blocks.
        public var thinking: String?
        public var signature: String?
        public var cacheControl: CacheControl?
        public var extra: JSONObject

        public init(type: String, extra: JSONObject = [:]) {
            self.type = type
            self.extra = extra
        }

        public static func text(_ text: String, cacheControl: CacheControl? = nil) -> ContentBlock {
            var block = ContentBlock(type: "text")
            block.text = text
            block.cacheControl = cacheControl
            return block
        }

        public static func toolUse(id: String, name: String, input: JSONValue) -> ContentBlock {
            var block = ContentBlock(type: "tool_use")
            block.id = id
            block.name = name
            block.input = input
            return block
        }

        public static func toolResult(toolUseID: String, content: JSONValue, isError: Bool? = nil) -> ContentBlock {
            var block = ContentBlock(type: "tool_result")
            block.toolUseID = toolUseID
            block.content = content
            block.isError = isError
            return block
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            text = try reader.optional("text")
            id = try reader.optional("id")
            name = try reader.optional("name")
            input = try reader.optional("input")
            toolUseID = try reader.optional("tool_use_id")
            content = try reader.optional("content")
            isError = try reader.optional("is_error")
            thinking = try reader.optional("thinking")
            signature = try reader.optional("signature")
            cacheControl = try reader.optional("cache_control")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("text", text)
            object.set("id", id)
            object.set("name", name)
            object.set("input", input)
            object.set("tool_use_id", toolUseID)
            object.set("content", content)
            object.set("is_error", isError)
            object.set("thinking", thinking)
            object.set("signature", signature)
            object.set("cache_control", cacheControl)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `cache_control`: `{"type":"ephemeral","ttl":"5m"|"1h"}`; `ttl` defaults to `5m`.
    public struct CacheControl: JSONRepresentable, Equatable {
        public var type: String
        public var ttl: String?
        public var extra: JSONObject

        public init(type: String = "ephemeral", ttl: String? = nil) {
            self.type = type
            self.ttl = ttl
            self.extra = [:]
        }

        /// Whether the breakpoint asks for the one-hour cache.
        public var isOneHour: Bool { ttl == "1h" }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            ttl = try reader.optional("ttl")
            extra = reader.remaining()
            if let ttl, ttl != "5m", ttl != "1h" {
                throw WireDecodingError(path: path.appending("ttl"), reason: "must be '5m' or '1h', got '\(ttl)'")
            }
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("ttl", ttl)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// A tool: `{name, description, input_schema, cache_control}`, or a server tool with a `type`.
    public struct Tool: JSONRepresentable, Equatable {
        public var name: String
        public var description: String?
        public var inputSchema: JSONValue?
        /// Set for server tools (`web_search_20250305`, …); absent for custom tools.
        public var type: String?
        public var cacheControl: CacheControl?
        public var extra: JSONObject

        public init(name: String, description: String? = nil, inputSchema: JSONValue) {
            self.name = name
            self.description = description
            self.inputSchema = inputSchema
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            name = try reader.required("name")
            description = try reader.optional("description")
            inputSchema = try reader.optional("input_schema")
            type = try reader.optional("type")
            cacheControl = try reader.optional("cache_control")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("name", name)
            object.set("description", description)
            object.set("input_schema", inputSchema)
            object.set("cache_control", cacheControl)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `tool_choice`: `{"type":"auto"|"any"|"none"}` or `{"type":"tool","name":…}`.
    public struct ToolChoice: JSONRepresentable, Equatable {
        public var type: String
        public var name: String?
        public var disableParallelToolUse: Bool?
        public var extra: JSONObject

        public init(type: String, name: String? = nil) {
            self.type = type
            self.name = name
            self.extra = [:]
        }

        public static func tool(_ name: String) -> ToolChoice { ToolChoice(type: "tool", name: name) }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            name = try reader.optional("name")
            disableParallelToolUse = try reader.optional("disable_parallel_tool_use")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("name", name)
            object.set("disable_parallel_tool_use", disableParallelToolUse)
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
