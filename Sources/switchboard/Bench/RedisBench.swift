import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardRedis
import SwitchboardTesting
import SwitchboardWire

/// `switchboard bench redis`: limiter decisions, cache hits and state updates through Redis, one
/// at a time (latency) and many at once over pipelined connections (throughput).
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Limiter decisions and cache hits through Redis (starts a redis-server unless --url)."
    )

    @Option(help: "A Redis to measure (redis://host:port/db); the default starts a redis-server of its own.")
    var url: String?
    @Option(help: "Operations per measurement.") var count = 50_000
    @Option(help: "Operations in flight at once for the throughput rows.") var concurrency = 256
    @Option(help: "Connections the client keeps (each pipelines).") var connections = 2
    @Flag(help: "A short run (5,000 operations).") var quick = false
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        let count = quick ? 5_000 : self.count
        print("machine: \(Machine.description)")
        let server: RedisServer? = url == nil ? try await RedisServer.start() : nil
        let target = url ?? server!.url
        let version = try await Self.serverVersion(target)
        print("redis: \(version) at \(try RedisURL(target)); \(connections) connections, \(concurrency) in flight")
        let client = RedisClient(url: try RedisURL(target), connections: connections, commandTimeout: .seconds(5))
        let prefix = "bench-\(getpid()):"

        var table = TextTable([
            ("benchmark", .left), ("ops/s", .right), ("p50", .right), ("p99", .right), ("goal", .left),
        ])
        var headlines = Headlines()
        func add(_ name: String, _ result: Throughput, goal: String, area: String) {
            table.add([
                name, String(format: "%.0f", result.perSecond), CacheBench.format(result.timings.percentile(0.5)),
                CacheBench.format(result.timings.percentile(0.99)), goal,
            ])
            // One at a time the goal is on latency, many in flight on throughput.
            let met: Bool? =
                goal.hasPrefix("p99")
                ? result.timings.percentile(0.99) < 1e-3
                : goal.hasPrefix("≥") ? result.perSecond >= 50_000 : nil
            headlines.add(
                Headline(
                    area,
                    "\(name), Redis",
                    "\(Format.count(Int(result.perSecond)))/s, \(result.timings.summary)",
                    goal: goal == "-" ? "–" : goal,
                    met: met,
                    features: "\(version), \(connections) connections"
                )
            )
        }

        // Limiter decisions: one Lua script per call (requests and tokens, the server's clock).
        let limiter = RedisRateLimiter(client: client, prefix: prefix)
        let limits = SwitchboardConfiguration.Limits.UserLimits(rpm: 1_000_000_000, tpm: 1_000_000_000)
        let decide: @Sendable (Int) async throws -> Void = { index in
            _ = try await limiter.admit(
                subject: "user:u\(index % 1_000)",
                limits: limits,
                tokens: 100,
                shadow: false,
                now: Date()
            )
        }
        add(
            "limiter decision, one at a time",
            try await Self.measure(count / 5, inFlight: 1, decide),
            goal: "p99 < 1 ms",
            area: "limiter"
        )
        add(
            "limiter decisions, \(concurrency) in flight",
            try await Self.measure(count, inFlight: concurrency, decide),
            goal: "≥ 50,000/s",
            area: "limiter"
        )

        // Cache hits: a ~1 KB answer read back.
        let tier = RedisCacheTier(client: client, prefix: prefix)
        let now = Date()
        let entry = CacheEntry(
            response: [
                "id": "chatcmpl-bench", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [
                    [
                        "index": 0,
                        "message": [
                            "role": "assistant",
                            "content": .string(String(repeating: "The answer is here. ", count: 50)),
                        ],
                    ]
                ],
            ],
            costNanoUSD: 168_000,
            storedAt: now,
            expiresAt: now.addingTimeInterval(3_600)
        )
        for index in 0..<100 { try await tier.store("key\(index)", entry) }
        let hit: @Sendable (Int) async throws -> Void = { index in
            guard try await tier.entry("key\(index % 100)", now: now) != nil else {
                throw ValidationError("a cache miss")
            }
        }
        add(
            "cache hit, one at a time",
            try await Self.measure(count / 5, inFlight: 1, hit),
            goal: "p99 < 1 ms",
            area: "cache"
        )
        add(
            "cache hits, \(concurrency) in flight",
            try await Self.measure(count, inFlight: concurrency, hit),
            goal: "≥ 50,000/s",
            area: "cache"
        )

        // A state update (read, change in Swift, compare-and-set): budgets, headroom, circuits.
        let store = RedisStateStore(client: client, prefix: prefix)
        let update: @Sendable (Int) async throws -> Void = { index in
            _ = try await store.update("budget/bench/\(index % 1_000)", as: BudgetAccount.self) { account in
                var budget = account ?? BudgetAccount()
                defer { account = budget }
                return budget.reserve(1_000, limit: .max, now: now)
            }
        }
        add(
            "state update (CAS), \(concurrency) in flight",
            try await Self.measure(count / 2, inFlight: concurrency, update),
            goal: "-",
            area: "state"
        )
        print(table.rendered, terminator: "")
        try headlines.save(file)
        await client.close()
        await server?.stop()
    }

    struct Throughput {
        var perSecond: Double
        var timings: Timings
    }

    /// Runs `operation` `count` times with `inFlight` at once; the rate and each one's latency.
    static func measure(_ count: Int, inFlight: Int, _ operation: @escaping @Sendable (Int) async throws -> Void)
        async throws -> Throughput
    {
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var latencies: [Double] = []
                    var index = worker
                    while index < count {
                        let began = clock.now
                        try await operation(index)
                        latencies.append((clock.now - began).secondsDouble)
                        index += inFlight
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        let elapsed = (clock.now - start).secondsDouble
        return Throughput(perSecond: Double(count) / elapsed, timings: Timings(seconds: latencies))
    }

    static func serverVersion(_ url: String) async throws -> String {
        let client = RedisClient(url: try RedisURL(url))
        defer { Task { await client.close() } }
        let info = try await client.send("INFO", "server").string ?? ""
        let version = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }
        return version.map { "Redis " + $0.dropFirst("redis_version:".count) } ?? "Redis"
    }
}
