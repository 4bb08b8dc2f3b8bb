import Foundation
import Logging
import SwitchboardJournal
import SwitchboardWire

extension Pipeline {
    /// The one path every call takes: resolve the route, admit the call (limits, moderation, the
    /// exact cache, the budget: ``admit(_:route:limited:sink:)``), then for each target (skipping
    /// open circuits) attempts paced by headroom and spaced by the retry policy, then the journal.
    /// - Returns: the whole answer, or `nil` for a stream (whose events went to `sink`).
    func run<D: Dialect>(_ dialect: D.Type, _ request: D.Request, context: CallContext, sink: StreamSink<D.Event>?)
        async throws
        -> D.Response?
    {
        let startedAt = clock.now()
        let deadline = context.deadline ?? startedAt.adding(configuration.resilience.timeouts.total)
        // The caller's limits, and its cap on output tokens per request.
        let limited = limitSubject(context, model: D.model(of: request))
        var request = request
        var overCap: (asked: Int?, cap: Int)?
        if let cap = context.limits?.maxOutputTokens ?? limited?.limits.maxOutputTokens,
            (D.maxOutput(of: request) ?? Int.max) > cap
        {
            overCap = (D.maxOutput(of: request), cap)
            if configuration.limits.overOutputCap == .clamp { D.setMaxOutput(&request, to: cap) }
        }
        var call = CallInProgress<D>(
            request: request,
            context: context,
            startedAt: startedAt,
            stream: sink != nil,
            estimate: D.estimate(
                request,
                defaultMaxOutput: configuration.limits.defaultUser.maxOutputTokens ?? Translation.defaultMaxTokens
            )
        )
        let route: (name: String?, targets: [SwitchboardConfiguration.Target])
        do {
            route = try resolve(model: D.model(of: request))
        } catch {
            throw await fail(&call, error)
        }
        call.route = route.name
        // Refused here, before translation: an Anthropic `system` would otherwise become an OpenAI
        // message and make a request without messages look valid.
        guard D.hasMessages(request) else {
            throw await fail(
                &call,
                SwitchboardError(.badRequest, "messages: at least one message is required", param: "messages")
            )
        }
        if let overCap, configuration.limits.overOutputCap == .refuse {
            throw await fail(
                &call,
                SwitchboardError(
                    .badRequest,
                    "max_tokens \(overCap.asked.map(String.init) ?? "(unset)") is over this caller's cap of \(overCap.cap) output tokens per request; ask for at most \(overCap.cap)",
                    param: D.format == .openAI ? "max_completion_tokens" : "max_tokens"
                )
            )
        }

        if case .served(let response)? = try await admit(&call, route: route, limited: limited, sink: sink) {
            return response
        }

        var skipped: [String] = []
        var earliestRetry: Duration?
        var previous: (target: SwitchboardConfiguration.Target, reason: String)?
        for (index, target) in route.targets.enumerated() {
            let isLast = index == route.targets.count - 1
            guard let provider = configuration.providers[target.provider], let poolKeys = keys[target.provider],
                !poolKeys.isEmpty
            else {
                skipped.append("\(target): the provider '\(target.provider)' has no API key configured")
                continue
            }
            do {
                let permit = try await breakers.permit(provider: target.provider, model: target.model, now: clock.now())
                if let transition = permit.transition { call.breakerEvent(transition, target: target, at: clock.now()) }
                guard permit.allowed else {
                    skipped.append("\(target): its circuit is open")
                    if let wait = permit.retryAfter { earliestRetry = min(earliestRetry ?? wait, wait) }
                    continue
                }
            } catch {
                // A state store that fails must not stop calls: count the circuit as closed.
                Self.stateStoreFailed(logger, "breaker not consulted", error)
            }
            var upstream: (body: JSONValue, plan: Translation.Plan)
            do {
                upstream = try D.upstreamBody(request, to: provider.kind, model: target.model, stream: sink != nil)
            } catch {
                skipped.append("\(target): \(error)")
                continue
            }
            let prefix = await arrangePromptCache(
                &upstream.body,
                kind: provider.kind,
                target: target,
                keyCount: poolKeys.count,
                context: context
            )
            if let previous {
                call.events.append(
                    EventRecord(
                        at: clock.now(),
                        requestID: context.requestID,
                        kind: "fallback",
                        scope: previous.target.description,
                        detail: [
                            "from": .string(previous.target.description), "to": .string(target.description),
                            "reason": .string(previous.reason),
                        ]
                    )
                )
                call.fellBack = true
            }
            call.target = target
            let result = await attempts(
                on: target,
                provider: provider,
                keys: poolKeys,
                upstream: upstream,
                prefix: prefix,
                call: &call,
                deadline: deadline,
                isLast: isLast,
                sink: sink
            )
            switch result {
            case .answered(var response):
                if let plan = validationPlan(D.self, request: request, route: route.name) {
                    do {
                        response = try await validated(
                            response,
                            plan: plan,
                            target: target,
                            provider: provider,
                            keys: poolKeys,
                            call: &call,
                            deadline: deadline
                        )
                    } catch {
                        throw await fail(&call, error)
                    }
                }
                return try await succeed(&call, response: response, sink: nil)
            case .streamed(let held):
                if let plan = validationPlan(D.self, request: request, route: route.name) {
                    await validateStreamed(plan: plan, call: &call)
                }
                _ = try await succeed(&call, response: nil, sink: sink.map { ($0, held) })
                return nil
            case .nextTarget(let reason):
                previous = (target, reason)
                skipped.append("\(target): \(reason)")
            case .failed(let error):
                throw await fail(&call, error)
            }
        }
        let summary = skipped.joined(separator: "; ")
        if call.attempts.isEmpty {
            throw await fail(
                &call,
                SwitchboardError(
                    .upstreamUnavailable,
                    "no provider could take the call: \(summary)",
                    retryAfter: earliestRetry
                )
            )
        }
        throw await fail(
            &call,
            SwitchboardError(
                .upstreamExhausted,
                "every attempt on every route target failed (\(call.attempts.count) attempts): \(summary)"
            )
        )
    }

    /// The targets a model name stands for: a configured route, or a provider model.
    func resolve(model: String) throws(SwitchboardError) -> (name: String?, targets: [SwitchboardConfiguration.Target])
    {
        if let route = configuration.routes[model] { return (model, route.targets) }
        if let target = configuration.target(model) { return (nil, [target]) }
        let routes = configuration.routes.keys.sorted()
        throw SwitchboardError(
            .unknownModel,
            "the model '\(model)' names no route and no provider model served here; "
                + (routes.isEmpty ? "" : "routes: \(routes.joined(separator: ", ")); ")
                + "or name a provider model such as openai/gpt-4o-mini or claude-haiku-4-5",
            param: "model"
        )
    }

    // MARK: - Attempts on one target

    enum TargetResult<D: Dialect> {
        case answered(D.Response)
        /// A stream that ended well; `held` is its terminal event, released once journaled.
        case streamed(held: [D.Event])
        case nextTarget(reason: String)
        case failed(any Error)
    }

    func attempts<D: Dialect>(
        on target: SwitchboardConfiguration.Target,
        provider: SwitchboardConfiguration.Provider,
        keys: [PoolKey],
        upstream: (body: JSONValue, plan: Translation.Plan),
        prefix: PrefixUse? = nil,
        call: inout CallInProgress<D>,
        deadline: Date,
        isLast: Bool,
        sink: StreamSink<D.Event>?
    ) async -> TargetResult<D> {
        let body = upstream.body.serializedBytes()
        let promptCache = configuration.cache.prompt
        // With a pool of keys, a long prefix goes back to the key that holds it cached.
        let warm = prefix?.known.flatMap { known in
            promptCache.keyAffinity && keys.count > 1 && known.cachedUntil > clock.now() ? known : nil
        }
        var backoff: Duration = .zero
        var advertised: Duration?
        var attempt = 0
        var keySwitches = 0
        while true {
            attempt += 1
            if attempt > 1, !retryBudget.tryRetry(now: clock.now()) {
                call.events.append(
                    EventRecord(
                        at: clock.now(),
                        requestID: call.context.requestID,
                        kind: "retry_budget",
                        scope: target.description,
                        detail: [
                            "attempt": .integer(attempt),
                            "available": .integer(retryBudget.available(now: clock.now())),
                        ]
                    )
                )
                return .nextTarget(
                    reason:
                        "the retry budget is spent (retries are held to \(Int(configuration.resilience.retryBudget.ratio * 100)) % of calls)"
                )
            }
            // Headroom: take the best key, or wait for a reset, or route on.
            let key: PoolKey
            var reservedAt = clock.now()
            var paced: Duration = .zero
            var paceReason: String?
            pacing: while true {
                let now = clock.now()
                guard now < deadline else { return .failed(deadlineError(call)) }
                let acquisition: Pacer.Acquisition
                do {
                    acquisition = try await pacer.acquire(
                        provider: target.provider,
                        keys: keys,
                        model: target.model,
                        estimate: call.estimate,
                        now: now,
                        preferred: warm.map { ($0.key, promptCache.affinityFloor) }
                    )
                } catch {
                    Self.stateStoreFailed(logger, "pacing skipped", error)
                    acquisition = .send(keys[0], headroom: Headroom())
                }
                switch acquisition {
                case .send(let chosen, let headroom):
                    key = chosen
                    reservedAt = now
                    call.headroom = Self.headroomJSON(headroom, key: chosen, now: now)
                    if let warm, warm.key != chosen.id, attempt == 1 {
                        // The prefix is cached at another key, which has too little headroom.
                        call.events.append(
                            EventRecord(
                                at: now,
                                requestID: call.context.requestID,
                                kind: "warm_key",
                                scope: target.description,
                                detail: [
                                    "from": .string(PoolKey.fingerprint(id: warm.key)),
                                    "to": .string(chosen.secret.fingerprint),
                                    "floor": .double(promptCache.affinityFloor),
                                ]
                            )
                        )
                    }
                    break pacing
                case .wait(let until, let reason):
                    let wait = until.duration(since: now)
                    paceReason = reason
                    if !isLast, wait > configuration.resilience.pacing.maxWait || until >= deadline {
                        recordPacing(&call, target: target, waited: paced, reason: reason, routedOn: true)
                        return .nextTarget(reason: "no headroom for \(GoDuration.format(wait)) (\(reason))")
                    }
                    if until >= deadline {
                        recordPacing(&call, target: target, waited: paced, reason: reason, routedOn: false)
                        return .failed(
                            SwitchboardError(
                                .upstreamUnavailable,
                                "no headroom at \(target) before the call's deadline: \(reason)",
                                retryAfter: wait
                            )
                        )
                    }
                    // Spread the waiters so a reset does not wake them all at once.
                    let spread = random.duration(upTo: .seconds(min(max(wait.secondsDouble * 0.05, 0.02), 0.5)))
                    let wake = min(until.adding(spread), deadline)
                    do {
                        try await clock.sleep(until: wake)
                    } catch {
                        return .failed(CancellationError())
                    }
                    paced += wake.duration(since: now)
                }
            }
            if paced > .zero, let paceReason {
                recordPacing(&call, target: target, waited: paced, reason: paceReason, routedOn: false)
            }

            // The attempt. The retry budget counts calls as they reach a provider, so calls that
            // waited long for headroom still earn their share of retries.
            let sentAt = clock.now()
            if call.attempts.isEmpty { retryBudget.recordRequest(now: sentAt) }
            let progress = AttemptProgress<D.Event>()
            var outcome: AttemptOutcome
            do {
                outcome = try await exchange(
                    D.self,
                    call: call,
                    target: target,
                    provider: provider,
                    key: key,
                    body: body,
                    plan: upstream.plan,
                    deadline: deadline,
                    progress: progress,
                    sink: sink
                )
            } catch let error as TransportError {
                outcome = .failed(.transport(error.failure), message: error.message, upstream: nil, head: nil)
            } catch {
                outcome = .failed(
                    .transport(Task.isCancelled ? .cancelled : .reset),
                    message: "\(error)",
                    upstream: nil,
                    head: nil
                )
            }
            let answeredAt = clock.now()
            let state = progress.snapshot
            call.tally = state.tally
            if call.firstTokenAt == nil { call.firstTokenAt = state.firstTokenAt }

            // What the answer taught: headroom, the circuit, the attempt's row.
            let head = outcome.head
            let snapshot = head.map { Self.rateLimitSnapshot($0, format: provider.kind, now: answeredAt) }
            let refusal = outcome.failure.flatMap { $0.refusesKey ? "\($0.httpStatus ?? 0) \($0.errorClass)" : nil }
            // Headroom and the circuit in one task shielded from the caller going away (a task
            // costs more than either update in memory).
            let failure = outcome.failure
            let transition = await uncancellable { [pacer, breakers, logger, reservedAt, estimate = call.estimate] in
                do {
                    try await pacer.complete(
                        provider: target.provider,
                        key: key,
                        model: target.model,
                        estimate: estimate,
                        reservedAt: reservedAt,
                        report: head.flatMap { head in snapshot.map { ($0, status: head.status) } },
                        refusal: refusal,
                        now: answeredAt
                    )
                } catch {
                    Self.stateStoreFailed(logger, "headroom not updated", error)
                }
                guard failure != .transport(.cancelled) else { return nil as CircuitBreaker.Transition? }
                return try? await breakers.record(
                    provider: target.provider,
                    model: target.model,
                    failed: failure?.countsAgainstProvider ?? false,
                    now: answeredAt
                )
            }
            if let snapshot {
                await journalHeadroom(
                    provider: target.provider,
                    key: key,
                    model: target.model,
                    snapshot: snapshot,
                    now: answeredAt
                )
            }
            if let transition { call.breakerEvent(transition, target: target, at: answeredAt) }
            call.attempts.append(
                AttemptRecord(
                    number: call.attempts.count + 1,
                    provider: target.provider,
                    model: target.model,
                    keyFingerprint: key.secret.fingerprint,
                    startedAt: sentAt,
                    httpStatus: head?.status ?? failure?.httpStatus,
                    errorClass: failure?.errorClass,
                    errorMessage: outcome.message,
                    backoffMilliseconds: (backoff + paced).millisecondsDouble,
                    retryAfterMilliseconds: advertised?.millisecondsDouble,
                    latencyMilliseconds: answeredAt.duration(since: sentAt).millisecondsDouble,
                    rateLimitHeaders: head.map(Self.rateLimitHeaderFields) ?? [:],
                    rateLimits: snapshot
                )
            )
            logger.debug(
                "attempt",
                metadata: [
                    "request.id": "\(call.context.requestID)", "llm.provider": "\(target.provider)",
                    "llm.model": "\(target.model)",
                    "attempt.number": "\(call.attempts.count)", "http.status": "\(head?.status ?? 0)",
                    "error.class": "\(failure?.errorClass ?? "-")",
                ]
            )

            if let prefix, failure == nil {
                do {
                    try await pacer.remember(
                        prefix.identity,
                        servedBy: key,
                        provider: target.provider,
                        model: target.model,
                        known: prefix.known,
                        lifetime: prefix.lifetime,
                        now: answeredAt
                    )
                } catch {
                    Self.stateStoreFailed(logger, "prefix use not recorded", error)
                }
            }

            switch outcome {
            case .answered(let answer, _):
                call.tally = AnswerTally(answer)
                return .answered(
                    D.response(from: answer, plan: upstream.plan, created: Int(sentAt.timeIntervalSince1970))
                )
            case .streamed:
                return .streamed(held: state.held)
            case .failed(let failure, let message, let upstreamError, _):
                if failure == .transport(.cancelled) { return .failed(CancellationError()) }
                if failure == .transport(.deadline) { return .failed(deadlineError(call)) }
                if state.delivered {
                    // Events reached the caller: the answer cannot be retried or replaced.
                    return .failed(SwitchboardError(.upstreamExhausted, "\(target) broke off the stream: \(message)"))
                }
                let decision = random.withGenerator { generator in
                    retryPolicy.decide(
                        after: failure,
                        attempt: attempt,
                        timeLeft: deadline.duration(since: clock.now()),
                        random: &generator
                    )
                }
                switch decision {
                case .retry(let delay):
                    advertised = failure.retryAfter
                    backoff = delay
                    do {
                        try await clock.sleep(for: delay)
                    } catch {
                        return .failed(CancellationError())
                    }
                case .nextTarget(let reason):
                    // A key the provider refused is passed over; another key of the pool may serve.
                    if failure.refusesKey, keySwitches < keys.count - 1 {
                        keySwitches += 1
                        backoff = .zero
                        advertised = nil
                        continue
                    }
                    // The last target does not serve the model: the provider's own 404 says it best.
                    if isLast, failure.httpStatus == 404, let upstreamError { return .failed(upstreamError) }
                    return .nextTarget(reason: "\(reason); last: \(message)")
                case .stop:
                    return .failed(upstreamError ?? SwitchboardError(.upstreamExhausted, "\(target): \(message)"))
                }
            }
        }
    }

    private func deadlineError<D: Dialect>(_ call: CallInProgress<D>) -> SwitchboardError {
        SwitchboardError(
            .deadlineExceeded,
            "the call's deadline passed after \(call.attempts.count) attempts; allow more time (resilience.timeouts.total) or retry later"
        )
    }

    private func recordPacing<D: Dialect>(
        _ call: inout CallInProgress<D>,
        target: SwitchboardConfiguration.Target,
        waited: Duration,
        reason: String,
        routedOn: Bool
    ) {
        call.paced += waited
        call.events.append(
            EventRecord(
                at: clock.now(),
                requestID: call.context.requestID,
                kind: routedOn ? "pacing_route_on" : "pacing_wait",
                scope: target.description,
                detail: ["waited_ms": .integer(Int(waited.millisecondsDouble.rounded())), "reason": .string(reason)]
            )
        )
    }

    // MARK: - One exchange

    enum AttemptOutcome: Sendable {
        case answered(UpstreamAnswer, head: ResponseHead)
        case streamed(head: ResponseHead)
        case failed(AttemptFailure, message: String, upstream: UpstreamError?, head: ResponseHead?)

        var head: ResponseHead? {
            switch self {
            case .answered(_, let head), .streamed(let head): head
            case .failed(_, _, _, let head): head
            }
        }

        var failure: AttemptFailure? {
            if case .failed(let failure, _, _, _) = self { return failure }
            return nil
        }

        var message: String? {
            if case .failed(_, let message, _, _) = self { return message }
            return nil
        }
    }

    private func exchange<D: Dialect>(
        _ dialect: D.Type,
        call: CallInProgress<D>,
        target: SwitchboardConfiguration.Target,
        provider: SwitchboardConfiguration.Provider,
        key: PoolKey,
        body: [UInt8],
        plan: Translation.Plan,
        deadline: Date,
        progress: AttemptProgress<D.Event>,
        sink: StreamSink<D.Event>?
    ) async throws -> AttemptOutcome {
        let request = ProviderRequest(
            url: provider.baseURL + (provider.kind == .openAI ? "/v1/chat/completions" : "/v1/messages"),
            headers: Self.headers(provider: provider, key: key),
            body: body
        )
        let timeouts = ExchangeTimeouts(
            firstByte: configuration.resilience.timeouts.firstByte,
            idle: configuration.resilience.timeouts.idle,
            remaining: deadline.duration(since: clock.now())
        )
        let format = provider.kind
        let providerName = target.provider
        let clock = clock
        let callerRequest = call.request
        let created = Int(clock.now().timeIntervalSince1970)
        return try await transport.exchange(request, timeouts: timeouts) { head, body in
            guard head.status == 200 else {
                let bytes = (try? await body.collect(upTo: 1 << 20)) ?? []
                let error = UpstreamError(status: head.status, provider: providerName, body: bytes)
                let snapshot = Self.rateLimitSnapshot(head, format: format, now: clock.now())
                return .failed(
                    .status(
                        head.status,
                        errorType: error.code ?? error.type,
                        retryAfter: snapshot.retryAfter,
                        shouldRetry: snapshot.shouldRetry
                    ),
                    message: error.message,
                    upstream: error,
                    head: head
                )
            }
            guard let sink else {
                let bytes = try await body.collect(upTo: 64 << 20)
                do {
                    let answer: UpstreamAnswer =
                        format == .openAI
                        ? .openAI(try OpenAI.ChatCompletion(parsing: bytes))
                        : .anthropic(try Anthropic.MessageResponse(parsing: bytes))
                    return .answered(answer, head: head)
                } catch {
                    return .failed(
                        .transport(.invalidResponse),
                        message: "the provider's answer is not a \(format.rawValue) response: \(error)",
                        upstream: nil,
                        head: head
                    )
                }
            }
            var parser = ServerSentEventParser()
            var translator = D.translator(from: format, plan: plan, request: callerRequest, created: created)
            func take(_ events: [ServerSentEvent]) -> AttemptOutcome? {
                for sse in events {
                    let event: UpstreamEvent
                    switch Self.upstreamEvent(sse, format: format) {
                    case .none: continue
                    case .event(let parsed): event = parsed
                    case .error(let status, let message):
                        return .failed(
                            .streamBroken(status: status, message: message),
                            message: message,
                            upstream: nil,
                            head: head
                        )
                    case .invalid(let message):
                        return .failed(.transport(.invalidResponse), message: message, upstream: nil, head: head)
                    }
                    progress.take(
                        event,
                        translated: translator.translate(event),
                        now: clock.now(),
                        sink: sink,
                        isTerminal: D.isTerminal
                    )
                }
                return nil
            }
            while let chunk = try await body.next() {
                let events: [ServerSentEvent]
                do {
                    events = try parser.feed(chunk)
                } catch {
                    return .failed(
                        .transport(.invalidResponse),
                        message: "the provider's stream is not SSE: \(error)",
                        upstream: nil,
                        head: head
                    )
                }
                if let failure = take(events) { return failure }
                await sink.waitForRoom()
            }
            if let failure = take(parser.finish()) { return failure }
            guard progress.snapshot.tally.complete else {
                return .failed(
                    .transport(.reset),
                    message: "the stream ended before its last event",
                    upstream: nil,
                    head: head
                )
            }
            progress.take(nil, translated: translator.finish(), now: clock.now(), sink: sink, isTerminal: D.isTerminal)
            return .streamed(head: head)
        }
    }

    enum ParsedEvent {
        case none
        case event(UpstreamEvent)
        case error(status: Int?, message: String)
        case invalid(String)
    }

    static func upstreamEvent(_ sse: ServerSentEvent, format: APIFormat) -> ParsedEvent {
        switch format {
        case .openAI:
            let data = sse.data.trimmingCharacters(in: .whitespaces)
            if data.isEmpty { return .none }
            if data == "[DONE]" { return .event(.openAIDone) }
            guard let json = try? JSONValue.parse(data) else { return .invalid("a stream event is not JSON") }
            if let error = json["error"], !error.isNull {
                let message = error["message"]?.stringValue ?? "the provider sent an error event"
                return .error(status: 500, message: SecretScanner.redact(message))
            }
            guard let chunk = try? OpenAI.ChatCompletionChunk(json: json) else {
                return .invalid("a stream event is not a chat completion chunk")
            }
            return .event(.openAI(chunk))
        case .anthropic:
            guard !sse.data.isEmpty, let json = try? JSONValue.parse(sse.data) else {
                return sse.data.isEmpty ? .none : .invalid("a stream event is not JSON")
            }
            guard let event = try? Anthropic.StreamEvent(json: json) else {
                return .invalid("a stream event is not an Anthropic event")
            }
            if case .error(let detail) = event {
                return .error(
                    status: detail.type == "overloaded_error" ? 529 : 500,
                    message: SecretScanner.redact(detail.message)
                )
            }
            return .event(.anthropic(event))
        }
    }

    // MARK: - Headers

    static func headers(provider: SwitchboardConfiguration.Provider, key: PoolKey) -> [HeaderField] {
        var fields = [
            HeaderField("content-type", "application/json"),
            HeaderField("accept", "application/json, text/event-stream"),
        ]
        switch provider.kind {
        case .openAI:
            fields.append(HeaderField("authorization", "Bearer \(key.secret.value)"))
        case .anthropic:
            fields.append(HeaderField("x-api-key", key.secret.value))
            fields.append(HeaderField("anthropic-version", provider.version))
        }
        return fields
    }

    static func rateLimitSnapshot(_ head: ResponseHead, format: APIFormat, now: Date) -> RateLimitSnapshot {
        switch format {
        case .openAI: RateLimitHeaders.parseOpenAI({ head.header($0) }, now: now)
        case .anthropic: RateLimitHeaders.parseAnthropic({ head.header($0) }, now: now)
        }
    }

    /// The rate-limit, retry and request-id headers of an answer, by lower-cased name, for the
    /// attempt's row.
    static func rateLimitHeaderFields(_ head: ResponseHead) -> [String: String] {
        var fields: [String: String] = [:]
        for field in head.headers where HeaderField.keptWithAttempt(field.name) {
            fields[field.name.lowercased()] = field.value
        }
        return fields
    }

    static func headroomJSON(_ headroom: Headroom, key: PoolKey, now: Date) -> JSONValue {
        var object: JSONObject = [
            "key": .string(key.secret.fingerprint),
            "share": .double((headroom.share(now: now) * 1000).rounded() / 1000),
        ]
        for dimension in Headroom.Dimension.allCases {
            if let available = headroom.available(dimension, now: now) {
                object[dimension.rawValue] = .integer(available)
            }
        }
        object["in_flight"] = .integer(headroom.inFlight)
        return .object(object)
    }
}

extension AttemptFailure {
    /// The delay the provider advertised with this failure.
    var retryAfter: Duration? {
        if case .status(_, _, let retryAfter, _) = self { return retryAfter }
        return nil
    }
}

/// What the pipeline follows of a request's long prefix (key affinity, `ttl: auto`): its
/// identity, its last use within the hour, and how long this call asks the provider to cache it.
struct PrefixUse: Sendable {
    var identity: String
    var known: PrefixRecord?
    var lifetime: Duration
}

extension Pipeline {
    /// Arranges the provider's prompt cache for the caller: OpenAI's `prompt_cache_key`, and
    /// Anthropic's breakpoints — for an hour, with `ttl: auto`, once the prefix has come back after
    /// its 5-minute entry went (or while it keeps coming back within the hour of an hour-long one).
    /// - Returns: the prefix's use, when key affinity or `ttl: auto` follow it.
    func arrangePromptCache(
        _ body: inout JSONValue,
        kind: APIFormat,
        target: SwitchboardConfiguration.Target,
        keyCount: Int,
        context: CallContext
    ) async -> PrefixUse? {
        let promptCache = configuration.cache.prompt
        let breakpoints = kind == .anthropic && promptCache.anthropicAutoBreakpoints
        let minimumTokens =
            switch kind {
            case .anthropic:
                prices.prices(for: target.model)?.promptCacheMinTokens ?? PromptCaching.defaultMinimumTokens
            case .openAI: PromptCaching.openAIMinimumTokens
            }
        if kind == .openAI {
            PromptCaching.addOpenAIPromptCacheKey(&body, policy: promptCache.openAIPromptCacheKey, context: context)
        }
        var use: PrefixUse?
        if (promptCache.keyAffinity && keyCount > 1) || (breakpoints && promptCache.ttlAuto),
            let identity = PromptCaching.prefixIdentity(body, kind: kind, minimumTokens: minimumTokens)
        {
            var known: PrefixRecord?
            do {
                known = try await pacer.prefixRecord(provider: target.provider, model: target.model, prefix: identity)
            } catch {
                Self.stateStoreFailed(logger, "prefix use not consulted", error)
            }
            var lifetime = kind == .anthropic ? promptCache.ttl : PromptCaching.openAILifetime
            if breakpoints, promptCache.ttlAuto, let known {
                let gap = clock.now().timeIntervalSince(known.lastUsed)
                if gap < PrefixRecords.retention, known.lifetime >= 3600 || gap > known.lifetime {
                    lifetime = .seconds(3600)
                }
            }
            use = PrefixUse(identity: identity, known: known, lifetime: lifetime)
        }
        if breakpoints {
            PromptCaching.addAnthropicBreakpoints(
                &body,
                minimumTokens: minimumTokens,
                ttl: use?.lifetime ?? promptCache.ttl
            )
        }
        return use
    }
}

/// Runs `operation` to completion even when the calling task is cancelled: bookkeeping that must
/// happen after a caller went away (releasing headroom, journaling the call).
func uncancellable<Result: Sendable>(_ operation: @escaping @Sendable () async -> Result) async -> Result {
    await Task { await operation() }.value
}
