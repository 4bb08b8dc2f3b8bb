import Foundation
import Logging
import SwitchboardJournal
import SwitchboardWire
import Synchronization

/// What a call has gathered so far: it becomes the journal's row when the call ends.
struct CallInProgress<D: Dialect> {
    let request: D.Request
    let context: CallContext
    let startedAt: Date
    let stream: Bool
    let estimate: TokenEstimate
    var route: String?
    var target: SwitchboardConfiguration.Target?
    var attempts: [AttemptRecord] = []
    var events: [EventRecord] = []
    var tally = AnswerTally()
    var firstTokenAt: Date?
    var paced: Duration = .zero
    var fellBack = false
    var headroom: JSONValue?
    /// Budget reservations to settle when the call ends.
    var budgetHolds: [BudgetLedger.Hold] = []
    /// The moderation verdict, when it found anything.
    var moderation: JSONValue?
    /// The output checks' verdict, as journaled.
    var validation: JSONValue?
    /// Tokens of answers that were replaced (output validation's repairs), billed with the last.
    var earlierTokens = TokenCounts()
    /// The exact cache's outcome, what a hit saved, and the entry this call is to write.
    var cacheOutcome: CacheOutcome?
    var savedNanoUSD: Int64 = 0
    var cacheWrite: (key: String, ttl: Duration)?
    /// The tokens charged to the caller's per-minute limit, to settle to what was used.
    var limitCharge: (subject: String, limits: SwitchboardConfiguration.Limits.UserLimits, tokens: Int)?

    init(request: D.Request, context: CallContext, startedAt: Date, stream: Bool, estimate: TokenEstimate) {
        self.request = request
        self.context = context
        self.startedAt = startedAt
        self.stream = stream
        self.estimate = estimate
    }

    mutating func breakerEvent(
        _ transition: CircuitBreaker.Transition,
        target: SwitchboardConfiguration.Target,
        at: Date
    ) {
        var detail: JSONObject = [
            "from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue),
            "calls": .integer(transition.calls), "failures": .integer(transition.failures),
        ]
        if let probeAt = transition.probeAt { detail["probe_at"] = .string(RFC3339.format(probeAt)) }
        events.append(
            EventRecord(
                at: at,
                requestID: context.requestID,
                kind: "breaker",
                scope: target.description,
                detail: .object(detail)
            )
        )
    }

    /// The journal's row for the call.
    func record(
        outcome: CallOutcome,
        status: Int,
        errorClass: String?,
        errorMessage: String?,
        responseBody: String?,
        endedAt: Date,
        prices: PriceBook
    ) -> CallRecord {
        let answer = tally.text
        let tokens = self.tokens
        let model = tally.model ?? target?.model
        let question = D.lastUserText(request)
        return CallRecord(
            requestID: context.requestID,
            startedAt: startedAt,
            endedAt: endedAt,
            origin: context.origin,
            outcome: outcome,
            stream: stream,
            userID: context.userID,
            tenantID: context.tenantID,
            keyID: context.keyID,
            sessionID: context.sessionID,
            step: context.step,
            traceID: context.traceID,
            spanID: context.spanID,
            route: route,
            provider: target?.provider,
            modelRequested: D.model(of: request),
            modelUsed: model,
            httpStatus: status,
            errorClass: errorClass,
            errorMessage: errorMessage,
            latencyMilliseconds: endedAt.duration(since: startedAt).millisecondsDouble,
            timeToFirstTokenMilliseconds: firstTokenAt.map { $0.duration(since: startedAt).millisecondsDouble },
            tokens: tokens,
            // A call that reached no provider cost nothing; a model without a price is unknown
            // (NULL), never zero.
            costNanoUSD: cost(prices: prices),
            savedNanoUSD: saved(prices: prices),
            cache: cacheOutcome,
            pacedMilliseconds: paced.millisecondsDouble,
            fellBack: fellBack,
            moderation: moderation,
            validation: validation,
            headroom: headroom,
            requestBody: request.serialized(),
            responseBody: responseBody,
            searchText: [question, answer].filter { !$0.isEmpty }.joined(separator: "\n"),
            attempts: attempts,
            events: events
        )
    }

    /// The tokens to journal and bill: none when no provider was reached, or when the last one
    /// refused the request (an error status, or nothing at all before the connection failed):
    /// providers bill what they accepted. An answer cut short is billed for what came.
    var tokens: TokenCounts {
        guard let last = attempts.last else { return TokenCounts() }
        let accepted = last.httpStatus.map { (200..<300).contains($0) } ?? false
        return accepted || tally.began ? tally.journaledTokens(estimate: estimate) + earlierTokens : earlierTokens
    }

    /// What the call cost in nano-dollars: 0 when no provider was reached, `nil` when the model
    /// has no price.
    func cost(prices: PriceBook) -> Int64? {
        guard !attempts.isEmpty else { return 0 }
        return (tally.model ?? target?.model).flatMap { prices.cost(tokens, model: $0) }
    }

    /// What the caches saved: an exact-cache hit, the cost of the answer it replayed; otherwise
    /// what reading the provider's prompt cache saved.
    func saved(prices: PriceBook) -> Int64 {
        if cacheOutcome == .hit || cacheOutcome == .joined { return savedNanoUSD }
        guard !attempts.isEmpty, let model = tally.model ?? target?.model else { return 0 }
        return prices.prices(for: model)?.promptCacheSavings(tokens) ?? 0
    }

    /// What a stream said, for the journal's response column: the text, the finish and the usage.
    var streamSummary: String {
        var object: JSONObject = ["stream": true]
        if let model = tally.model { object["model"] = .string(model) }
        object["text"] = .string(tally.text)
        if let finish = tally.finishReason { object["finish_reason"] = .string(finish) }
        let tokens = tally.journaledTokens(estimate: estimate)
        object["usage"] = [
            "input_tokens": .integer(tokens.input), "cached_input_tokens": .integer(tokens.cachedInput),
            "output_tokens": .integer(tokens.output),
        ]
        return JSONValue.object(object).serialized()
    }
}

/// What an attempt's stream has delivered so far, shared between the task reading the provider's
/// answer and the pipeline (which needs it even when the exchange ends in a timeout).
final class AttemptProgress<Event: Sendable>: Sendable {
    struct State: Sendable {
        var tally = AnswerTally()
        /// Events reached the caller: the attempt can no longer be retried.
        var delivered = false
        var firstTokenAt: Date?
        /// Caller events held until the first token (so a stream that fails before it can be retried).
        var pending: [Event] = []
        /// The terminal event, held until the call is journaled.
        var held: [Event] = []
    }

    private let state = Mutex(State())

    var snapshot: State { state.withLock { $0 } }

    /// Takes in one upstream event (or `nil` at the end) and its translation, and delivers what
    /// may be delivered.
    func take(
        _ event: UpstreamEvent?,
        translated: [Event],
        now: Date,
        sink: StreamSink<Event>,
        isTerminal: (Event) -> Bool
    ) {
        let deliver = state.withLock { state -> [Event] in
            if let event, state.tally.add(event), state.firstTokenAt == nil { state.firstTokenAt = now }
            for item in translated {
                if isTerminal(item) { state.held.append(item) } else { state.pending.append(item) }
            }
            guard state.tally.sawToken || event == nil else { return [] }
            state.delivered = state.delivered || !state.pending.isEmpty
            defer { state.pending = [] }
            return state.pending
        }
        sink.yield(deliver)
    }
}

extension Pipeline {
    /// Journals a call that ended well and releases what was held for it.
    func succeed<D: Dialect>(
        _ call: inout CallInProgress<D>,
        response: D.Response?,
        sink: (StreamSink<D.Event>, [D.Event])?,
        outcome: CallOutcome = .ok
    ) async throws
        -> D.Response?
    {
        await settleCharges(&call)
        await storeInCache(&call, response: response)
        let record = call.record(
            outcome: outcome,
            status: 200,
            errorClass: nil,
            errorMessage: nil,
            responseBody: response?.serialized() ?? call.streamSummary,
            endedAt: clock.now(),
            prices: prices
        )
        call.context.onRecord?(record)
        try await journalCall(record, cancelled: false)
        if let (sink, held) = sink { sink.yield(held) }
        return response
    }

    /// Journals a call that failed and returns the error to throw.
    func fail<D: Dialect>(_ call: inout CallInProgress<D>, _ error: any Error) async -> any Error {
        let status: Int
        let errorClass: String
        let message: String
        let body: JSONValue?
        let cancelled = error is CancellationError
        switch error {
        case let error as SwitchboardError:
            (status, errorClass, message) = (error.httpStatus, error.code.name, error.message)
            body = error.body(D.format, requestID: call.context.requestID)
        case let error as UpstreamError:
            (status, errorClass, message) = (error.status, error.type, error.message)
            body = error.body(D.format, requestID: call.context.requestID)
        case is CancellationError:
            (status, errorClass, message) = (499, "cancelled", "the caller went away before the answer was complete")
            body = nil
        default:
            (status, errorClass, message) = (500, "internal", "\(error)")
            body = nil
        }
        await settleCharges(&call)
        if let write = call.cacheWrite, let cache {
            call.cacheWrite = nil
            await uncancellable { await cache.finish(write.key, with: nil) }
        }
        let record = call.record(
            outcome: Self.outcome(of: error),
            status: status,
            errorClass: errorClass,
            errorMessage: message,
            responseBody: body?.serialized() ?? (call.tally.text.isEmpty ? nil : call.streamSummary),
            endedAt: clock.now(),
            prices: prices
        )
        call.context.onRecord?(record)
        do {
            try await journalCall(record, cancelled: cancelled)
        } catch {
            logger.error(
                "a failed call could not be journaled",
                metadata: ["request.id": "\(call.context.requestID)", "error": "\(error)"]
            )
        }
        return error
    }

    /// Stores a good answer in the exact cache (handing it to the calls that joined this one).
    func storeInCache<D: Dialect>(_ call: inout CallInProgress<D>, response: D.Response?) async {
        guard let write = call.cacheWrite, let cache else { return }
        call.cacheWrite = nil
        let now = clock.now()
        let whole =
            response
            ?? D.response(
                from: call.tally,
                request: call.request,
                requestID: call.context.requestID,
                created: Int(now.timeIntervalSince1970)
            )
        let entry = whole.map {
            CacheEntry(
                response: $0.json,
                costNanoUSD: call.cost(prices: prices),
                storedAt: now,
                expiresAt: now.adding(write.ttl),
                timeToFirstToken: call.firstTokenAt.map { $0.duration(since: call.startedAt) },
                duration: now.duration(since: call.startedAt)
            )
        }
        await uncancellable { await cache.finish(write.key, with: entry) }
    }

    /// How a failed call is journaled: the caller's limits and budgets, moderation and validation
    /// have outcomes of their own.
    static func outcome(of error: any Error) -> CallOutcome {
        guard let error = error as? SwitchboardError else { return .error }
        switch error.code {
        case .budgetExceeded: return .budget
        case .rateLimited, .tokenLimited: return .rateLimited
        case .moderationBlocked: return .blocked
        case .invalidOutput: return .invalidOutput
        default: return .error
        }
    }

    /// Settles the call's budget reservations to its real cost, noting the soft limits it crossed,
    /// and its per-minute token charge to the tokens it used.
    func settleCharges<D: Dialect>(_ call: inout CallInProgress<D>) async {
        let charge = call.limitCharge
        let holds = call.budgetHolds
        call.limitCharge = nil
        call.budgetHolds = []
        guard charge != nil || !holds.isEmpty else { return }
        let used = call.tokens.totalInput + call.tokens.output
        let cost = call.cost(prices: prices) ?? 0
        let now = clock.now()
        // Both in one task shielded from the caller going away.
        let crossed = await uncancellable { [limiter, budgets, logger] in
            if let charge {
                do {
                    try await limiter.settle(
                        subject: charge.subject,
                        limits: charge.limits,
                        charged: charge.tokens,
                        used: used,
                        now: now
                    )
                } catch {
                    Self.stateStoreFailed(logger, "token limit not settled", error)
                }
            }
            guard !holds.isEmpty else { return [] as [(hold: BudgetLedger.Hold, spent: Int64)] }
            do {
                return try await budgets.settle(holds, cost: cost)
            } catch {
                Self.stateStoreFailed(logger, "budget not settled", error)
                return []
            }
        }
        for (hold, spent) in crossed {
            call.events.append(
                EventRecord(
                    at: clock.now(),
                    requestID: call.context.requestID,
                    kind: "budget_soft",
                    scope: hold.owner,
                    detail: [
                        "period": .string(hold.period), "spent_nano_usd": .integer(Int(spent)),
                        "soft_nano_usd": .integer(Int(hold.softNanoUSD)),
                        "hard_nano_usd": .integer(Int(hold.hardNanoUSD)),
                    ]
                )
            )
        }
    }

    /// Writes the call's row: durably (committed before the answer is released) when so
    /// configured, otherwise queued. A call whose caller went away is always queued.
    /// - Throws: ``SwitchboardError`` `journal_unavailable` when a durable write fails.
    func journalCall(_ record: CallRecord, cancelled: Bool) async throws {
        guard let journal else { return }
        if cancelled || !configuration.journal.durable {
            _ = await uncancellable { await journal.submit(.call(record)) }
            return
        }
        do {
            try await journal.write(record)
        } catch {
            throw SwitchboardError(
                .journalUnavailable,
                "the call could not be journaled (\(error.message)); retry, or ask the operator to check the journal",
                retryAfter: .seconds(1),
                cause: error
            )
        }
    }
}
