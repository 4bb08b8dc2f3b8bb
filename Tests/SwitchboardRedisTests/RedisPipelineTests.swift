import Foundation
import Logging
import SwitchboardCore
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Synchronization
import Testing

/// Pipelines sharing state through a real Redis: each pipeline stands for a gateway on its own
/// host (its own Redis connections, its own clock).
struct RedisPipelineTests {
    /// A pipeline on Redis at `url` under `prefix`, with `configure` applied.
    func pipeline(
        _ fixture: SimulatorFixture,
        url: String,
        prefix: String,
        clock: any WallClock = SystemWallClock(),
        logger: Logger = quietLogger,
        configure: (inout SwitchboardConfiguration) -> Void = { _ in }
    ) throws -> Pipeline {
        var configuration = testConfiguration(baseURL: fixture.baseURL, directory: try temporaryDirectory())
        configuration.state.backend = .redis
        configuration.state.redisURL = url
        configuration.state.redisPrefix = prefix
        // Generous: both cores are busy with other suites (the timeout is the client tests' to try).
        configuration.state.redisTimeout = .seconds(10)
        configure(&configuration)
        return try Pipeline(configuration: configuration, clock: clock, random: SeededRandom(seed: 3), logger: logger)
    }

    /// Whether each call was served.
    func served(
        _ pipeline: Pipeline,
        user: String,
        request: OpenAI.ChatCompletionRequest = openAIRequest(model: "openai/gpt-4o-mini")
    ) async -> Bool {
        (try? await pipeline.chat(request, context: CallContext(userID: user))) != nil
    }

    @Test func twoPipelinesCountAgainstOneLimit() async throws {
        let url = try await RedisServer.sharedURL()
        let prefix = RedisServer.uniquePrefix()
        let log = RecordingLogHandler.Recorder()
        try await withSimulator { fixture in
            let hosts = try (0..<2).map { _ in
                try pipeline(fixture, url: url, prefix: prefix, logger: log.logger(level: .info)) {
                    $0.limits.users["eve"] = .init(rpm: 1, tpm: 100_000)
                }
            }
            var outcomes: [Bool] = []
            // Redis's clock runs: one a minute refills after 60 s, longer than these calls take.
            for index in 0..<3 { outcomes.append(await served(hosts[index % 2], user: "eve")) }
            #expect(outcomes == [true, false, false], "\(log.all)")
            for host in hosts { await host.close() }
        }
    }

    @Test func skewedHostClocksMakeTheSameDecisionsOnRedisButNotOnHostClocks() async throws {
        let url = try await RedisServer.sharedURL()
        let now = Date()
        // One host's clock runs 90 s behind, the other's 90 s ahead.
        let behind = ManualClock(start: now.addingTimeInterval(-90))
        let ahead = ManualClock(start: now.addingTimeInterval(90))
        @Sendable func limited(_ configuration: inout SwitchboardConfiguration) {
            configuration.limits.users["kim"] = .init(rpm: 1, tpm: 100_000)
        }
        try await withSimulator { fixture in
            let prefix = RedisServer.uniquePrefix()
            let first = try pipeline(fixture, url: url, prefix: prefix, clock: behind, configure: limited)
            let second = try pipeline(fixture, url: url, prefix: prefix, clock: ahead, configure: limited)
            #expect(await served(first, user: "kim"))
            #expect(await served(second, user: "kim") == false, "the limit is spent whatever the host's clock says")
            for host in [first, second] { await host.close() }

            // The same on one shared SQLite file, where each host decides on its own clock: the
            // host ahead sees the first host's minute as long past.
            let statePath = "\(try temporaryDirectory())/state.sqlite"
            var configuration = testConfiguration(baseURL: fixture.baseURL, directory: try temporaryDirectory())
            limited(&configuration)
            let local = try Pipeline(
                configuration: configuration,
                store: try SQLiteStateStore(path: statePath),
                clock: behind,
                logger: quietLogger
            )
            let skewed = try Pipeline(
                configuration: configuration,
                store: try SQLiteStateStore(path: statePath),
                clock: ahead,
                logger: quietLogger
            )
            #expect(await served(local, user: "kim"))
            #expect(await served(skewed, user: "kim"), "host clocks disagree, so the limit was not shared")
        }
    }

    @Test func anAnswerCachedByOneHostIsAHitOnTheOther() async throws {
        let url = try await RedisServer.sharedURL()
        let prefix = RedisServer.uniquePrefix()
        try await withSimulator { fixture in
            let first = try pipeline(fixture, url: url, prefix: prefix)
            let second = try pipeline(fixture, url: url, prefix: prefix)
            var request = openAIRequest("What is the refund window?", model: "openai/gpt-4o-mini")
            request.temperature = 0
            let outcomes = Shared<[CacheOutcome?]>([])
            var context = CallContext(userID: "ann")
            context.onRecord = { record in outcomes.change { $0.append(record.cache) } }
            let made = try await first.chat(request, context: context)
            context.requestID = CallContext.newRequestID()
            let hit = try await second.chat(request, context: context)
            #expect(outcomes.value == [.miss, .hit])
            #expect(hit.choices.first?.message.content == made.choices.first?.message.content)
            #expect(fixture.simulator.stats.snapshot.requests == 1, "the second host never asked the provider")
            for host in [first, second] { await host.close() }
        }
    }

    @Test func twoHostsSpendingOneBudgetConcurrentlyNeverOvershootIt() async throws {
        let url = try await RedisServer.sharedURL()
        let prefix = RedisServer.uniquePrefix()
        let hard: Int64 = 200_000  // $0.0002: a handful of gpt-4o-mini calls
        try await withSimulator { fixture in
            let hosts = try (0..<2).map { _ in
                try pipeline(fixture, url: url, prefix: prefix) {
                    $0.budgets.users["bob"] = .init(hardNanoUSD: hard, softNanoUSD: hard)
                }
            }
            let spent = Shared<Int64>(0)
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        var context = CallContext(userID: "bob")
                        context.onRecord = { record in spent.change { $0 += record.costNanoUSD ?? 0 } }
                        let request = openAIRequest("Question \(index)", model: "openai/gpt-4o-mini")
                        return (try? await hosts[index % 2].chat(request, context: context)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            let served = results.filter { $0 }.count
            #expect(served > 0 && served < 40, "some calls fit the budget, the rest were refused: \(served)")
            #expect(spent.value <= hard, "no overshoot across hosts")
            for host in hosts { await host.close() }
        }
    }

    @Test func headroomLearntByOneHostPacesTheOther() async throws {
        let url = try await RedisServer.sharedURL()
        let prefix = RedisServer.uniquePrefix()
        let clock = ManualClock()
        var simulator = SimulatorConfiguration.testing
        simulator.limits.openAI = .init(window: .seconds(60), requests: 3, tokens: 1_000_000)
        try await withSimulator(simulator, now: { clock.now() }) { fixture in
            let first = try pipeline(fixture, url: url, prefix: prefix, clock: clock)
            let second = try pipeline(fixture, url: url, prefix: prefix, clock: clock)
            let request = openAIRequest(model: "openai/gpt-4o-mini")
            for _ in 0..<3 { _ = try await first.chat(request) }
            let waiting = Task { try await second.chat(request) }
            await clock.sleepers(atLeast: 1)
            #expect(fixture.simulator.stats.snapshot.requests == 3, "the second host waits instead of earning a 429")
            clock.advanceToNextSleeper()
            _ = try await waiting.value
            #expect(fixture.simulator.stats.snapshot.rateLimited == 0)
            for host in [first, second] { await host.close() }
        }
    }

    @Test func aCircuitOpenedByOneHostIsSkippedByTheOther() async throws {
        let url = try await RedisServer.sharedURL()
        let prefix = RedisServer.uniquePrefix()
        let clock = ManualClock()
        try await withSimulator(now: { clock.now() }) { fixture in
            @Sendable func breaker(_ configuration: inout SwitchboardConfiguration) {
                configuration.resilience.breaker.minCalls = 4
                configuration.resilience.breaker.failureRatio = 0.5
                configuration.resilience.retry.maxAttempts = 2
                configuration.resilience.retryBudget.minPerSecond = 100
            }
            let first = try pipeline(fixture, url: url, prefix: prefix, clock: clock, configure: breaker)
            let second = try pipeline(fixture, url: url, prefix: prefix, clock: clock, configure: breaker)
            fixture.simulator.startOutage(provider: .openAI, status: 500, duration: .seconds(3600))
            let providers = Shared<[[String]]>([])
            var context = CallContext()
            context.onRecord = { record in providers.change { $0.append(record.attempts.map(\.provider)) } }
            // Two calls on the first host: four 500s from OpenAI open its circuit.
            for _ in 0..<2 {
                context.requestID = CallContext.newRequestID()
                _ = try await clock.autoAdvancing { try await first.chat(openAIRequest(), context: context) }
            }
            context.requestID = CallContext.newRequestID()
            _ = try await clock.autoAdvancing { try await second.chat(openAIRequest(), context: context) }
            #expect(providers.value.first == ["openai", "openai", "anthropic"])
            #expect(providers.value.last == ["anthropic"], "the second host knew the circuit was open")
            for host in [first, second] { await host.close() }
        }
    }

    @Test func theRedisLimiterDecidesAsTheGCRADoes() async throws {
        let client = RedisClient(
            url: try RedisURL(try await RedisServer.sharedURL()),
            connectTimeout: .seconds(10),
            commandTimeout: .seconds(10),
            logger: quietLogger
        )
        let limiter = RedisRateLimiter(client: client, prefix: RedisServer.uniquePrefix())
        let limits = SwitchboardConfiguration.Limits.UserLimits(rpm: 3, tpm: 1_000)
        func admit(_ subject: String, tokens: Int, shadow: Bool = false) async throws -> LimitStatus {
            try await limiter.admit(subject: subject, limits: limits, tokens: tokens, shadow: shadow, now: Date())
        }
        // Three requests a minute: 2, 1, 0 left, then refused until the first refills (~20 s).
        // Redis's clock runs (a busy machine may take seconds over these calls): what refills
        // meanwhile is allowed for.
        let start = ContinuousClock.now
        var left: [Int] = []
        for _ in 0..<3 { left.append(try await admit("user:a", tokens: 100).requests.remaining) }
        #expect(left == [2, 1, 0])
        let refused = try await admit("user:a", tokens: 100)
        #expect(!refused.allowed && !refused.requests.allowed && refused.tokens.allowed)
        let elapsed = ContinuousClock.now - start
        let wait = try #require(refused.requests.retryAfter)
        #expect(wait <= .seconds(20) && wait >= .seconds(20) - elapsed - .milliseconds(50), "\(wait) after \(elapsed)")
        // The refused request took no tokens: 300 of 1,000 are used (one refills every 60 ms).
        let refilled = Int(elapsed / .milliseconds(60)) + 1
        #expect((700...(700 + refilled)).contains(refused.tokens.remaining), "\(refused.tokens.remaining)")

        // More tokens than the whole limit: refused for good (no retry), the request given back.
        let tooBig = try await admit("user:b", tokens: 1_500)
        #expect(!tooBig.tokens.allowed && tooBig.tokens.retryAfter == nil && tooBig.requests.allowed)
        #expect(try await admit("user:b", tokens: 10).requests.remaining == 2, "only this request counted")

        // Settling gives back what the estimate overcharged.
        try await limiter.settle(subject: "user:b", limits: limits, charged: 10, used: 4, now: Date())
        #expect((996...1_000).contains(try await admit("user:b", tokens: 0).tokens.remaining))

        // Shadow mode reports the refusal and lets the call through.
        for _ in 0..<3 { _ = try await admit("user:c", tokens: 1, shadow: true) }
        let shadowed = try await admit("user:c", tokens: 1, shadow: true)
        #expect(!shadowed.allowed && shadowed.shadow)
        await client.close()
    }

    @Test func concurrentDecisionsBatchedTogetherGrantExactlyTheLimit() async throws {
        let url = try RedisURL(try await RedisServer.sharedURL())
        let prefix = RedisServer.uniquePrefix()
        let clients = (0..<2).map { _ in
            RedisClient(url: url, connectTimeout: .seconds(10), commandTimeout: .seconds(10), logger: quietLogger)
        }
        let limiters = clients.map { RedisRateLimiter(client: $0, prefix: prefix) }
        let limits = SwitchboardConfiguration.Limits.UserLimits(rpm: 50, tpm: 1_000_000)
        // 400 at once from two limiters (two hosts' worth of batches) on two subjects. The limit
        // gives one request back every 1.2 s of Redis time; on a loaded machine the 400 can take
        // longer than that (19.6 s once under the full suite), and each request given back may be
        // granted. So exactly 50 when the decisions took under 1.2 s, never fewer, and never more
        // than 50 plus what refilled meanwhile.
        let start = ContinuousClock.now
        let allowed = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<400 {
                let subject = index % 4 == 0 ? "user:light" : "user:heavy"
                group.addTask {
                    let status = try await limiters[index % 2].admit(
                        subject: subject,
                        limits: limits,
                        tokens: 10,
                        shadow: false,
                        now: Date()
                    )
                    return (subject, status.allowed)
                }
            }
            return try await group.reduce(into: [String: Int]()) { counts, result in
                if result.1 { counts[result.0, default: 0] += 1 }
            }
        }
        let refilled = Int((ContinuousClock.now - start) / .milliseconds(1_200))
        #expect(Set(allowed.keys) == ["user:heavy", "user:light"])
        for (subject, granted) in allowed {
            #expect((50...(50 + refilled)).contains(granted), "\(subject): \(granted) granted, \(refilled) refilled")
        }
        for client in clients { await client.close() }
    }

    @Test func updatesFromTwoClientsAtOnceLoseNothing() async throws {
        let url = try RedisURL(try await RedisServer.sharedURL())
        let prefix = RedisServer.uniquePrefix()
        let stores = (0..<2).map { _ in
            RedisStateStore(
                client: RedisClient(
                    url: url,
                    connectTimeout: .seconds(10),
                    commandTimeout: .seconds(10),
                    logger: quietLogger
                ),
                prefix: prefix
            )
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await stores[index % 2].update("counter", as: Int.self) { value in value = (value ?? 0) + 1 }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await stores[0].values(["counter", "absent"], as: Int.self) == ["counter": 200])
        try await stores[1].update("counter", as: Int.self) { $0 = nil }
        #expect(try await stores[0].values(["counter"], as: Int.self).isEmpty, "setting nil deletes")
        for store in stores { await store.client.close() }
    }

    @Test func withRedisDownTheCacheAndLimitsFailOpenBudgetsClosedAndItRecovers() async throws {
        let server = try await RedisServer.start()
        let log = RecordingLogHandler.Recorder()
        let prefix = RedisServer.uniquePrefix()
        try await withSimulator { fixture in
            let open = try pipeline(fixture, url: server.url, prefix: prefix, logger: log.logger(level: .info)) {
                $0.limits.users["eve"] = .init(rpm: 1, tpm: 100_000)
                $0.state.onRedisDown.budgets = .open
            }
            let closed = try pipeline(fixture, url: server.url, prefix: prefix, logger: quietLogger) {
                $0.state.onRedisDown.budgets = .closed
            }
            #expect(await served(open, user: "eve"))
            await server.stop()

            // Limits open: past eve's one a minute, because nothing can count them now.
            for _ in 0..<3 { #expect(await served(open, user: "eve")) }
            do {
                _ = try await closed.chat(
                    openAIRequest(model: "openai/gpt-4o-mini"),
                    context: CallContext(userID: "eve")
                )
                Issue.record("a closed budget let a call through with Redis down")
            } catch let error as SwitchboardError {
                #expect(error.code == .stateUnavailable && error.httpStatus == 503)
                #expect(error.message.contains("unreachable"))
            }
            let outageLines = log.all.filter { $0.contains("unreachable") }
            #expect(outageLines.count == 1, "one line per outage, not per call: \(log.all)")
            #expect(!log.all.contains { $0.contains("state store failed") })

            try await server.run()
            try await poll("both hosts to reach Redis again") {
                let first = (try? await open.redis?.send("PING"))?.string
                let second = (try? await closed.redis?.send("PING"))?.string
                return first == "PONG" && second == "PONG"
            }
            #expect(log.all.contains { $0.contains("answers again") })
            #expect(await served(closed, user: "fay"), "budgets are checked again")
            // The restarted server kept nothing: eve's minute starts again, and is counted.
            #expect(await served(open, user: "eve"))
            #expect(await served(open, user: "eve") == false, "one a minute, counted again")
            for host in [open, closed] { await host.close() }
        }
        await server.stop()
    }
}

/// A value that callbacks on other tasks change.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    func change(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
}
