import Foundation
import SwitchboardWire
import Synchronization

extension Simulator {
    // MARK: - POST /v1/messages

    func messages(_ request: Request) -> SimulatedReply {
        let requestID = newRequestID(.anthropic)
        let headers = baseHeaders(.anthropic, requestID: requestID)
        func fail(_ status: Int, _ type: String, _ message: String, extra: [HeaderField] = []) -> SimulatedReply {
            Self.json(
                status,
                headers + extra,
                Anthropic.ErrorBody(type: type, message: message, requestID: requestID).json
            )
        }

        guard let key = request.header("x-api-key") ?? request.bearerToken else {
            return fail(401, "authentication_error", "x-api-key header is required")
        }
        guard let settings = keySettings(key) else {
            return fail(401, "authentication_error", "invalid x-api-key")
        }
        let body: Anthropic.MessagesRequest
        do {
            body = try Anthropic.MessagesRequest(parsing: request.body)
        } catch let problem as WireDecodingError {
            return fail(400, "invalid_request_error", Self.anthropicMessage(for: problem))
        } catch {
            return Self.json(
                400,
                headers,
                Anthropic.ErrorBody(type: "invalid_request_error", message: "\(error)", requestID: requestID).json
            )
        }
        if let problem = Self.validate(body) { return fail(400, "invalid_request_error", problem) }
        guard configuration.models.serves(body.model, provider: .anthropic) else {
            return fail(404, "not_found_error", "model: \(body.model)")
        }
        if settings.quotaExhausted {
            countFault(.insufficientQuota)
            return anthropicFaultReply(.insufficientQuota, headers: headers, requestID: requestID)!
        }
        let scripted = state.withLock {
            $0.faults.scripted(header: request.header("x-sim-fault"), key: key, model: body.model, provider: .anthropic)
        }
        if let scripted, let reply = anthropicFaultReply(scripted, headers: headers, requestID: requestID) {
            countFault(scripted)
            return reply
        }

        let prompt = RenderedPrompt(anthropic: body)
        let cache: (usage: PromptCacheEmulator.AnthropicUsage, writes: [PromptCacheEmulator.Write])
        do {
            let minimum = PromptCacheEmulator.anthropicMinimum(model: body.model)
            let plan = try state.withLock { state throws(PromptCacheEmulator.TooManyBreakpoints) in
                try state.promptCache.planAnthropic(prompt: prompt, scope: key, minimumTokens: minimum, now: now())
            }
            cache =
                configuration.promptCache.enabled
                ? plan : (.init(input: prompt.totalTokens, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0), [])
        } catch {
            return fail(
                400,
                "invalid_request_error",
                "A maximum of 4 blocks with cache_control may be provided. Found \(error.count)."
            )
        }
        let tool = Self.chosenTool(body)
        let invalid = tool != nil && drawInvalidOutput(scripted)
        let generated = generateAnthropic(body, prompt: prompt, tool: tool, invalid: invalid)
        let inputCharged = cache.usage.input + cache.usage.cacheWrite5m + cache.usage.cacheWrite1h

        switch admit(
            provider: .anthropic,
            key: key,
            model: body.model,
            input: inputCharged,
            outputReservation: body.maxTokens,
            actualOutput: generated.outputTokens,
            cacheWrites: cache.writes
        )
        {
        case .rejected(let rejection, let rateLimitHeaders):
            stats.update { $0.rateLimited += 1 }
            var extra = rateLimitHeaders + [HeaderField("x-should-retry", "true")]
            if let retryAfter = rejection.retryAfter {
                extra += RateLimitHeaders.retryAfterFields(retryAfter, includeMilliseconds: false)
            }
            return fail(
                429,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization (org-sim) of \(rejection.limit) \(rejection.dimension.anthropicWords). For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
                extra: extra
            )
        case .admitted(let rateLimitHeaders, let drawn):
            let fault = scripted ?? drawn
            if let fault, fault != .ok { countFault(fault) }
            if let fault,
                let reply = anthropicFaultReply(fault, headers: headers + rateLimitHeaders, requestID: requestID)
            {
                return reply
            }
            stats.update {
                $0.inputTokens += prompt.totalTokens
                $0.cachedInputTokens += cache.usage.cacheRead
                $0.outputTokens += generated.outputTokens
            }
            let usage = Anthropic.Usage(
                inputTokens: cache.usage.input,
                cacheCreationInputTokens: cache.usage.cacheWrite5m + cache.usage.cacheWrite1h,
                cacheReadInputTokens: cache.usage.cacheRead,
                cacheCreation: Anthropic.CacheCreation(
                    ephemeral5mInputTokens: cache.usage.cacheWrite5m,
                    ephemeral1hInputTokens: cache.usage.cacheWrite1h
                ),
                outputTokens: generated.outputTokens,
                serviceTier: "standard"
            )
            let id = state.withLock { Self.identifier(&$0.random, prefix: "msg_01", length: 22) }
            let replyHeaders = headers + rateLimitHeaders
            if body.isStreaming {
                return anthropicStream(
                    body,
                    generated: generated,
                    usage: usage,
                    id: id,
                    headers: replyHeaders,
                    fault: fault
                )
            }
            if fault == .midStreamError { return .reset }
            let message = Anthropic.MessageResponse(
                id: id,
                content: [Self.anthropicBlock(generated)],
                model: body.model,
                stopReason: generated.stop.anthropic,
                stopSequence: generated.stopSequence,
                usage: usage
            )
            var bytes = message.serializedBytes()
            if fault == .malformed { bytes = Array(bytes.prefix(bytes.count / 2)) }
            return .complete(
                status: 200,
                headers: replyHeaders + [HeaderField("content-type", "application/json")],
                body: bytes,
                delay: configuration.latency.timeToFirstToken + interTokenDelay * generated.outputTokens
            )
        }
    }

    /// The reply for a fault that replaces the answer, or `nil` for one that shapes it.
    func anthropicFaultReply(_ fault: Fault, headers: [HeaderField], requestID: String) -> SimulatedReply? {
        func error(_ status: Int, _ type: String, _ message: String, extra: [HeaderField] = []) -> SimulatedReply {
            Self.json(
                status,
                headers + extra,
                Anthropic.ErrorBody(type: type, message: message, requestID: requestID).json
            )
        }
        let retry = [HeaderField("x-should-retry", "true")]
        switch fault {
        case .status(529): return error(529, "overloaded_error", "Overloaded", extra: retry)
        case .status(504): return error(504, "timeout_error", "Request timed out", extra: retry)
        case .status(let status) where status >= 500:
            return error(status, "api_error", "Internal server error", extra: retry)
        case .status(let status):
            let type =
                [
                    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                    403: "permission_error",
                    404: "not_found_error", 409: "conflict_error", 413: "request_too_large", 429: "rate_limit_error",
                ][status]
                ?? "invalid_request_error"
            return error(status, type, "Simulated \(status) error.")
        case .rateLimited(let retryAfter):
            return error(
                429,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization (org-sim) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
                extra: retry + RateLimitHeaders.retryAfterFields(retryAfter, includeMilliseconds: false)
            )
        case .insufficientQuota:
            return error(
                429,
                "rate_limit_error",
                "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."
            )
        case .reset: return .reset
        case .stall: return .stall
        case .malformed, .slowStream, .midStreamError, .invalidOutput, .ok: return nil
        }
    }

    func anthropicStream(
        _ body: Anthropic.MessagesRequest,
        generated: GeneratedChoice,
        usage: Anthropic.Usage,
        id: String,
        headers: [HeaderField],
        fault: Fault?
    ) -> SimulatedReply {
        func frame(_ event: Anthropic.StreamEvent, content: Bool = false) -> StreamPlan.Frame {
            StreamPlan.Frame(bytes: event.sseFrame, isContent: content)
        }
        var startUsage = usage
        startUsage.outputTokens = 1
        var frames = [
            frame(
                .messageStart(
                    Anthropic.MessageResponse(
                        id: id,
                        content: [],
                        model: body.model,
                        stopReason: nil,
                        usage: startUsage
                    )
                )
            )
        ]
        if let tool = generated.tool {
            frames.append(
                frame(.contentBlockStart(index: 0, block: .toolUse(id: tool.id, name: tool.name, input: [:])))
            )
            frames.append(frame(.ping))
            frames.append(frame(.contentBlockDelta(index: 0, delta: .inputJSON(""))))
            for piece in generated.pieces {
                frames.append(frame(.contentBlockDelta(index: 0, delta: .inputJSON(piece)), content: true))
            }
        } else {
            frames.append(frame(.contentBlockStart(index: 0, block: .text(""))))
            frames.append(frame(.ping))
            for piece in generated.pieces {
                frames.append(frame(.contentBlockDelta(index: 0, delta: .text(piece)), content: true))
            }
        }
        frames.append(frame(.contentBlockStop(index: 0)))
        let deltaUsage = Anthropic.DeltaUsage(
            inputTokens: usage.inputTokens,
            cacheCreationInputTokens: usage.cacheCreationInputTokens,
            cacheReadInputTokens: usage.cacheReadInputTokens,
            outputTokens: usage.outputTokens
        )
        frames.append(
            frame(
                .messageDelta(
                    Anthropic.MessageDelta(stopReason: generated.stop.anthropic, stopSequence: generated.stopSequence),
                    usage: deltaUsage
                )
            )
        )
        frames.append(frame(.messageStop))
        let plan = streamPlan(
            frames,
            fault: fault,
            errorFrame: Anthropic.StreamEvent.error(
                Anthropic.ErrorDetail(type: "overloaded_error", message: "Overloaded")
            )
            .sseFrame,
            malformedFrame: Array(
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"ty\n\n"
                    .utf8
            )
        )
        return .stream(headers: headers + Self.streamHeaders, plan: plan)
    }

    static func anthropicBlock(_ generated: GeneratedChoice) -> Anthropic.ContentBlock {
        guard let tool = generated.tool else { return .text(generated.text) }
        let input = (try? JSONValue.parse(generated.text)) ?? .string(generated.text)
        return .toolUse(id: tool.id, name: tool.name, input: input)
    }

    // MARK: - Generation

    static func chosenTool(_ body: Anthropic.MessagesRequest) -> Anthropic.Tool? {
        let tools = (body.tools ?? []).filter { $0.type == nil || $0.type == "custom" }
        guard !tools.isEmpty else { return nil }
        switch body.toolChoice?.type {
        case "none": return nil
        case "any": return tools.first
        case "tool": return tools.first { $0.name == body.toolChoice?.name }
        default:
            guard let last = body.messages.last, last.role == "user",
                !last.content.blocks.contains(where: { $0.type == "tool_result" })
            else {
                return nil
            }
            let text = last.content.text.lowercased()
            return tools.first { text.contains($0.name.lowercased()) }
        }
    }

    func generateAnthropic(
        _ body: Anthropic.MessagesRequest,
        prompt: RenderedPrompt,
        tool: Anthropic.Tool?,
        invalid: Bool
    ) -> GeneratedChoice {
        let seed = contentSeed(model: body.model, prompt: prompt.text)
        var pieces: [String]
        var call: (id: String, name: String)?
        if let tool {
            var generator = SchemaInstanceGenerator(root: tool.inputSchema ?? ["type": "object"], seed: seed)
            let value =
                invalid
                ? breakToolInput(generator.validInstance(), schema: tool.inputSchema) : generator.validInstance()
            pieces = Self.tokenPieces(value.serialized())
            call = (state.withLock { Self.identifier(&$0.random, prefix: "toolu_01", length: 22) }, tool.name)
        } else {
            pieces = TextGenerator.pieces(seed: seed, model: body.model, prompt: prompt.text)
        }
        let truncated = TextGenerator.truncate(pieces, maxTokens: body.maxTokens, stop: body.stopSequences ?? [])
        var stop = truncated.reason
        if call != nil, stop == .endTurn { stop = .toolUse }
        return GeneratedChoice(pieces: truncated.pieces, stop: stop, stopSequence: truncated.matched, tool: call)
    }

    /// Tool input is always a JSON object on Anthropic's wire, so an invalid one keeps that shape
    /// and breaks a required member instead.
    private func breakToolInput(_ value: JSONValue, schema: JSONValue?) -> JSONValue {
        guard case .object(var members) = value else { return ["unexpected": true] }
        let required = schema?["required"]?.arrayValue?.compactMap(\.stringValue) ?? Array(members.keys)
        guard let key = required.first else { return ["unexpected": true] }
        members[key] = members[key]?.isNumber == true ? "not a number" : 42
        return .object(members)
    }

    // MARK: - Validation

    static func validate(_ body: Anthropic.MessagesRequest) -> String? {
        if body.messages.isEmpty { return "messages: at least one message is required" }
        if body.maxTokens < 0 { return "max_tokens: Input should be greater than or equal to 0" }
        if let temperature = body.temperature, !(0...1).contains(temperature) {
            return
                "temperature: Input should be \(temperature < 0 ? "greater than or equal to 0" : "less than or equal to 1")"
        }
        for (index, message) in body.messages.enumerated() where !["user", "assistant"].contains(message.role) {
            return "messages.\(index).role: Input should be 'user' or 'assistant'"
        }
        return nil
    }

    /// Anthropic's wording for a body that does not decode.
    static func anthropicMessage(for problem: WireDecodingError) -> String {
        let path = problem.path.description
        if path.isEmpty { return "There was an error parsing the body of your request: \(problem.reason)" }
        if problem.reason == "is required" { return "\(path): Field required" }
        return "\(path): \(problem.reason)"
    }
}
