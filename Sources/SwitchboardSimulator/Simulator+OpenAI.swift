import Foundation
import SwitchboardWire
import Synchronization

extension Simulator {
    /// One generated choice: visible output pieces (text, JSON or tool arguments), why it ended,
    /// the tool it calls, and hidden reasoning tokens.
    struct GeneratedChoice {
        var pieces: [String]
        var stop: TextGenerator.StopReason
        var stopSequence: String?
        var tool: (id: String, name: String)?
        var reasoningTokens = 0

        var outputTokens: Int { pieces.count + reasoningTokens }
        var text: String { pieces.joined() }
    }

    // MARK: - POST /v1/chat/completions

    func chatCompletions(_ request: Request) -> SimulatedReply {
        let requestID = newRequestID(.openAI)
        let headers = baseHeaders(.openAI, requestID: requestID)
        func error(
            _ status: Int,
            _ message: String,
            type: String,
            param: String? = nil,
            code: String? = nil,
            extra: [HeaderField] = []
        )
            -> SimulatedReply
        {
            Self.json(
                status,
                headers + extra,
                OpenAI.ErrorBody(message: message, type: type, param: param, code: code).json
            )
        }

        guard let key = request.bearerToken else {
            return error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
                type: "invalid_request_error"
            )
        }
        guard let settings = keySettings(key) else {
            return error(
                401,
                "Incorrect API key provided: \(Self.mask(key)). You can find your API key at https://platform.openai.com/account/api-keys.",
                type: "invalid_request_error",
                code: "invalid_api_key"
            )
        }
        let body: OpenAI.ChatCompletionRequest
        do {
            body = try OpenAI.ChatCompletionRequest(parsing: request.body)
        } catch let problem as WireDecodingError {
            let (message, param) = Self.openAIMessage(for: problem)
            return error(400, message, type: "invalid_request_error", param: param)
        } catch {
            return Self.json(400, headers, OpenAI.ErrorBody(message: "\(error)", type: "invalid_request_error").json)
        }
        if let problem = Self.validate(body) {
            return error(400, problem.message, type: "invalid_request_error", param: problem.param, code: problem.code)
        }
        guard configuration.models.serves(body.model, provider: .openAI) else {
            return error(
                404,
                "The model `\(body.model)` does not exist or you do not have access to it.",
                type: "invalid_request_error",
                code: "model_not_found"
            )
        }
        if settings.quotaExhausted {
            countFault(.insufficientQuota)
            return openAIFaultReply(.insufficientQuota, headers: headers, model: body.model)!
        }
        let scripted = state.withLock {
            $0.faults.scripted(header: request.header("x-sim-fault"), key: key, model: body.model, provider: .openAI)
        }
        if let scripted, let reply = openAIFaultReply(scripted, headers: headers, model: body.model) {
            countFault(scripted)
            return reply
        }

        let prompt = RenderedPrompt(openAI: body)
        let cache =
            configuration.promptCache.enabled
            ? state.withLock { state in
                state.promptCache.planOpenAI(
                    prompt: prompt,
                    scope: key + "\u{1}" + (body.promptCacheKey ?? ""),
                    ttl: configuration.promptCache.openAITTL,
                    now: now()
                )
            } : (cached: 0, writes: [])
        let wantsStructure = body.responseFormat.map { $0.type != "text" } ?? false || Self.chosenTool(body) != nil
        let invalid = wantsStructure && drawInvalidOutput(scripted)
        let choices = (0..<(body.n ?? 1)).map { generateOpenAI(body, prompt: prompt, index: $0, invalid: invalid) }
        let completionTokens = choices.reduce(0) { $0 + $1.outputTokens }
        let reservation = (body.requestedMaxOutputTokens ?? 4096) * (body.n ?? 1)

        switch admit(
            provider: .openAI,
            key: key,
            model: body.model,
            input: prompt.totalTokens,
            outputReservation: reservation,
            actualOutput: completionTokens,
            cacheWrites: cache.writes
        )
        {
        case .rejected(let rejection, let rateLimitHeaders):
            stats.update { $0.rateLimited += 1 }
            let (words, type) = rejection.dimension.openAIDescription
            guard let retryAfter = rejection.retryAfter else {
                return error(
                    429,
                    "Request too large for \(body.model) in organization org-sim on \(words): Limit \(rejection.limit), Requested \(rejection.requested). The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
                    type: type,
                    code: "rate_limit_exceeded",
                    extra: rateLimitHeaders
                )
            }
            return error(
                429,
                "Rate limit reached for \(body.model) in organization org-sim on \(words): Limit \(rejection.limit), Used \(rejection.used), Requested \(rejection.requested). Please try again in \(Self.tryAgainText(retryAfter)). Visit https://platform.openai.com/account/rate-limits to learn more.",
                type: type,
                code: "rate_limit_exceeded",
                extra: rateLimitHeaders + RateLimitHeaders.retryAfterFields(retryAfter, includeMilliseconds: true)
            )
        case .admitted(let rateLimitHeaders, let drawn):
            let fault = scripted ?? drawn
            if let fault, fault != .ok { countFault(fault) }
            if let fault, let reply = openAIFaultReply(fault, headers: headers + rateLimitHeaders, model: body.model) {
                return reply
            }
            stats.update {
                $0.inputTokens += prompt.totalTokens
                $0.cachedInputTokens += cache.cached
                $0.outputTokens += completionTokens
            }
            let usage = OpenAI.Usage(
                promptTokens: prompt.totalTokens,
                completionTokens: completionTokens,
                promptTokensDetails: OpenAI.PromptTokensDetails(cachedTokens: cache.cached, audioTokens: 0),
                completionTokensDetails: OpenAI.CompletionTokensDetails(
                    reasoningTokens: choices.reduce(0) { $0 + $1.reasoningTokens },
                    audioTokens: 0,
                    acceptedPredictionTokens: 0,
                    rejectedPredictionTokens: 0
                )
            )
            let id = state.withLock { Self.identifier(&$0.random, prefix: "chatcmpl-", length: 29) }
            let created = Int(now().timeIntervalSince1970)
            let fingerprint = "fp_" + String(StableHash.of(body.model) % 0xFFFF_FFFF, radix: 16)
            let replyHeaders = headers + rateLimitHeaders
            if body.isStreaming {
                return openAIStream(
                    body,
                    choices: choices,
                    usage: usage,
                    id: id,
                    created: created,
                    fingerprint: fingerprint,
                    headers: replyHeaders,
                    fault: fault
                )
            }
            if fault == .midStreamError { return .reset }
            let completion = OpenAI.ChatCompletion(
                id: id,
                created: created,
                model: body.model,
                choices: choices.enumerated().map { index, choice in
                    OpenAI.Choice(index: index, message: Self.openAIMessage(choice), finishReason: choice.stop.openAI)
                },
                usage: usage,
                serviceTier: "default",
                systemFingerprint: fingerprint
            )
            var bytes = completion.serializedBytes()
            if fault == .malformed { bytes = Array(bytes.prefix(bytes.count / 2)) }
            return .complete(
                status: 200,
                headers: replyHeaders + [HeaderField("content-type", "application/json")],
                body: bytes,
                delay: configuration.latency.timeToFirstToken + interTokenDelay * completionTokens
            )
        }
    }

    /// The reply for a fault that replaces the answer, or `nil` for one that shapes it.
    func openAIFaultReply(_ fault: Fault, headers: [HeaderField], model: String) -> SimulatedReply? {
        func error(_ status: Int, _ message: String, type: String, code: String?, extra: [HeaderField] = [])
            -> SimulatedReply
        {
            Self.json(status, headers + extra, OpenAI.ErrorBody(message: message, type: type, code: code).json)
        }
        switch fault {
        case .status(500):
            return error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                type: "server_error",
                code: nil
            )
        case .status(503), .status(529):
            return error(
                503,
                "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.",
                type: "server_error",
                code: nil
            )
        case .status(let status):
            let type = status >= 500 ? "server_error" : "invalid_request_error"
            return error(status, "Simulated \(status) error.", type: type, code: nil)
        case .rateLimited(let retryAfter):
            return error(
                429,
                "Rate limit reached for \(model) in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in \(Self.tryAgainText(retryAfter)). Visit https://platform.openai.com/account/rate-limits to learn more.",
                type: "requests",
                code: "rate_limit_exceeded",
                extra: RateLimitHeaders.retryAfterFields(retryAfter, includeMilliseconds: true)
            )
        case .insufficientQuota:
            return error(
                429,
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                type: "insufficient_quota",
                code: "insufficient_quota"
            )
        case .reset: return .reset
        case .stall: return .stall
        case .malformed, .slowStream, .midStreamError, .invalidOutput, .ok: return nil
        }
    }

    func openAIStream(
        _ body: OpenAI.ChatCompletionRequest,
        choices: [GeneratedChoice],
        usage: OpenAI.Usage,
        id: String,
        created: Int,
        fingerprint: String,
        headers: [HeaderField],
        fault: Fault?
    ) -> SimulatedReply {
        let includeUsage = body.streamOptions?.includeUsage ?? false
        // Non-final chunks carry no `usage` key, as in the recorded live stream (the documentation
        // says `null`; clients must accept both).
        func chunk(_ index: Int, _ delta: OpenAI.ChunkDelta, finish: String? = nil) -> StreamPlan.Frame {
            let chunk = OpenAI.ChatCompletionChunk(
                id: id,
                created: created,
                model: body.model,
                systemFingerprint: fingerprint,
                choices: [OpenAI.ChunkChoice(index: index, delta: delta, finishReason: finish)]
            )
            return StreamPlan.Frame(bytes: chunk.sseFrame, isContent: delta.content != nil || delta.toolCalls != nil)
        }
        var frames: [StreamPlan.Frame] = []
        for (index, choice) in choices.enumerated() {
            if let tool = choice.tool {
                let start = OpenAI.ToolCallDelta(
                    index: 0,
                    id: tool.id,
                    type: "function",
                    name: tool.name,
                    arguments: ""
                )
                var first = chunk(
                    index,
                    OpenAI.ChunkDelta(role: "assistant", toolCalls: [start], extra: ["content": .null])
                )
                first.isContent = false
                frames.append(first)
                for piece in choice.pieces {
                    frames.append(
                        chunk(index, OpenAI.ChunkDelta(toolCalls: [OpenAI.ToolCallDelta(index: 0, arguments: piece)]))
                    )
                }
            } else {
                var first = chunk(index, OpenAI.ChunkDelta(role: "assistant", content: "", refusal: .null))
                first.isContent = false
                frames.append(first)
                for piece in choice.pieces { frames.append(chunk(index, OpenAI.ChunkDelta(content: piece))) }
            }
            frames.append(chunk(index, OpenAI.ChunkDelta(), finish: choice.stop.openAI))
        }
        if includeUsage {
            let last = OpenAI.ChatCompletionChunk(
                id: id,
                created: created,
                model: body.model,
                systemFingerprint: fingerprint,
                choices: [],
                usage: .value(usage)
            )
            frames.append(StreamPlan.Frame(bytes: last.sseFrame, isContent: false))
        }
        frames.append(StreamPlan.Frame(bytes: OpenAI.streamTerminator, isContent: false))
        let plan = streamPlan(
            frames,
            fault: fault,
            errorFrame: OpenAI.ErrorBody(
                message: "The server had an error while processing your request. Sorry about that!",
                type: "server_error"
            )
            .sseFrame,
            malformedFrame: Array(
                "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"\n\n"
                    .utf8
            )
        )
        return .stream(headers: headers + Self.streamHeaders, plan: plan)
    }

    static let streamHeaders = [
        HeaderField("content-type", "text/event-stream; charset=utf-8"), HeaderField("cache-control", "no-cache"),
    ]

    static func openAIMessage(_ choice: GeneratedChoice) -> OpenAI.ChatMessage {
        if let tool = choice.tool {
            return OpenAI.ChatMessage(
                role: "assistant",
                content: nil,
                toolCalls: [
                    OpenAI.ToolCall(id: tool.id, function: OpenAI.FunctionCall(name: tool.name, arguments: choice.text))
                ],
                extra: ["refusal": .null, "annotations": []]
            )
        }
        return OpenAI.ChatMessage(
            role: "assistant",
            content: .text(choice.text),
            extra: ["refusal": .null, "annotations": []]
        )
    }

    // MARK: - Generation

    static func chosenTool(_ body: OpenAI.ChatCompletionRequest) -> OpenAI.FunctionDefinition? {
        let functions = body.tools?.compactMap(\.function) ?? []
        guard !functions.isEmpty else { return nil }
        switch body.toolChoice {
        case .noTools: return nil
        case .required: return functions.first
        case .function(let name): return functions.first { $0.name == name }
        case .auto, .other, nil:
            guard let last = body.messages.last, last.role == "user" else { return nil }
            let text = last.content?.text.lowercased() ?? ""
            return functions.first { text.contains($0.name.lowercased()) }
        }
    }

    func generateOpenAI(_ body: OpenAI.ChatCompletionRequest, prompt: RenderedPrompt, index: Int, invalid: Bool)
        -> GeneratedChoice
    {
        let seed = contentSeed(model: body.model, prompt: prompt.text, index: index)
        let reasoning = Self.isReasoningModel(body.model) ? 32 + Int(seed % 96) : 0
        let visibleLimit = body.requestedMaxOutputTokens.map { max(0, $0 - reasoning) }
        var pieces: [String]
        var tool: (id: String, name: String)?
        if let function = Self.chosenTool(body) {
            var generator = SchemaInstanceGenerator(root: function.parameters ?? ["type": "object"], seed: seed)
            pieces = Self.tokenPieces(invalid ? generator.invalidText() : generator.validInstance().serialized())
            tool = (state.withLock { Self.identifier(&$0.random, prefix: "call_", length: 24) }, function.name)
        } else if let format = body.responseFormat, format.type == "json_schema" {
            var generator = SchemaInstanceGenerator(root: format.jsonSchema?.schema ?? ["type": "object"], seed: seed)
            pieces = Self.tokenPieces(invalid ? generator.invalidText() : generator.validInstance().serialized())
        } else if body.responseFormat?.type == "json_object" {
            let sentence = TextGenerator.pieces(seed: seed, model: body.model, prompt: prompt.text).joined()
            let object: JSONValue = ["answer": .string(sentence)]
            pieces = Self.tokenPieces(invalid ? "Here you go: " + object.serialized() : object.serialized())
        } else {
            pieces = TextGenerator.pieces(seed: seed, model: body.model, prompt: prompt.text)
        }
        let truncated = TextGenerator.truncate(pieces, maxTokens: visibleLimit, stop: body.stop ?? [])
        var stop = truncated.reason
        if tool != nil, stop == .endTurn { stop = .toolUse }
        return GeneratedChoice(
            pieces: truncated.pieces,
            stop: stop,
            stopSequence: truncated.matched,
            tool: tool,
            reasoningTokens: reasoning
        )
    }

    // MARK: - Validation

    struct Problem {
        var message: String
        var param: String?
        var code: String?
    }

    static func validate(_ body: OpenAI.ChatCompletionRequest) -> Problem? {
        if body.messages.isEmpty {
            return Problem(message: "[] is too short - 'messages'", param: "messages", code: "empty_array")
        }
        if let temperature = body.temperature, !(0...2).contains(temperature) {
            return Problem(
                message:
                    "Invalid 'temperature': decimal \(temperature < 0 ? "below minimum" : "above maximum") value. Expected a value \(temperature < 0 ? ">= 0" : "<= 2"), but got \(temperature) instead.",
                param: "temperature",
                code: temperature < 0 ? "decimal_below_min_value" : "decimal_above_max_value"
            )
        }
        if let n = body.n, !(1...128).contains(n) {
            return Problem(
                message: "Invalid 'n': expected a value between 1 and 128, but got \(n) instead.",
                param: "n",
                code: "integer_out_of_range"
            )
        }
        for (name, value) in [("max_tokens", body.maxTokens), ("max_completion_tokens", body.maxCompletionTokens)] {
            if let value, value < 1 {
                return Problem(
                    message:
                        "Invalid '\(name)': integer below minimum value. Expected a value >= 1, but got \(value) instead.",
                    param: name,
                    code: "integer_below_min_value"
                )
            }
        }
        if body.streamOptions != nil, !body.isStreaming {
            return Problem(
                message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param: "stream_options",
                code: nil
            )
        }
        return nil
    }

    /// OpenAI's wording for a body that does not decode.
    static func openAIMessage(for problem: WireDecodingError) -> (message: String, param: String?) {
        let path = problem.path.description
        if path.isEmpty {
            return (
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.) Detail: \(problem.reason)",
                nil
            )
        }
        if problem.reason == "is required" { return ("Missing required parameter: '\(path)'.", path) }
        return ("Invalid value for '\(path)': \(problem.reason).", path)
    }
}
