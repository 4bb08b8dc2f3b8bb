import Foundation
import SwitchboardJournal
import SwitchboardWire

/// A journaled request, ready to be sent again through a pipeline: `switchboard replay` and the
/// console's "replay" action.
public enum ReplayRequest: Sendable {
    case openAI(OpenAI.ChatCompletionRequest)
    case anthropic(Anthropic.MessagesRequest)

    /// Reads a journaled request body.
    /// - Parameter format: the caller's format; `nil` tells it from the body (see ``guessFormat(_:)``).
    /// - Throws: ``SwitchboardError`` saying why the body cannot be replayed.
    public init(journaled body: String?, format: APIFormat? = nil) throws(SwitchboardError) {
        guard let body, !body.isEmpty else {
            throw SwitchboardError(
                .notFound,
                "the journal holds no request body for this call (journal.store_bodies: none when it was made); only calls journaled with bodies can be replayed"
            )
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(body)
        } catch {
            throw SwitchboardError(.badRequest, "the journaled request body is not JSON: \(error)")
        }
        do {
            switch format ?? Self.guessFormat(json) {
            case .openAI: self = .openAI(try OpenAI.ChatCompletionRequest(json: json))
            case .anthropic: self = .anthropic(try Anthropic.MessagesRequest(json: json))
            }
        } catch {
            throw SwitchboardError(
                .badRequest,
                "the journaled request body is not a valid request: \(error); pass --format openai or --format anthropic if it was guessed wrong"
            )
        }
    }

    /// The caller's format, told from the body: Anthropic has top-level `system`, `stop_sequences`,
    /// `top_k`, `thinking`, content blocks such as `tool_use`, tools with `input_schema`; OpenAI has
    /// `max_completion_tokens`, `stream_options`, `response_format`, `n`, system, developer or tool
    /// roles in `messages`, `function` tools. A body with none of these is Anthropic when it has
    /// `max_tokens` (which Anthropic requires), else OpenAI.
    public static func guessFormat(_ body: JSONValue) -> APIFormat {
        let anthropicKeys = ["system", "stop_sequences", "top_k", "thinking", "anthropic_version"]
        let openAIKeys = [
            "max_completion_tokens", "stream_options", "response_format", "n", "logprobs", "seed",
            "frequency_penalty", "presence_penalty", "user", "parallel_tool_calls", "reasoning_effort",
        ]
        if anthropicKeys.contains(where: { body[$0] != nil }) { return .anthropic }
        if openAIKeys.contains(where: { body[$0] != nil }) { return .openAI }
        let messages = body["messages"]?.arrayValue ?? []
        let roles = Set(messages.compactMap { $0["role"]?.stringValue })
        if !roles.isDisjoint(with: ["system", "developer", "tool", "function"]) { return .openAI }
        let blockTypes = Set(
            messages.flatMap { $0["content"]?.arrayValue ?? [] }.compactMap { $0["type"]?.stringValue }
        )
        if !blockTypes.isDisjoint(with: ["tool_use", "tool_result", "document", "thinking"]) { return .anthropic }
        if !blockTypes.isDisjoint(with: ["image_url", "input_audio", "file"]) { return .openAI }
        if let tools = body["tools"]?.arrayValue, let first = tools.first {
            return first["input_schema"] != nil ? .anthropic : .openAI
        }
        return body["max_tokens"] != nil ? .anthropic : .openAI
    }

    public var format: APIFormat {
        switch self {
        case .openAI: .openAI
        case .anthropic: .anthropic
        }
    }

    /// The model or route the request names.
    public var model: String {
        switch self {
        case .openAI(let request): request.model
        case .anthropic(let request): request.model
        }
    }

    /// The same request sent to another route or model.
    public func routed(to model: String) -> ReplayRequest {
        switch self {
        case .openAI(var request):
            request.model = model
            return .openAI(request)
        case .anthropic(var request):
            request.model = model
            return .anthropic(request)
        }
    }
}

extension Pipeline {
    /// Sends a journaled request again, as a stream when `stream` is true (so a streamed call is
    /// replayed as one), and returns the answer's text.
    /// - Throws: what ``chat(_:context:)`` and ``stream(_:context:)`` throw.
    public func replay(_ request: ReplayRequest, stream: Bool, context: CallContext) async throws -> String {
        switch (request, stream) {
        case (.openAI(let request), false):
            return try await chat(request, context: context).choices.first?.message.content?.text ?? ""
        case (.openAI(let request), true):
            var text = ""
            for try await chunk in self.stream(request, context: context) {
                text += chunk.choices.first?.delta.content ?? ""
            }
            return text
        case (.anthropic(let request), false):
            return try await chat(request, context: context).text
        case (.anthropic(let request), true):
            var text = ""
            for try await event in self.stream(request, context: context) {
                if case .contentBlockDelta(_, let delta) = event { text += delta.text ?? "" }
            }
            return text
        }
    }
}
