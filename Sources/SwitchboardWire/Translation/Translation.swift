import Foundation

/// OpenAI ⇄ Anthropic translation, so a route can fall back across providers while the caller's
/// SDK always sees its own format.
///
/// Requests carry what both APIs share: system prompts, user / assistant / tool turns, images,
/// tools and tool choice, the output ceiling, stop sequences, sampling and the end-user id.
/// Structured output (`response_format`) becomes a forced tool whose input schema is the
/// requested schema, and the tool's input comes back as the message content. Fields with no
/// counterpart (`logit_bias`, `top_k`, …) are dropped, not guessed.
public enum Translation {
    /// What a translated request needs to translate its answer back.
    public struct Plan: Sendable, Equatable {
        /// The forced tool standing in for `response_format`, whose input is the answer's content.
        public var structuredOutputTool: String?
        /// The model the caller asked for, echoed in the answer.
        public var requestedModel: String

        public init(structuredOutputTool: String? = nil, requestedModel: String) {
            self.structuredOutputTool = structuredOutputTool
            self.requestedModel = requestedModel
        }
    }

    /// A request that cannot be expressed in the other provider's format.
    public struct Unsupported: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var reason: String
        public var description: String { "\(field): \(reason)" }
    }

    /// The Anthropic output ceiling when an OpenAI request sets none (Anthropic requires one).
    public static let defaultMaxTokens = 4096

    // MARK: - Stop reasons

    static func openAIFinishReason(_ stopReason: String?, structured: Bool) -> String? {
        switch stopReason {
        case nil: nil
        case "end_turn", "stop_sequence", "pause_turn": "stop"
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": structured ? "stop" : "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// Anthropic's stop reason for a finish reason of either provider (Anthropic's own pass through).
    public static func anthropicStopReason(_ finishReason: String?) -> String? {
        switch finishReason {
        case nil: nil
        case "end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "pause_turn": finishReason
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }

    // MARK: - Usage

    /// Anthropic usage as OpenAI reports it: cache reads and writes are part of `prompt_tokens`.
    public static func openAIUsage(_ usage: Anthropic.Usage) -> OpenAI.Usage {
        let read = usage.cacheReadInputTokens ?? 0
        let written = usage.cacheCreationInputTokens ?? 0
        return OpenAI.Usage(
            promptTokens: usage.inputTokens + read + written,
            completionTokens: usage.outputTokens,
            promptTokensDetails: OpenAI.PromptTokensDetails(
                cachedTokens: read,
                cacheWriteTokens: written > 0 ? written : nil
            ),
            completionTokensDetails: OpenAI.CompletionTokensDetails(reasoningTokens: 0)
        )
    }

    /// OpenAI usage as Anthropic reports it: `input_tokens` excludes the cached part.
    public static func anthropicUsage(_ usage: OpenAI.Usage) -> Anthropic.Usage {
        let cached = usage.cachedTokens
        let written = usage.promptTokensDetails?.cacheWriteTokens ?? 0
        return Anthropic.Usage(
            inputTokens: max(0, usage.promptTokens - cached - written),
            cacheCreationInputTokens: written,
            cacheReadInputTokens: cached,
            outputTokens: usage.completionTokens
        )
    }

    // MARK: - Content helpers

    /// An OpenAI image part as an Anthropic image block: data URLs become base64 sources.
    static func anthropicImage(_ part: OpenAI.ContentPart) -> Anthropic.ContentBlock? {
        guard let url = part.extra["image_url"]?["url"]?.stringValue else { return nil }
        var block = Anthropic.ContentBlock(type: "image")
        if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
            block.extra["source"] = [
                "type": "base64", "media_type": .string(mediaType),
                "data": .string(String(url[url.index(after: comma)...])),
            ]
        } else {
            block.extra["source"] = ["type": "url", "url": .string(url)]
        }
        return block
    }

    /// An Anthropic image block as an OpenAI image part.
    static func openAIImage(_ block: Anthropic.ContentBlock) -> OpenAI.ContentPart? {
        guard let source = block.extra["source"] else { return nil }
        let url: String
        switch source["type"]?.stringValue {
        case "url": url = source["url"]?.stringValue ?? ""
        case "base64":
            url = "data:\(source["media_type"]?.stringValue ?? "image/png");base64,\(source["data"]?.stringValue ?? "")"
        default: return nil
        }
        return OpenAI.ContentPart(type: "image_url", extra: ["image_url": ["url": .string(url)]])
    }

    /// Tool-call arguments as a JSON value: parsed when they are JSON, kept as a string otherwise.
    static func arguments(_ text: String) -> JSONValue {
        guard !text.isEmpty else { return [:] }
        return (try? JSONValue.parse(text)) ?? ["arguments": .string(text)]
    }

    /// The text of an Anthropic `tool_result` content (a string or text blocks).
    static func toolResultText(_ content: JSONValue?) -> String {
        switch content {
        case .string(let text): text
        case .array(let blocks): blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        case nil, .null: ""
        default: content!.serialized()
        }
    }
}
