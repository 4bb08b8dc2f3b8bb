import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Synchronization

/// `switchboard bench gateway`: what the gateway adds over calling the simulator directly.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Gateway overhead: added latency at fixed rates, maximum throughput, cache hits end to end.",
        discussion: """
            Runs the simulator (no latency) and a gateway in front of it in this process, with the \
            journal on (durable, redacted bodies, full-text index), local moderation, per-user limits \
            and budgets (memory state store) and the exact cache. The load generator (AsyncHTTPClient, \
            same process) sends the same request to the simulator directly and through the gateway.
            """
    )

    @Flag(help: "A short run: 2 s per rate instead of 10 s.") var quick = false
    @Option(help: "Concurrent connections for the throughput runs.") var connections = 64
    @Flag(help: "Journal without waiting for each call's commit (journal.durable: false).") var queuedJournal = false
    @Flag(help: "Local moderation off (moderation.local.enabled: false).") var noModeration = false
    @Option(help: "Only cache hits, for this many seconds (for profiling the gateway's own path).") var cacheOnly:
        Double?
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        print("machine: \(Machine.description)")
        let seconds: Double = quick ? 2 : 10
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-bench-gateway-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var simulator = SimulatorConfiguration.testing
        simulator.limits.openAI.requestsPerWindow = 1 << 30
        simulator.limits.openAI.tokensPerWindow = 1 << 40
        let connections = connections
        try await withSimulator(simulator) { fixture in
            try await Self.withGateway(
                simulatorURL: fixture.baseURL,
                directory: directory,
                durable: !queuedJournal,
                moderation: !noModeration
            ) { port, key in
                try await BareProxy.run(upstream: fixture.baseURL, logger: .bench) { proxyPort in
                    let direct = Target(
                        url: "\(fixture.baseURL)/v1/chat/completions",
                        headers: [("authorization", "Bearer sk-sim-bench")]
                    )
                    let gateway = Target(
                        url: "http://127.0.0.1:\(port)/v1/chat/completions",
                        headers: [("authorization", "Bearer \(key)")]
                    )
                    let proxy = Target(
                        url: "http://127.0.0.1:\(proxyPort)/v1/chat/completions",
                        headers: direct.headers
                    )
                    if let cacheOnly {
                        let cached = Load.body(deterministic: true)
                        _ = try await Load.closed(gateway, body: cached, connections: 1, seconds: 0.2)
                        let hits = try await Load.closed(gateway, body: cached, connections: 1, seconds: cacheOnly)
                        print(
                            "cache hits: \(hits.latencies.count), p50 \(Self.ms(hits.percentile(0.5))), p99 \(Self.ms(hits.percentile(0.99)))"
                        )
                        return
                    }
                    // Warm the three paths (connections, caches, the first calls).
                    _ = try await Load.closed(direct, body: Load.body(), connections: 8, seconds: 0.5)
                    _ = try await Load.closed(gateway, body: Load.body(), connections: 8, seconds: 0.5)
                    _ = try await Load.closed(proxy, body: Load.body(), connections: 8, seconds: 0.5)

                    let features =
                        "journal \(queuedJournal ? "queued" : "durable"), moderation \(noModeration ? "off" : "on"), "
                        + "limits, budgets, metrics"
                    var headlines = Headlines()
                    var table = TextTable([
                        ("benchmark", .left), ("simulator", .right), ("gateway", .right), ("added", .right),
                        ("bare proxy", .right), ("proxy added", .right), ("goal", .left),
                    ])
                    var floor: [String] = []
                    for rate in [500, 1_000] {
                        let alone = try await Load.open(direct, rate: rate, seconds: seconds)
                        let through = try await Load.open(gateway, rate: rate, seconds: seconds)
                        let bare = try await Load.open(proxy, rate: rate, seconds: seconds)
                        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
                            let a = alone.percentile(q)
                            let b = through.percentile(q)
                            let c = bare.percentile(q)
                            table.add([
                                "\(rate) req/s \(name) latency", Self.ms(a), Self.ms(b), Self.ms(b - a), Self.ms(c),
                                Self.ms(c - a), rate == 1_000 && name == "p99" ? "added ≤ 1 ms" : "",
                            ])
                        }
                        if rate == 1_000 {
                            floor.append(
                                "added p99 \(Self.ms(bare.percentile(0.99) - alone.percentile(0.99))) at 1,000 req/s"
                            )
                        }
                        let added = through.percentile(0.99) - alone.percentile(0.99)
                        headlines.add(
                            Headline(
                                "gateway",
                                "added latency at \(Format.count(rate)) req/s",
                                "p50 \(Self.ms(through.percentile(0.5) - alone.percentile(0.5))), p99 \(Self.ms(added))"
                                    + (through.failures > 0 ? ", \(through.failures) failed" : ""),
                                goal: rate == 1_000 ? "p99 ≤ 1 ms" : "–",
                                met: rate == 1_000 ? added <= 0.001 && through.failures == 0 : nil,
                                features: features
                            )
                        )
                        table.add([
                            "\(rate) req/s errors", "\(alone.failures)", "\(through.failures)", "", "\(bare.failures)",
                            "",
                            "0",
                        ])
                    }
                    let alone = try await Load.closed(
                        direct,
                        body: Load.body(),
                        connections: connections,
                        seconds: seconds
                    )
                    let through = try await Load.closed(
                        gateway,
                        body: Load.body(),
                        connections: connections,
                        seconds: seconds
                    )
                    let bare = try await Load.closed(
                        proxy,
                        body: Load.body(),
                        connections: connections,
                        seconds: seconds
                    )
                    table.add([
                        "max throughput (\(connections) connections)", String(format: "%.0f req/s", alone.perSecond),
                        String(format: "%.0f req/s", through.perSecond),
                        String(format: "%.2f ×", through.perSecond / max(alone.perSecond, 1)),
                        String(format: "%.0f req/s", bare.perSecond),
                        String(format: "%.2f ×", bare.perSecond / max(alone.perSecond, 1)),
                        "gateway ≥ 5,000 req/s and ≥ 0.5 × simulator",
                    ])
                    floor.append(
                        String(format: "%.0f req/s (%.2f ×)", bare.perSecond, bare.perSecond / max(alone.perSecond, 1))
                    )
                    headlines.add(
                        Headline(
                            "gateway",
                            "maximum throughput, \(connections) connections",
                            String(
                                format: "%.0f req/s (%.2f × the simulator's)",
                                through.perSecond,
                                through.perSecond / max(alone.perSecond, 1)
                            ),
                            goal: "≥ 5,000 req/s, ≥ 0.5 ×",
                            met: through.perSecond >= 5_000 && through.perSecond >= 0.5 * alone.perSecond,
                            features: features
                        )
                    )
                    let cached = Load.body(deterministic: true)
                    _ = try await Load.closed(gateway, body: cached, connections: 1, seconds: 0.2)
                    let hits = try await Load.closed(gateway, body: cached, connections: 1, seconds: seconds / 2)
                    // The floor of a cache hit: one request at a time to the simulator, and through the
                    // bare proxy (the simulator makes its answer up; the gateway finds its answer cached).
                    let single = try await Load.closed(direct, body: cached, connections: 1, seconds: seconds / 2)
                    let singleBare = try await Load.closed(proxy, body: cached, connections: 1, seconds: seconds / 2)
                    let kept = Target(url: "http://127.0.0.1:\(proxyPort)/v1/kept", headers: [])
                    let singleKept = try await Load.closed(kept, body: cached, connections: 1, seconds: seconds / 2)
                    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
                        table.add([
                            "1 connection \(name): gateway cache hit", Self.ms(single.percentile(q)),
                            Self.ms(hits.percentile(q)), "", Self.ms(singleBare.percentile(q)), "",
                            name == "p99" ? "cache hit p99 ≤ 0.5 ms" : "",
                        ])
                    }
                    table.add([
                        "1 connection: bare server, answer kept", "", "", "",
                        "p50 \(Self.ms(singleKept.percentile(0.5))) p99 \(Self.ms(singleKept.percentile(0.99)))", "",
                        "",
                    ])
                    floor.append("an answer kept in memory, 1 connection, p99 \(Self.ms(singleKept.percentile(0.99)))")
                    headlines.add(
                        Headline(
                            "gateway",
                            "a cache hit end to end, 1 connection",
                            "p50 \(Self.ms(hits.percentile(0.5))), p99 \(Self.ms(hits.percentile(0.99)))",
                            goal: "p99 ≤ 0.5 ms",
                            met: hits.percentile(0.99) <= 0.0005,
                            features: features
                        )
                    )
                    headlines.add(
                        Headline(
                            "gateway",
                            "floor: a bare Hummingbird → AsyncHTTPClient proxy",
                            floor.joined(separator: ", "),
                            features: "the gateway's two HTTP ends alone: no pipeline, no journal"
                        )
                    )
                    try headlines.save(file)
                    print(table.rendered, terminator: "")
                    print(
                        "features: journal \(queuedJournal ? "queued (not durable)" : "durable") (redacted bodies, FTS, rollups), "
                            + "local moderation \(noModeration ? "off" : "on"), per-user limits and budgets "
                            + "(memory state store), exact cache (bypassed: requests without temperature 0), metrics; "
                            + "load generator, gateway and simulator share this machine's cores; "
                            + "bare proxy: a Hummingbird route handing each request to AsyncHTTPClient and "
                            + "the answer back (the floor under the gateway: its two HTTP ends, nothing else)"
                    )
                }
            }
        }
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

    /// Runs a gateway on a free port in front of the simulator at `simulatorURL`, with a key of
    /// unbounded limits; `body` gets the port and the key.
    static func withGateway(
        simulatorURL: String,
        directory: String,
        durable: Bool,
        moderation: Bool,
        _ body: @Sendable (Int, String) async throws -> Void
    ) async throws {
        var configuration = testConfiguration(baseURL: simulatorURL, directory: directory)
        configuration.journal.durable = durable
        configuration.moderation.localEnabled = moderation
        configuration.journal.storeBodies = .redacted
        configuration.state.backend = .memory
        configuration.limits.defaultUser = .init(rpm: 1 << 30, tpm: 1 << 40, maxOutputTokens: 4096)
        configuration.budgets.defaultUser = .init(hardNanoUSD: 1 << 60, softNanoUSD: 1 << 59)
        let logger = Logger.bench
        let writer = JournalWriter(
            journal: try Journal.open(configuration.journal.journalConfiguration),
            logger: logger
        )
        let pipeline = try Pipeline(configuration: configuration, journal: writer, logger: logger)
        let keys = try VirtualKeyStore(path: "\(directory)/state.sqlite")
        let key = try keys.create(userID: "bench").secret
        let gateway = Gateway(pipeline: pipeline, keys: keys, logger: logger)
        let services = try await RunningServices.start(name: "gateway", logger: logger) { onPort in
            [
                writer,
                GatewayService(
                    gateway: gateway,
                    application: try gateway.makeApplication(host: "127.0.0.1", port: 0, onServerRunning: onPort)
                ),
            ]
        }
        let result = await Result { try await body(services.port, key) }
        await services.stop()
        try result.get()
    }
}

/// Where a load goes.
struct Target: Sendable {
    var url: String
    var headers: [(String, String)]
}

/// What a load measured.
struct LoadResult: Sendable {
    var latencies: [Double]
    var failures: Int
    var seconds: Double

    var perSecond: Double { Double(latencies.count) / seconds }

    func percentile(_ q: Double) -> Double { latencies.percentile(q) }
}

/// A load generator over AsyncHTTPClient.
enum Load {
    static func body(deterministic: Bool = false) -> [UInt8] {
        Array(
            #"{"model":"gpt-4o-mini","max_tokens":16,\#(deterministic ? #""temperature":0,"# : "")"messages":[{"role":"user","content":"What is the refund window for annual plans?"}]}"#
                .utf8
        )
    }

    /// The client of every load this executable generates (benchmarks, the demo's users, the
    /// reliability suite): one pool, never shut down before the process ends.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// One request; its latency in seconds, or `nil` when it failed.
    static func send(_ target: Target, body: [UInt8]) async -> Double? {
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in target.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { return nil }
            return (clock.now - start).secondsDouble
        } catch {
            return nil
        }
    }

    /// Requests at a fixed rate whatever the answers' pace (open loop), measured from when each
    /// was due, so a stall shows in the latencies instead of slowing the load.
    static func open(_ target: Target, rate: Int, seconds: Double) async throws -> LoadResult {
        let count = Int(Double(rate) * seconds)
        let interval = Duration.seconds(1.0 / Double(rate))
        let clock = ContinuousClock()
        let body = body()
        let start = clock.now + .milliseconds(10)
        return await withTaskGroup(of: Double?.self) { group in
            for index in 0..<count {
                let due = start + interval * index
                try? await clock.sleep(until: due)
                group.addTask {
                    guard let latency = await send(target, body: body) else { return nil }
                    // From when it was due: lateness of the generator counts against the server.
                    return max(latency, (clock.now - due).secondsDouble)
                }
            }
            var result = LoadResult(latencies: [], failures: 0, seconds: seconds)
            for await latency in group {
                if let latency { result.latencies.append(latency) } else { result.failures += 1 }
            }
            return result
        }
    }

    /// `connections` workers sending back to back for `seconds` (closed loop).
    static func closed(_ target: Target, body: [UInt8], connections: Int, seconds: Double) async throws -> LoadResult {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        let start = clock.now
        let lanes = await withTaskGroup(of: LoadResult.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var lane = LoadResult(latencies: [], failures: 0, seconds: seconds)
                    while clock.now < end {
                        if let latency = await send(target, body: body) {
                            lane.latencies.append(latency)
                        } else {
                            lane.failures += 1
                        }
                    }
                    return lane
                }
            }
            var lanes: [LoadResult] = []
            for await lane in group { lanes.append(lane) }
            return lanes
        }
        return LoadResult(
            latencies: lanes.flatMap(\.latencies),
            failures: lanes.reduce(0) { $0 + $1.failures },
            seconds: (clock.now - start).secondsDouble
        )
    }
}
