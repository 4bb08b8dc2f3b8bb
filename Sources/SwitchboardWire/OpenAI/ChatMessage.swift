import OrderedCollections

/// Namespace for OpenAI Chat Completions and moderation wire models.
public enum OpenAI {}

extension OpenAI {
    /// One message of a chat: `developer`, `system`, `user`, `assistant`, `tool` (or the deprecated
    /// `function`).
    public struct ChatMessage: JSONRepresentable, Equatable {
        public var role: String
        /// Text or content parts; `nil` for an assistant message that only calls tools.
        public var content: ChatContent?
        public var name: String?
        public var toolCalls: [ToolCall]?
        /// For `tool` messages: the call this message answers.
        public var toolCallID: String?
        /// Members this model does not know (`refusal`, `audio`, `annotations`, …), kept as sent.
        public var extra: JSONObject

        public init(
            role: String,
            content: ChatContent?,
            name: String? = nil,
            toolCalls: [ToolCall]? = nil,
            toolCallID: String? = nil,
            extra: JSONObject = [:]
        ) {
            self.role = role
            self.content = content
            self.name = name
            self.toolCalls = toolCalls
            self.toolCallID = toolCallID
            self.extra = extra
        }

        public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: .text(text)) }
        public static func developer(_ text: String) -> ChatMessage {
            ChatMessage(role: "developer", content: .text(text))
        }
        public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: .text(text)) }
        public static func assistant(_ text: String) -> ChatMessage {
            ChatMessage(role: "assistant", content: .text(text))
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            role = try reader.required("role")
            content = try reader.optional("content")
            name = try reader.optional("name")
            toolCalls = try reader.optional("tool_calls")
            toolCallID = try reader.optional("tool_call_id")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("role", role)
            if let content {
                object["content"] = content.json
            } else if role == "assistant" {
                object["content"] = .null
            }
            object.set("name", name)
            object.set("tool_calls", toolCalls)
            object.set("tool_call_id", toolCallID)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// Message content: a plain string or an array of parts (text, images, audio, files).
    public enum ChatContent: JSONRepresentable, Equatable {
        case text(String)
        case parts([ContentPart])

        public init(json: JSONValue, at path: JSONPath) throws {
            switch json {
            case .string(let text): self = .text(text)
            case .array: self = .parts(try [ContentPart](json: json, at: path))
            default:
                throw WireDecodingError.typeMismatch(path, expected: "a string or an array of content parts", got: json)
            }
        }

        public var json: JSONValue {
            switch self {
            case .text(let text): .string(text)
            case .parts(let parts): parts.json
            }
        }

        /// The text of the content: the string, or the text parts joined with newlines.
        public var text: String {
            switch self {
            case .text(let text): text
            case .parts(let parts): parts.compactMap(\.text).joined(separator: "\n")
            }
        }
    }

    /// A content part: `{"type":"text","text":…}`, `{"type":"image_url","image_url":{…}}`, and so on.
    public struct ContentPart: JSONRepresentable, Equatable {
        public var type: String
        public var text: String?
        public var extra: JSONObject

        public init(type: String, text: String? = nil, extra: JSONObject = [:]) {
            self.type = type
            self.text = text
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            type = try reader.required("type")
            text = try reader.optional("text")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("type", type)
            object.set("text", text)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// A function call made by the assistant.
    public struct ToolCall: JSONRepresentable, Equatable {
        public var id: String
        public var type: String
        public var function: FunctionCall
        public var extra: JSONObject

        public init(id: String, type: String = "function", function: FunctionCall, extra: JSONObject = [:]) {
            self.id = id
            self.type = type
            self.function = function
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            id = try reader.required("id")
            type = try reader.optional("type") ?? "function"
            function = try reader.required("function")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("id", id)
            object.set("type", type)
            object.set("function", function)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The function and its arguments (a JSON text, as the model produced it) of a ``ToolCall``.
    public struct FunctionCall: JSONRepresentable, Equatable {
        public var name: String
        public var arguments: String
        public var extra: JSONObject

        public init(name: String, arguments: String, extra: JSONObject = [:]) {
            self.name = name
            self.arguments = arguments
            self.extra = extra
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            name = try reader.required("name")
            arguments = try reader.optional("arguments") ?? ""
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("name", name)
            object.set("arguments", arguments)
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
