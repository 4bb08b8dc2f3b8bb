import Foundation
import SwitchboardJournal
import SwitchboardWire

/// A provider's whole answer, in the provider's format.
enum UpstreamAnswer: Sendable {
    case openAI(OpenAI.ChatCompletion)
    case anthropic(Anthropic.MessageResponse)
}

/// One event of a provider's stream, in the provider's format.
enum UpstreamEvent: Sendable {
    case openAI(OpenAI.ChatCompletionChunk)
    /// OpenAI's `data: [DONE]`.
    case openAIDone
    case anthropic(Anthropic.StreamEvent)
}

/// The API a caller speaks: how its requests are estimated and sent to a target of either format,
/// and how the target's answer comes back in the caller's format. The pipeline is generic over it.
protocol Dialect: SendableMetatype {
    associatedtype Request: JSONRepresentable
    associatedtype Response: JSONRepresentable
    associatedtype Event: JSONRepresentable
    associatedtype Translator: EventTranslating where Translator.Event == Event

    static var format: APIFormat { get }
    static func model(of request: Request) -> String
    /// Whether the request has any message (both providers refuse one without).
    static func hasMessages(_ request: Request) -> Bool
    static func isStreaming(_ request: Request) -> Bool
    static func estimate(_ request: Request, defaultMaxOutput: Int) -> TokenEstimate
    /// The caller's last message, for full-text search.
    static func lastUserText(_ request: Request) -> String
    /// Everything the user wrote in the request (not the system prompt), for moderation.
    static func userText(_ request: Request) -> String
    /// The body to send to a target speaking `format`, and the plan for translating back.
    static func upstreamBody(_ request: Request, to format: APIFormat, model: String, stream: Bool) throws(Translation
        .Unsupported)
        -> (body: JSONValue, plan: Translation.Plan)
    static func response(from answer: UpstreamAnswer, plan: Translation.Plan, created: Int) -> Response
    static func translator(from format: APIFormat, plan: Translation.Plan, request: Request, created: Int) -> Translator
    /// The event that ends a stream; it is held back until the call is journaled.
    static func isTerminal(_ event: Event) -> Bool
    /// The output ceiling the request asks for, if any.
    static func maxOutput(of request: Request) -> Int?
    /// Sets the output ceiling.
    static func setMaxOutput(_ request: inout Request, to tokens: Int)
    /// Temperature 0 or a seed: the same request should get the same answer.
    static func isDeterministic(_ request: Request) -> Bool
    /// A whole answer as the upstream answer it would have been.
    static func answer(_ response: Response) -> UpstreamAnswer
}

extension Dialect {
    /// A whole answer as the caller's stream events (a streaming cache hit).
    static func replay(_ response: Response, request: Request, created: Int) -> [Event] {
        let message: Anthropic.MessageResponse
        switch answer(response) {
        case .anthropic(let anthropic): message = anthropic
        case .openAI(let completion):
            message = Translation.anthropicMessage(
                from: completion,
                plan: Translation.Plan(requestedModel: completion.model)
            )
        }
        var translator = translator(
            from: .anthropic,
            plan: Translation.Plan(requestedModel: model(of: request)),
            request: request,
            created: created
        )
        var events: [Event] = []
        for event in StreamReplay.events(of: message) { events += translator.translate(.anthropic(event)) }
        return events + translator.finish()
    }

    /// A streamed text answer as a whole one, to cache; `nil` when it used tools (whose calls a
    /// tally does not keep).
    static func response(from tally: AnswerTally, request: Request, requestID: String, created: Int) -> Response? {
        guard !tally.usedTools, tally.complete || tally.finishReason != nil else { return nil }
        let message = Anthropic.MessageResponse(
            id: "msg_" + requestID.replacingOccurrences(of: "req_", with: ""),
            content: [.text(tally.text)],
            model: tally.model ?? model(of: request),
            stopReason: Translation.anthropicStopReason(tally.finishReason),
            usage: Anthropic.Usage(inputTokens: tally.tokens.input, outputTokens: tally.tokens.output)
        )
        return response(
            from: .anthropic(message),
            plan: Translation.Plan(requestedModel: model(of: request)),
            created: created
        )
    }
}

/// Turns a provider's stream events into the caller's.
protocol EventTranslating: Sendable {
    associatedtype Event
    mutating func translate(_ event: UpstreamEvent) -> [Event]
    /// Closing events once the provider's stream has ended.
    mutating func finish() -> [Event]
}

// MARK: - OpenAI callers

enum OpenAIDialect: Dialect {
    typealias Request = OpenAI.ChatCompletionRequest
    typealias Response = OpenAI.ChatCompletion
    typealias Event = OpenAI.ChatCompletionChunk

    static var format: APIFormat { .openAI }
    static func model(of request: Request) -> String { request.model }
    static func hasMessages(_ request: Request) -> Bool { !request.messages.isEmpty }
    static func isStreaming(_ request: Request) -> Bool { request.isStreaming }
    static func maxOutput(of request: Request) -> Int? { request.requestedMaxOutputTokens }
    static func isDeterministic(_ request: Request) -> Bool { request.temperature == 0 || request.seed != nil }
    static func answer(_ response: Response) -> UpstreamAnswer { .openAI(response) }

    static func setMaxOutput(_ request: inout Request, to tokens: Int) {
        // Keep the caller's spelling: `max_tokens` stays `max_tokens`.
        if request.maxCompletionTokens == nil, request.maxTokens != nil {
            request.maxTokens = tokens
        } else {
            request.maxCompletionTokens = tokens
        }
    }

    static func estimate(_ request: Request, defaultMaxOutput: Int) -> TokenEstimate {
        TokenEstimate(request, defaultMaxOutput: defaultMaxOutput)
    }

    static func lastUserText(_ request: Request) -> String {
        request.messages.last { $0.role == "user" }?.content?.text ?? ""
    }

    static func userText(_ request: Request) -> String {
        request.messages.filter { $0.role == "user" }.compactMap { $0.content?.text }.joined(separator: "\n")
    }

    static func upstreamBody(_ request: Request, to format: APIFormat, model: String, stream: Bool) throws(Translation
        .Unsupported)
        -> (body: JSONValue, plan: Translation.Plan)
    {
        switch format {
        case .openAI:
            var upstream = request
            upstream.model = model
            if stream {
                // Always ask for usage, so the journal has it; the caller sees it only if it asked.
                var options = upstream.streamOptions ?? OpenAI.StreamOptions()
                options.includeUsage = true
                upstream.streamOptions = options
            }
            return (upstream.json, Translation.Plan(requestedModel: request.model))
        case .anthropic:
            var (upstream, plan) = try Translation.anthropicRequest(from: request, model: model)
            upstream.stream = stream ? true : nil
            return (upstream.json, plan)
        }
    }

    static func response(from answer: UpstreamAnswer, plan: Translation.Plan, created: Int) -> Response {
        switch answer {
        case .openAI(let completion): completion
        case .anthropic(let message): Translation.openAICompletion(from: message, plan: plan, created: created)
        }
    }

    static func translator(from format: APIFormat, plan: Translation.Plan, request: Request, created: Int)
        -> ToOpenAIEvents
    {
        let includeUsage = request.streamOptions?.includeUsage ?? false
        return ToOpenAIEvents(
            fromAnthropic: format == .anthropic
                ? AnthropicToOpenAIStream(plan: plan, includeUsage: includeUsage, created: created) : nil,
            includeUsage: includeUsage
        )
    }

    static func isTerminal(_ event: Event) -> Bool { false }
}

struct ToOpenAIEvents: EventTranslating {
    var fromAnthropic: AnthropicToOpenAIStream?
    /// The caller asked for the usage chunk (`stream_options.include_usage`).
    let includeUsage: Bool

    mutating func translate(_ event: UpstreamEvent) -> [OpenAI.ChatCompletionChunk] {
        switch event {
        case .openAI(var chunk):
            if !includeUsage {
                if chunk.choices.isEmpty, chunk.usage != nil { return [] }
                chunk.usage = nil
            }
            return [chunk]
        case .openAIDone:
            return []
        case .anthropic(let event):
            guard fromAnthropic != nil else { return [] }
            return fromAnthropic!.translate(event).compactMap { item in
                if case .chunk(let chunk) = item { return chunk }
                return nil
            }
        }
    }

    mutating func finish() -> [OpenAI.ChatCompletionChunk] { [] }
}

// MARK: - Anthropic callers

enum AnthropicDialect: Dialect {
    typealias Request = Anthropic.MessagesRequest
    typealias Response = Anthropic.MessageResponse
    typealias Event = Anthropic.StreamEvent

    static var format: APIFormat { .anthropic }
    static func model(of request: Request) -> String { request.model }
    static func hasMessages(_ request: Request) -> Bool { !request.messages.isEmpty }
    static func isStreaming(_ request: Request) -> Bool { request.isStreaming }
    static func maxOutput(of request: Request) -> Int? { request.maxTokens }
    static func isDeterministic(_ request: Request) -> Bool { request.temperature == 0 }
    static func answer(_ response: Response) -> UpstreamAnswer { .anthropic(response) }
    static func setMaxOutput(_ request: inout Request, to tokens: Int) { request.maxTokens = tokens }

    static func estimate(_ request: Request, defaultMaxOutput: Int) -> TokenEstimate { TokenEstimate(request) }

    static func lastUserText(_ request: Request) -> String {
        request.messages.last { $0.role == "user" }?.content.text ?? ""
    }

    static func userText(_ request: Request) -> String {
        request.messages.filter { $0.role == "user" }.map(\.content.text).joined(separator: "\n")
    }

    static func upstreamBody(_ request: Request, to format: APIFormat, model: String, stream: Bool) throws(Translation
        .Unsupported)
        -> (body: JSONValue, plan: Translation.Plan)
    {
        switch format {
        case .anthropic:
            var upstream = request
            upstream.model = model
            return (upstream.json, Translation.Plan(requestedModel: request.model))
        case .openAI:
            var (upstream, plan) = Translation.openAIRequest(from: request, model: model)
            upstream.stream = stream ? true : nil
            if stream { upstream.streamOptions = OpenAI.StreamOptions(includeUsage: true) }
            return (upstream.json, plan)
        }
    }

    static func response(from answer: UpstreamAnswer, plan: Translation.Plan, created: Int) -> Response {
        switch answer {
        case .anthropic(let message): message
        case .openAI(let completion): Translation.anthropicMessage(from: completion, plan: plan)
        }
    }

    static func translator(from format: APIFormat, plan: Translation.Plan, request: Request, created: Int)
        -> ToAnthropicEvents
    {
        ToAnthropicEvents(fromOpenAI: format == .openAI ? OpenAIToAnthropicStream(plan: plan) : nil)
    }

    static func isTerminal(_ event: Event) -> Bool {
        if case .messageStop = event { return true }
        return false
    }
}

struct ToAnthropicEvents: EventTranslating {
    var fromOpenAI: OpenAIToAnthropicStream?

    mutating func translate(_ event: UpstreamEvent) -> [Anthropic.StreamEvent] {
        switch event {
        case .anthropic(let event): return [event]
        case .openAI(let chunk): return fromOpenAI?.translate(chunk) ?? []
        case .openAIDone: return fromOpenAI?.finish() ?? []
        }
    }

    mutating func finish() -> [Anthropic.StreamEvent] { fromOpenAI?.finish() ?? [] }
}

// MARK: - What an answer said

/// What the pipeline learns from a provider's answer or stream, whatever its format: the text (for
/// search), the usage, the model that answered, and whether the first token and the end arrived.
struct AnswerTally: Sendable {
    var text = ""
    var tokens = TokenCounts()
    var usageReported = false
    var model: String?
    var finishReason: String?
    /// A token (text, tool input, or the end of the answer) has arrived.
    var sawToken = false
    /// The stream's last event has arrived.
    var complete = false
    /// The answer called tools.
    var usedTools = false

    /// Some of the answer has arrived: its first event, a token or its usage.
    var began: Bool { model != nil || sawToken || usageReported }

    init() {}

    init(_ answer: UpstreamAnswer) {
        switch answer {
        case .openAI(let completion):
            text = completion.choices.first?.message.content?.text ?? ""
            for call in completion.choices.first?.message.toolCalls ?? [] { text += call.function.arguments }
            model = completion.model
            finishReason = completion.choices.first?.finishReason
            if let usage = completion.usage { record(usage) }
        case .anthropic(let message):
            text = message.content.map { $0.text ?? $0.input?.serialized() ?? "" }.joined()
            model = message.model
            finishReason = message.stopReason
            record(message.usage)
        }
        sawToken = true
        complete = true
    }

    /// Takes in one stream event.
    /// - Returns: whether it carries a token.
    @discardableResult
    mutating func add(_ event: UpstreamEvent) -> Bool {
        switch event {
        case .openAI(let chunk):
            if model == nil { model = chunk.model }
            if let usage = chunk.usage?.value { record(usage) }
            guard let choice = chunk.choices.first else { return false }
            var token = false
            if let content = choice.delta.content, !content.isEmpty {
                text += content
                token = true
            }
            for call in choice.delta.toolCalls ?? [] {
                text += call.arguments ?? ""
                token = true
                usedTools = true
            }
            if let finish = choice.finishReason {
                finishReason = finish
                token = true
            }
            sawToken = sawToken || token
            return token
        case .openAIDone:
            complete = true
            return false
        case .anthropic(let event):
            switch event {
            case .messageStart(let message):
                model = message.model
                record(message.usage)
                return false
            case .contentBlockDelta(_, let delta):
                if delta.partialJSON != nil { usedTools = true }
                text += delta.text ?? delta.partialJSON ?? ""
                sawToken = true
                return true
            case .messageDelta(let delta, let usage):
                finishReason = delta.stopReason ?? finishReason
                tokens.output = usage.outputTokens
                if let input = usage.inputTokens { tokens.input = input }
                if let read = usage.cacheReadInputTokens { tokens.cachedInput = read }
                if let written = usage.cacheCreationInputTokens { tokens.cacheWrite5m = written }
                usageReported = true
                sawToken = true
                return true
            case .messageStop:
                complete = true
                return false
            case .contentBlockStart, .contentBlockStop, .ping, .error, .unknown:
                return false
            }
        }
    }

    private mutating func record(_ usage: OpenAI.Usage) {
        let written = usage.promptTokensDetails?.cacheWriteTokens ?? 0
        tokens = TokenCounts(
            input: max(0, usage.promptTokens - usage.cachedTokens - written),
            cachedInput: usage.cachedTokens,
            cacheWrite5m: written,
            output: usage.completionTokens,
            reasoning: usage.reasoningTokens
        )
        usageReported = true
    }

    private mutating func record(_ usage: Anthropic.Usage) {
        let written1h = usage.cacheCreation?.ephemeral1hInputTokens ?? 0
        let written = usage.cacheCreationInputTokens ?? 0
        tokens = TokenCounts(
            input: usage.inputTokens,
            cachedInput: usage.cacheReadInputTokens ?? 0,
            cacheWrite5m: usage.cacheCreation?.ephemeral5mInputTokens ?? max(0, written - written1h),
            cacheWrite1h: written1h,
            output: usage.outputTokens
        )
        usageReported = usage.outputTokens > 0 || usageReported
    }

    /// The tokens to journal: the provider's figures, or for an answer cut short, the estimated
    /// input and the output received so far (characters / 4).
    func journaledTokens(estimate: TokenEstimate) -> TokenCounts {
        if complete || usageReported { return tokens }
        var partial = tokens
        if partial.totalInput == 0 { partial.input = estimate.input }
        partial.output = max(partial.output, TokenEstimate.tokens(characters: text.count))
        return partial
    }
}
