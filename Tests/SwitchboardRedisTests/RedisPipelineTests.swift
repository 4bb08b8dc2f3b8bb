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
                    $0.limits.users["eve"] = .init(rpm: 2, tpm: 100_000)
                }
            }
            var outcomes: [Bool] = []
            // Redis's clock runs: two a minute refill one every 30 s, longer than these calls take.
            for index in 0..<4 { outcomes.append(await served(hosts[index % 2], user: "eve")) }
            #expect(outcomes == [true, true, false, false], "\(log.all)")
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
            configuration.limits.users["kim"] = .init(rpm: 2, tpm: 100_000)
        }
        try await withSimulator { fixture in
            let prefix = RedisServer.uniquePrefix()
            let first = try pipeline(fixture, url: url, prefix: prefix, clock: behind, configure: limited)
            let second = try pipeline(fixture, url: url, prefix: prefix, clock: ahead, configure: limited)
            for _ in 0..<2 { #expect(await served(first, user: "kim")) }
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
            for _ in 0..<2 { #expect(await served(local, user: "kim")) }
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

    @Test func withRedisDownTheCacheAndLimitsFailOpenBudgetsClosedAndItRecovers() async throws {
        let server = try await RedisServer.start()
        let log = RecordingLogHandler.Recorder()
        let prefix = RedisServer.uniquePrefix()
        try await withSimulator { fixture in
            let open = try pipeline(fixture, url: server.url, prefix: prefix, logger: log.logger(level: .info)) {
                $0.limits.users["eve"] = .init(rpm: 2, tpm: 100_000)
                $0.state.onRedisDown.budgets = .open
            }
            let closed = try pipeline(fixture, url: server.url, prefix: prefix, logger: quietLogger) {
                $0.state.onRedisDown.budgets = .closed
            }
            #expect(await served(open, user: "eve"))
            await server.stop()

            // Limits open: past eve's two a minute, because nothing can count them now.
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
            #expect(await served(open, user: "eve"))
            #expect(await served(open, user: "eve") == false, "two a minute, counted again")
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
