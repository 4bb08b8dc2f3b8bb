import Foundation
import Logging
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardWire

extension Pipeline {
    /// The stages before any provider is asked, in order: the caller's per-minute limits, input
    /// moderation, the exact cache and the budget. A stage that refuses the call throws (the call
    /// journaled as it ended).
    /// - Returns: `.served` when the cache answered; `nil` to go on to the providers.
    func admit<D: Dialect>(
        _ call: inout CallInProgress<D>,
        route: (name: String?, targets: [SwitchboardConfiguration.Target]),
        limited: (subject: String, limits: SwitchboardConfiguration.Limits.UserLimits)?,
        sink: StreamSink<D.Event>?
    ) async throws -> CacheService<D.Response>? {
        // Per-user limits: one request and the estimated tokens per minute.
        if let limited {
            do {
                let status = try await limiter.admit(
                    subject: limited.subject,
                    limits: limited.limits,
                    tokens: call.estimate.total,
                    shadow: configuration.limits.shadow,
                    now: call.startedAt
                )
                call.context.onLimits?(status)
                if status.allowed || status.shadow {
                    call.limitCharge = (limited.subject, limited.limits, call.estimate.total)
                }
                if !status.allowed {
                    let requests = !status.requests.allowed
                    let decision = requests ? status.requests : status.tokens
                    let unit = requests ? "requests" : "tokens"
                    let message =
                        decision.retryAfter == nil
                        ? "this call's \(call.estimate.total) estimated tokens are over \(status.subject)'s whole limit of \(decision.limit) tokens per minute; send less, or ask for a higher limit"
                        : "\(status.subject) is over its limit of \(decision.limit) \(unit) per minute; retry after \(GoDuration.format(decision.retryAfter ?? .zero))"
                    if status.shadow {
                        call.events.append(
                            EventRecord(
                                at: call.startedAt,
                                requestID: call.context.requestID,
                                kind: "limit_shadow",
                                scope: status.subject,
                                detail: ["limit": .string(unit), "message": .string(message)]
                            )
                        )
                    } else {
                        throw await fail(
                            &call,
                            SwitchboardError(
                                requests ? .rateLimited : .tokenLimited,
                                message,
                                retryAfter: decision.retryAfter
                            )
                        )
                    }
                }
            } catch let error as SwitchboardError {
                throw error
            } catch {
                if let refusal = stateFailed(error, checking: "limits", policy: configuration.state.onRedisDown.limits)
                {
                    throw await fail(&call, refusal)
                }
            }
        }

        // Input moderation, before the cache and any provider.
        if configuration.moderation.localEnabled || configuration.moderation.openAIEnabled {
            let (verdict, refusal) = await moderate(D.userText(call.request))
            if !verdict.scores.isEmpty || verdict.endpoint != nil { call.moderation = verdict.json }
            if let refusal { throw await fail(&call, refusal) }
            if verdict.isBlocked {
                throw await fail(
                    &call,
                    SwitchboardError(
                        .moderationBlocked,
                        "input moderation blocked the request (\(verdict.blocked.joined(separator: ", "))); rephrase it, or ask an operator about the moderation policy"
                    )
                )
            }
        }

        // The exact cache: a hit (or the answer of an identical call in flight) costs nothing.
        if let cache {
            if let plan = cachePlan(D.self, call.request, context: call.context, route: route.name) {
                call.cacheOutcome = .miss
                var lookup = ExactCache.Lookup.lead
                if plan.read { lookup = await cache.lookup(plan.key, now: call.startedAt) }
                switch lookup {
                case .hit(let entry), .joined(let entry?):
                    let outcome: CacheOutcome = if case .hit = lookup { .hit } else { .joined }
                    if case .served(let response) = try await serveCached(&call, entry, outcome: outcome, sink: sink) {
                        return .served(response)
                    }
                    call.cacheWrite = (plan.key, plan.ttl)
                case .joined(nil):
                    break  // the identical call failed: ask the provider
                case .lead:
                    call.cacheWrite = (plan.key, plan.ttl)
                }
            } else {
                call.cacheOutcome = .bypass
            }
        }

        // Budgets: reserve the worst case before anything is sent.
        if !budgets.accounts(userID: call.context.userID, tenantID: call.context.tenantID).isEmpty {
            do {
                call.budgetHolds = try await budgets.reserve(
                    userID: call.context.userID,
                    tenantID: call.context.tenantID,
                    own: call.context.budget,
                    worstCase: worstCase(route.targets, estimate: call.estimate),
                    now: call.startedAt
                )
            } catch let error as SwitchboardError {
                throw await fail(&call, error)
            } catch {
                if let refusal = stateFailed(
                    error,
                    checking: "budgets",
                    policy: configuration.state.onRedisDown.budgets
                ) {
                    throw await fail(&call, refusal)
                }
            }
        }
        return nil
    }

    /// What a state store failure means for the call: with Redis, `state.on_redis_down` (an
    /// outage is logged once by the client, not per call); otherwise the call goes on, logged.
    /// - Returns: the error to refuse the call with, or `nil` to go on without the check.
    func stateFailed(_ error: any Error, checking what: String, policy: SwitchboardConfiguration.State.Failure)
        -> SwitchboardError?
    {
        Self.stateStoreFailed(logger, "\(what) not checked", error)
        guard redis != nil else { return nil }
        if let redisError = error as? RedisError, redisError.isOutage {
            guard policy == .closed else { return nil }
            return SwitchboardError(
                .stateUnavailable,
                "\(what) cannot be checked: the shared state store (Redis) is unreachable and state.on_redis_down.\(what) is closed; retry shortly, or ask an operator to restore Redis",
                retryAfter: .seconds(1),
                cause: redisError
            )
        }
        return policy == .closed
            ? SwitchboardError(
                .stateUnavailable,
                "\(what) cannot be checked: the shared state store failed (\(error)); retry shortly",
                retryAfter: .seconds(1)
            ) : nil
    }

    /// Logs a state store failure that the call goes on without, except a Redis outage, which the
    /// client logs once when it begins and once when it ends (never per call).
    static func stateStoreFailed(_ logger: Logger, _ consequence: String, _ error: any Error) {
        if let redisError = error as? RedisError, redisError.isOutage { return }
        logger.warning("state store failed; \(consequence)", metadata: ["error": "\(error)"])
    }

    /// Whether the exact cache takes part in a call, under which key and for how long: a route's
    /// `cache.ttl` or the caller's `x-switchboard-cache-control: ttl=N` opt in; otherwise only
    /// deterministic requests (temperature 0 or a seed) are cached, for `cache.exact.default_ttl`,
    /// unless `deterministic_only` is off. `no-store` bypasses the cache; `no-cache` skips the
    /// lookup but stores the new answer.
    func cachePlan<D: Dialect>(_ dialect: D.Type, _ request: D.Request, context: CallContext, route: String?) -> (
        key: String, ttl: Duration, read: Bool
    )? {
        let exact = configuration.cache.exact
        var ttl: Duration?
        switch context.cacheControl {
        case .noStore: return nil
        case .ttl(let requested): ttl = requested
        case .noCache, nil: break
        }
        ttl = ttl ?? route.flatMap { configuration.routes[$0]?.cacheTTL }
        if ttl == nil, !exact.deterministicOnly || D.isDeterministic(request) { ttl = exact.defaultTTL }
        guard let ttl else { return nil }
        return (
            CacheKey.make(format: D.format, body: request.json, tenant: context.tenantID), ttl,
            context.cacheControl != .noCache
        )
    }

    /// Answers from a cache entry: the whole response, or its events for a stream; journaled with
    /// outcome `cached`, cost 0 and the cost it saved.
    func serveCached<D: Dialect>(
        _ call: inout CallInProgress<D>,
        _ entry: CacheEntry,
        outcome: CacheOutcome,
        sink: StreamSink<D.Event>?
    ) async throws -> CacheService<D.Response> {
        guard let response = try? D.Response(json: entry.response) else {
            logger.warning(
                "a cache entry does not read as a response; asking the provider",
                metadata: ["request.id": "\(call.context.requestID)"]
            )
            return .unreadable
        }
        call.cacheOutcome = outcome
        call.savedNanoUSD = entry.costNanoUSD ?? 0
        call.tally = AnswerTally(D.answer(response))
        guard let sink else {
            // A whole answer has no first token (as from a provider).
            return .served(try await succeed(&call, response: response, sink: nil, outcome: .cached))
        }
        call.firstTokenAt = clock.now()
        let events = D.replay(response, request: call.request, created: Int(clock.now().timeIntervalSince1970))
        let flowing = events.filter { !D.isTerminal($0) }
        if configuration.cache.exact.replayPacing, let first = entry.timeToFirstToken, let whole = entry.duration {
            // The original pace: the first event after its time to first token, the rest spread
            // evenly over the rest of its length.
            let spacing = flowing.count > 1 ? (whole - first) / (flowing.count - 1) : .zero
            do {
                try await clock.sleep(for: first)
                call.firstTokenAt = clock.now()
                for (index, event) in flowing.enumerated() {
                    if index > 0 { try await clock.sleep(for: spacing) }
                    sink.yield([event])
                }
            } catch {
                throw await fail(&call, CancellationError())
            }
        } else {
            sink.yield(flowing)
        }
        _ = try await succeed(&call, response: nil, sink: (sink, events.filter(D.isTerminal)), outcome: .cached)
        return .served(nil)
    }

    /// Who a call's per-minute limits count against, and which limits: a user (their own limits,
    /// the route's, or the default), else the caller's address (the anonymous limits); `nil` for
    /// a library call with neither.
    func limitSubject(_ context: CallContext, model: String) -> (
        subject: String, limits: SwitchboardConfiguration.Limits.UserLimits
    )? {
        let settings = configuration.limits
        if let user = context.userID {
            let limits = context.limits ?? settings.routes[model] ?? settings.users[user] ?? settings.defaultUser
            return ("user:\(user)", limits)
        }
        if let address = context.clientAddress { return ("ip:\(address)", context.limits ?? settings.anonymous) }
        return nil
    }

    /// The most a call can cost on any of `targets`: its estimated input at the dearest input
    /// price (a cache write may cost more than plain input) and its output ceiling. Targets
    /// without a price add nothing.
    func worstCase(_ targets: [SwitchboardConfiguration.Target], estimate: TokenEstimate) -> Int64 {
        targets.compactMap { prices.prices(for: $0.model) }.map { model in
            [
                TokenCounts(input: estimate.input, output: estimate.output),
                TokenCounts(cacheWrite5m: estimate.input, output: estimate.output),
                TokenCounts(cacheWrite1h: estimate.input, output: estimate.output),
            ].map(model.cost).max() ?? 0
        }.max() ?? 0
    }
}

/// What answering from a cache entry came to.
enum CacheService<Response> {
    /// Answered: the whole response, or `nil` for a stream (its events went to the caller).
    case served(Response?)
    /// The entry did not read as a response: ask the provider (and replace it).
    case unreadable
}
