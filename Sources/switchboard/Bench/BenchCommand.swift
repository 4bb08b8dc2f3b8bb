import ArgumentParser
import Foundation
import GRDB
import Logging
import SwitchboardCore
import SwitchboardJournal
import SwitchboardTesting
import SwitchboardWire

/// `switchboard bench`: the benchmarks, each printing a table with the machine and the features on.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Switchboard on this machine and print a table (build with -c release first).",
        subcommands: [
            AllBenchmarks.self, JournalBench.self, PipelineBench.self, BudgetBench.self, CacheBench.self,
            GatewayBench.self,
            ValidationBench.self, ConsoleBench.self, RedisBench.self,
        ],
        defaultSubcommand: AllBenchmarks.self
    )
}

/// What a benchmark ran on.
enum Machine {
    static var description: String {
        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / (1 << 30)
        #if DEBUG
        let build = "DEBUG build: numbers are not representative"
        #else
        let build = "release build"
        #endif
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) GiB, \(build)"
    }

    /// This executable's path, for starting more of itself (benchmarks, the reliability suite's
    /// gateways).
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Free bytes on the file system holding `path`.
    static func freeBytes(at path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
    }
}

/// Timings of repeated runs of one operation.
struct Timings {
    var seconds: [Double] = []

    mutating func measure(_ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        seconds.append((clock.now - start).secondsDouble)
    }

    func percentile(_ q: Double) -> Double { seconds.percentile(q) }
}

extension [Double] {
    /// The `q` quantile by nearest rank; `nan` when empty.
    func percentile(_ q: Double) -> Double {
        guard !isEmpty else { return .nan }
        let sorted = sorted()
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

struct JournalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Journal ingest, 24-hour aggregates over a large journal, and tail reads.",
        discussion: "Writes into a temporary folder unless --journal names the large journal to (re)use."
    )

    @Flag(help: "A short run: 20,000 calls ingested and a 1M-call journal instead of 10M.") var quick = false
    @Option(help: "The large journal for the aggregate benchmark; generated when missing.") var journal: String?
    @Option(help: "Calls in the large journal (default 10,000,000; 1,000,000 with --quick).") var calls: Int?
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var table = TextTable([("benchmark", .left), ("result", .right), ("goal", .left), ("features", .left)])
        var headlines = Headlines()
        print("machine: \(Machine.description)")

        // Ingest: realistic rows with bodies, through the writer, non-durable and durable.
        let ingestCount = quick ? 20_000 : 200_000
        let bodies = Self.records(count: ingestCount, seed: 1, bodies: true, span: .seconds(3600))
        let features = "redaction, rollups (all, fleet and user scopes, minute+hour), FTS, WAL, synchronous=NORMAL"
        let queued = try await Self.ingest(bodies, path: "\(directory)/ingest.sqlite", durable: false)
        table.add([
            "ingest, queued writes (2 KB prompt + 1 KB response)", "\(Format.count(Int(queued))) calls/s",
            "≥ 50,000 calls/s", features,
        ])
        headlines.add(
            Headline(
                "journal",
                "ingest, queued writes, 3 KB of bodies",
                "\(Format.count(Int(queued))) calls/s",
                goal: "≥ 50,000 calls/s",
                met: queued >= 50_000,
                features: "bodies redacted, FTS, rollups, WAL"
            )
        )
        let bare = try await Self.ingest(bodies, path: "\(directory)/bare.sqlite", durable: false, storeBodies: .none)
        table.add([
            "ingest, queued writes, store_bodies: none", "\(Format.count(Int(bare))) calls/s", "-",
            "rollups (all three scopes, minute+hour), error-message search, WAL",
        ])
        headlines.add(
            Headline(
                "journal",
                "ingest, queued writes, no bodies",
                "\(Format.count(Int(bare))) calls/s",
                features: "rollups, WAL"
            )
        )
        let durableCount = min(ingestCount, 50_000)
        let durable = try await Self.ingest(
            Array(bodies.prefix(durableCount)),
            path: "\(directory)/durable.sqlite",
            durable: true
        )
        table.add([
            "ingest, durable writes from 64 tasks", "\(Format.count(Int(durable))) calls/s", "≥ 50,000 calls/s",
            features + ", durable",
        ])
        headlines.add(
            Headline(
                "journal",
                "ingest, durable writes from 64 tasks",
                "\(Format.count(Int(durable))) calls/s",
                goal: "≥ 50,000 calls/s",
                met: durable >= 50_000,
                features: "as above, each waiting for its commit"
            )
        )

        let ceiling = try Self.sqliteCeiling(bodies, path: "\(directory)/ceiling.sqlite")
        table.add([
            "ceiling: SQLite alone, the same calls", "\(Format.count(Int(ceiling))) calls/s", "-",
            "rows, attempts and FTS by INSERT … SELECT from a staging table, 1,000 calls a commit; no rollups or redaction",
        ])
        headlines.add(
            Headline(
                "journal",
                "ceiling: SQLite alone inserting the same calls",
                "\(Format.count(Int(ceiling))) calls/s",
                features: "bodies, attempts, FTS; no Swift per row, no rollups, no redaction"
            )
        )

        // Aggregates and tail over a large journal without bodies.
        let largeCount = calls ?? (quick ? 1_000_000 : 10_000_000)
        let largePath = journal ?? "\(directory)/large.sqlite"
        let existing =
            FileManager.default.fileExists(atPath: largePath) ? try JournalReader.open(path: largePath).callCount() : 0
        if existing < largeCount {
            let needed = Int64(largeCount - existing) * 600
            guard
                Machine.freeBytes(
                    at: (largePath as NSString).deletingLastPathComponent.isEmpty
                        ? "." : (largePath as NSString).deletingLastPathComponent
                ) > needed * 2
            else {
                throw CommandFailure(
                    "not enough free disk for a \(largeCount)-call journal (about \(needed >> 20) MiB); use --calls or --quick"
                )
            }
            print("generating a \(Format.count(largeCount))-call journal (bodies off) at \(largePath)…")
            let generated = try await Self.generate(
                count: largeCount - existing,
                path: largePath,
                seed: UInt64(existing + 7)
            )
            table.add([
                "ingest, bulk (no bodies)", "\(Format.count(Int(generated))) calls/s", "-", "rollups, FTS (empty), WAL",
            ])
        }
        let reader = try JournalReader.open(path: largePath)
        let total = try reader.callCount()
        let last = try reader.lastCallID()
        guard let newest = try reader.calls(after: last - 1, limit: 1).first else {
            throw CommandFailure("the journal is empty")
        }
        let end = newest.startedAt
        var whole = Timings()
        var byUser = Timings()
        for _ in 0..<20 {
            try whole.measure { _ = try reader.aggregate(from: end.addingTimeInterval(-86_400), to: end) }
            try byUser.measure {
                _ = try reader.aggregate(from: end.addingTimeInterval(-86_400), to: end, by: .user, details: false)
            }
        }
        table.add([
            "24 h aggregate, \(Format.count(total)) calls",
            "p50 \(Format.milliseconds(whole.percentile(0.5) * 1000)) p99 \(Format.milliseconds(whole.percentile(0.99) * 1000))",
            "< 50 ms", "fleet rollups, histograms merged",
        ])
        headlines.add(
            Headline(
                "journal",
                "24 h aggregate over \(Format.count(total)) calls",
                whole.summary,
                goal: "< 50 ms",
                met: whole.percentile(0.99) < 0.050,
                features: "rollups, histograms merged"
            )
        )
        table.add([
            "24 h aggregate by user",
            "p50 \(Format.milliseconds(byUser.percentile(0.5) * 1000)) p99 \(Format.milliseconds(byUser.percentile(0.99) * 1000))",
            "-", "user rollups, spend, tokens and counts",
        ])
        var tail = Timings()
        for _ in 0..<50 {
            try tail.measure {
                let rows = try reader.calls(after: last - 1000, limit: 1000)
                precondition(rows.count == 1000)
            }
        }
        table.add([
            "tail: read 1,000 new rows",
            "p50 \(Format.milliseconds(tail.percentile(0.5) * 1000)) p99 \(Format.milliseconds(tail.percentile(0.99) * 1000))",
            "< 5 ms", "rowid watermark",
        ])
        headlines.add(
            Headline(
                "journal",
                "tail: read 1,000 new rows",
                tail.summary,
                goal: "< 5 ms",
                met: tail.percentile(0.99) < 0.005,
                features: "rowid watermark"
            )
        )
        print(table.rendered, terminator: "")
        try headlines.save(file)
    }

    static func records(count: Int, seed: UInt64, bodies: Bool, span: Duration, end: Date = Date()) -> [CallRecord] {
        var options = SyntheticCalls.Options(start: end.addingTimeInterval(-span.secondsDouble), span: span)
        options.bodies = bodies
        options.idPrefix = "req_bench\(seed)"
        var generator = SyntheticCalls(count: count, seed: seed, options: options)
        var records: [CallRecord] = []
        records.reserveCapacity(count)
        while let record = generator.next() { records.append(record) }
        return records
    }

    /// Calls per second writing `records` through one writer.
    /// Runs a writer on a journal at `path` while `body` feeds it; returns the calls per second
    /// committed, from the first entry to the last commit.
    static func throughput(
        path: String,
        storeBodies: StoredBodies = .redacted,
        _ body: @Sendable (JournalWriter) async throws -> Void
    ) async throws -> (perSecond: Double, written: Int) {
        var configuration = JournalConfiguration(path: path)
        configuration.storeBodies = storeBodies
        let journal = try Journal.open(configuration)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let writer = JournalWriter(journal: journal, logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            try await body(writer)
            writer.finish()
            try await group.waitForAll()
        }
        let written = writer.statistics.writtenCalls
        return (Double(written) / (clock.now - start).secondsDouble, written)
    }

    /// Calls per second writing `records` through one writer.
    static func ingest(_ records: [CallRecord], path: String, durable: Bool, storeBodies: StoredBodies = .redacted)
        async throws -> Double
    {
        let (perSecond, written) = try await throughput(path: path, storeBodies: storeBodies) { writer in
            if durable {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    let lanes = 64
                    for lane in 0..<lanes {
                        tasks.addTask {
                            for index in stride(from: lane, to: records.count, by: lanes) {
                                try await writer.write(records[index])
                            }
                        }
                    }
                    try await tasks.waitForAll()
                }
            } else {
                for record in records { await writer.submit(.call(record)) }
            }
        }
        precondition(written == records.count, "the benchmark lost calls")
        return perSecond
    }

    /// The ceiling under the writer, in calls per second: SQLite itself copying the same calls
    /// (bodies, attempts, search text) into the journal's schema from a staging table, 1,000 calls
    /// per transaction, with the writer's settings. No Swift runs per row, nothing is redacted and
    /// no rollup is kept, so the writer cannot beat it on this machine.
    static func sqliteCeiling(_ records: [CallRecord], path: String) throws -> Double {
        _ = try Journal.open(JournalConfiguration(path: path))  // the schema
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000")
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let callColumns = """
            request_id, started_at, ended_at, user_id, tenant_id, session_id, step, origin, route, provider,
            model_requested, model_used, stream, outcome, http_status, error_class, error_message, attempts,
            latency_ms, ttft_ms, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
            output_tokens, reasoning_tokens, cost_nano_usd, saved_nano_usd, cache, paced_ms, fell_back,
            request_body, response_body
            """
        let attemptColumns = """
            request_id, number, provider, model, key_fingerprint, started_at, http_status, error_class,
            backoff_ms, latency_ms, ratelimit
            """
        try queue.inDatabase { db in
            try db.execute(sql: "CREATE TEMP TABLE staged_calls (n INTEGER PRIMARY KEY, \(callColumns), search)")
            try db.execute(sql: "CREATE TEMP TABLE staged_attempts (n INTEGER, \(attemptColumns))")
            try db.inTransaction {
                // Staged: n, the columns, and the search text (calls) or n and the columns (attempts).
                func placeholders(_ columns: String, extra: Int) -> String {
                    Array(repeating: "?", count: columns.split(separator: ",").count + extra).joined(separator: ", ")
                }
                let call = try db.makeStatement(
                    sql: "INSERT INTO staged_calls VALUES (\(placeholders(callColumns, extra: 2)))"
                )
                let attempt = try db.makeStatement(
                    sql: "INSERT INTO staged_attempts VALUES (\(placeholders(attemptColumns, extra: 1)))"
                )
                for (n, record) in records.enumerated() {
                    let values: [(any DatabaseValueConvertible)?] = [
                        n, record.requestID, Journal.milliseconds(record.startedAt),
                        Journal.milliseconds(record.endedAt), record.userID, record.tenantID, record.sessionID,
                        record.step, record.origin.rawValue, record.route, record.provider, record.modelRequested,
                        record.modelUsed, record.stream, record.outcome.rawValue, record.httpStatus, record.errorClass,
                        record.errorMessage, record.attempts.count, record.latencyMilliseconds,
                        record.timeToFirstTokenMilliseconds, record.tokens.input, record.tokens.cachedInput,
                        record.tokens.cacheWrite5m, record.tokens.cacheWrite1h, record.tokens.output,
                        record.tokens.reasoning, record.costNanoUSD, record.savedNanoUSD, record.cache?.rawValue,
                        record.pacedMilliseconds, record.fellBack, record.requestBody, record.responseBody,
                        [record.searchText, record.errorMessage].compactMap { $0 }.joined(separator: "\n"),
                    ]
                    try call.execute(arguments: StatementArguments(values))
                    for attemptRecord in record.attempts {
                        let headers = JSONValue.object(
                            JSONObject(
                                uniqueKeysWithValues: attemptRecord.rateLimitHeaders.sorted { $0.key < $1.key }
                                    .map { ($0.key, .string($0.value)) }
                            )
                        ).serialized()
                        let values: [(any DatabaseValueConvertible)?] = [
                            n, record.requestID, attemptRecord.number, attemptRecord.provider, attemptRecord.model,
                            attemptRecord.keyFingerprint,
                            Journal.milliseconds(attemptRecord.startedAt), attemptRecord.httpStatus,
                            attemptRecord.errorClass,
                            attemptRecord.backoffMilliseconds, attemptRecord.latencyMilliseconds, headers,
                        ]
                        try attempt.execute(arguments: StatementArguments(values))
                    }
                }
                return .commit
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        try queue.inDatabase { db in
            for first in stride(from: 0, to: records.count, by: 1_000) {
                let range: StatementArguments = [first, first + 1_000]
                try db.inTransaction(.immediate) {
                    try db.execute(
                        sql:
                            "INSERT INTO calls (\(callColumns)) SELECT \(callColumns) FROM staged_calls WHERE n >= ? AND n < ?",
                        arguments: range
                    )
                    try db.execute(
                        sql: """
                            INSERT INTO attempts (\(attemptColumns)) SELECT \(attemptColumns) FROM staged_attempts
                            WHERE n >= ? AND n < ?
                            """,
                        arguments: range
                    )
                    // A fresh file: calls.id is n + 1.
                    try db.execute(
                        sql: """
                            INSERT INTO calls_fts (rowid, text) SELECT n + 1, search FROM staged_calls
                            WHERE n >= ? AND n < ? AND search <> ''
                            """,
                        arguments: range
                    )
                    return .commit
                }
            }
        }
        let seconds = (clock.now - start).secondsDouble
        let copied = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") ?? 0 }
        guard copied == records.count else {
            throw CommandFailure(
                "the SQLite ceiling copied \(copied) of \(records.count) calls into \(path); the figure would be wrong, "
                    + "so none is printed: look for another process writing that file, or disk space"
            )
        }
        return Double(records.count) / seconds
    }

    /// Fills a journal (bodies off) spread over the last 24 hours; returns calls per second.
    static func generate(count: Int, path: String, seed: UInt64) async throws -> Double {
        var options = SyntheticCalls.Options(start: Date().addingTimeInterval(-86_400), span: .seconds(86_400))
        options.idPrefix = "req_large\(seed)"
        options.users = 500
        let generatorOptions = options
        return try await throughput(path: path) { writer in
            var generator = SyntheticCalls(count: count, seed: seed, options: generatorOptions)
            var queued = 0
            while let record = generator.next() {
                await writer.submit(.call(record))
                queued += 1
                if queued % 1_000_000 == 0 { print("  \(Format.count(queued)) calls…") }
            }
        }.perSecond
    }
}

struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "The rate-limit storm through the resilience core, with headroom pacing on and off.",
        discussion: """
            Sends every call at once through a pipeline (SQLite state store, journal) to the \
            simulator on loopback, whose key allows --rps requests and --tps tokens per one-second \
            window and which answers 5 % of requests with a 5xx. Counts come from the journal.
            """
    )

    @Option(help: "Calls sent at once.") var calls = 1_000
    @Option(help: "The simulated key's requests per one-second window.") var rps = 100
    @Option(help: "The simulated key's tokens per one-second window.") var tps = 8_000
    @Option(help: "Share of requests answered with a 5xx.") var errors = 0.05
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        print("machine: \(Machine.description)")
        print(
            "storm: \(calls) calls at once; limits \(rps) requests and \(tps) tokens per 1 s window; \(Int(errors * 100)) % 5xx"
        )
        var table = TextTable([
            ("pacing", .left), ("ok", .right), ("failed", .right), ("attempts", .right), ("per call", .right),
            ("429s", .right), ("429 share", .right), ("5xx", .right), ("early retries", .right),
            ("time", .right), ("p50", .right), ("p99", .right),
        ])
        var headlines = Headlines()
        for pacing in [true, false] {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("switchboard-bench-pipeline-\(getpid())-\(pacing)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var storm = RateLimitStorm()
            storm.calls = calls
            storm.requestsPerSecond = rps
            storm.tokensPerSecond = tps
            storm.serverErrorRate = errors
            storm.pacing = pacing
            let report = try await storm.run(in: directory)
            table.add([
                pacing ? "on" : "off", "\(report.succeeded)", "\(report.calls - report.succeeded)",
                "\(report.attempts)",
                String(format: "%.3f", report.attemptsPerCall), "\(report.rateLimited)",
                String(format: "%.2f %%", report.rateLimitedShare * 100), "\(report.serverErrors)",
                "\(report.earlyRetries)", String(format: "%.1f s", report.seconds),
                "\(Int(report.latencyP50Milliseconds)) ms", "\(Int(report.latencyP99Milliseconds)) ms",
            ])
            let met =
                report.succeeded == report.calls && report.attemptsPerCall <= 1.2 && report.rateLimitedShare <= 0.02
                && report.earlyRetries == 0
            headlines.add(
                Headline(
                    "resilience",
                    "storm of \(Format.count(calls)) calls at \(rps) req/s, pacing \(pacing ? "on" : "off")",
                    "\(report.succeeded) ok, \(String(format: "%.2f", report.attemptsPerCall)) attempts/call, "
                        + "\(String(format: "%.1f", report.rateLimitedShare * 100)) % 429s",
                    goal: pacing ? "all ok, ≤ 1.2 attempts/call, ≤ 2 % 429s" : "–",
                    met: pacing ? met : nil,
                    features: "SQLite state, journal, \(Int(errors * 100)) % 5xx"
                )
            )
        }
        print(table.rendered, terminator: "")
        print(
            "goal (pacing on): every call ok, attempts ≤ 1.2 × calls, 429s ≤ 2 % of attempts, no retry before its Retry-After"
        )

        let timings = try await CancellationTiming.measure(runs: 50).map(\.secondsDouble).sorted()
        print(
            "cancellation: a stream abandoned after its first token → upstream connection closed: "
                + "p50 \(String(format: "%.1f", timings[timings.count / 2] * 1000)) ms, "
                + "max \(String(format: "%.1f", timings.last! * 1000)) ms over \(timings.count) runs (goal ≤ 100 ms)"
        )
        headlines.add(
            Headline(
                "resilience",
                "cancelled stream → upstream closed",
                "p50 \(CacheBench.format(timings[timings.count / 2])), max \(CacheBench.format(timings.last!))",
                goal: "≤ 100 ms",
                met: timings.last! <= 0.1,
                features: "client leaves after the first token"
            )
        )
        try headlines.save(file)
    }
}

struct BudgetBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract:
            "Budget reserve + settle per call on the memory and SQLite state stores, alone and 50 users in parallel."
    )

    @Option(help: "Calls per measurement.") var calls = 5_000
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        print("machine: \(Machine.description)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-bench-budget-\(getpid())"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = SwitchboardConfiguration.Budgets()
        settings.defaultUser = .init(hardNanoUSD: Int64.max / 4, softNanoUSD: Int64.max / 4)
        var table = TextTable([
            ("store", .left), ("one call, p50", .right), ("p99", .right), ("1 user × 50 tasks", .right),
            ("50 users × 1 task each", .right),
        ])
        let stores: [(String, any StateStore)] = [
            ("memory", MemoryStateStore()), ("sqlite", try SQLiteStateStore(path: "\(directory)/state.sqlite")),
        ]
        var headlines = Headlines()
        for (name, store) in stores {
            let ledger = BudgetLedger(store: store, settings: settings)
            var timings = Timings()
            let clock = ContinuousClock()
            for _ in 0..<calls {
                let start = clock.now
                let holds = try await ledger.reserve(userID: "solo", tenantID: nil, worstCase: 25_000, now: Date())
                try await ledger.settle(holds, cost: 20_000)
                timings.seconds.append((clock.now - start).secondsDouble)
            }
            func parallel(users: Int) async throws -> Double {
                let start = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<50 {
                        group.addTask {
                            for _ in 0..<(calls / 50) {
                                let holds = try await ledger.reserve(
                                    userID: "user-\(task % users)",
                                    tenantID: nil,
                                    worstCase: 25_000,
                                    now: Date()
                                )
                                try await ledger.settle(holds, cost: 20_000)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                return Double(calls / 50 * 50) / (clock.now - start).secondsDouble
            }
            let shared = try await parallel(users: 1)
            let separate = try await parallel(users: 50)
            table.add([
                name, String(format: "%.0f µs", timings.percentile(0.5) * 1e6),
                String(format: "%.0f µs", timings.percentile(0.99) * 1e6),
                "\(Format.count(Int(shared))) calls/s", "\(Format.count(Int(separate))) calls/s",
            ])
            headlines.add(
                Headline(
                    "budget",
                    "reserve + settle, \(name) state store",
                    "\(timings.summary); \(Format.count(Int(separate))) calls/s from 50 users",
                    features: "two state-store updates a call"
                )
            )
        }
        print(table.rendered, terminator: "")
        try headlines.save(file)
        print("each call: reserve the worst case, then settle to the real cost (two state-store updates)")
    }
}

struct CacheBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Exact-cache hits (memory, SQLite, and through the whole pipeline) and limiter decisions."
    )

    @Option(help: "Operations per measurement.") var count = 20_000
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        print("machine: \(Machine.description)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-bench-cache-\(getpid())"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var table = TextTable([("benchmark", .left), ("p50", .right), ("p99", .right), ("goal (p99)", .left)])
        var headlines = Headlines()
        func row(_ name: String, _ timings: Timings, goal: String, under limit: Double? = nil, area: String = "cache") {
            table.add([name, Self.format(timings.percentile(0.5)), Self.format(timings.percentile(0.99)), goal])
            headlines.add(
                Headline(
                    area,
                    name,
                    timings.summary,
                    goal: limit == nil ? "–" : "p99 \(goal)",
                    met: limit.map { timings.percentile(0.99) < $0 },
                    features: area == "limiter" ? "GCRA, requests and tokens" : "a ~1 KB answer"
                )
            )
        }
        let clock = ContinuousClock()
        func measure(_ operation: () async throws -> Void) async rethrows -> Timings {
            var timings = Timings()
            for _ in 0..<count {
                let start = clock.now
                try await operation()
                timings.seconds.append((clock.now - start).secondsDouble)
            }
            return timings
        }

        // A realistic answer: ~1 KB of text.
        let answer: JSONValue = [
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_795_000_000, "model": "gpt-4o-mini",
            "choices": [
                [
                    "index": 0,
                    "message": [
                        "role": "assistant", "content": .string(String(repeating: "The answer is here. ", count: 50)),
                    ], "finish_reason": "stop",
                ]
            ],
            "usage": ["prompt_tokens": 120, "completion_tokens": 250, "total_tokens": 370],
        ]
        let now = Date()
        let entry = CacheEntry(
            response: answer,
            costNanoUSD: 168_000,
            storedAt: now,
            expiresAt: now.addingTimeInterval(3600)
        )
        let key = CacheKey.make(format: .openAI, body: ["model": "bench", "messages": []], tenant: nil)
        let memory = try ExactCache(maxMemory: 64 << 20, sqlitePath: nil)
        await memory.finish(key, with: entry)
        row(
            "exact-cache hit, memory",
            await measure { _ = await memory.lookup(key, now: now) },
            goal: "< 100 µs",
            under: 100e-6
        )
        let sqliteOnly = try ExactCache(maxMemory: 0, sqlitePath: "\(directory)/state.sqlite")
        await sqliteOnly.finish(key, with: entry)
        row(
            "exact-cache hit, SQLite",
            await measure { _ = await sqliteOnly.lookup(key, now: now) },
            goal: "< 1 ms",
            under: 1e-3
        )

        // A whole pipeline hit: key, lookup, response decode, no journal.
        var configuration = SwitchboardConfiguration()
        configuration.state.backend = .memory
        // Never called: every call is a hit.
        configuration.providers = [
            "openai": .init(
                kind: .openAI,
                baseURL: "http://127.0.0.1:9",
                apiKeys: [Secret(value: "sk-sim-bench", source: "bench")]
            )
        ]
        let pipeline = try Pipeline(configuration: configuration)
        var request = OpenAI.ChatCompletionRequest(
            model: "openai/gpt-4o-mini",
            messages: [.user("What is the capital of France?")]
        )
        request.temperature = 0
        var keyed = request
        keyed.stream = nil
        await pipeline.cache?.finish(CacheKey.make(format: .openAI, body: keyed.json, tenant: nil), with: entry)
        row(
            "pipeline.chat answered from the cache",
            try await measure { _ = try await pipeline.chat(request) },
            goal: "-"
        )

        // Limiter decisions: GCRA alone, and a read-modify-write of its state.
        var limiter = GCRA()
        var tick = now
        row(
            "limiter decision (GCRA)",
            await measure {
                tick = tick.addingTimeInterval(0.001)
                _ = limiter.take(1, limit: 1_000_000, period: .seconds(60), now: tick)
            },
            goal: "< 1 µs",
            under: 1e-6,
            area: "limiter"
        )
        for (name, store) in [
            ("memory", MemoryStateStore() as any StateStore),
            ("SQLite", try SQLiteStateStore(path: "\(directory)/limits.sqlite")),
        ] {
            row(
                "limiter decision in the \(name) state store",
                try await measure {
                    _ = try await store.update("limit/user:bench/requests", as: GCRA.self) { state in
                        var gcra = state ?? GCRA()
                        let decision = gcra.take(1, limit: 1_000_000, period: .seconds(60), now: Date())
                        state = gcra
                        return decision.allowed
                    }
                },
                goal: name == "memory" ? "< 1 µs (alone, above)" : "< 1 ms",
                under: name == "memory" ? nil : 1e-3,
                area: "limiter"
            )
        }
        print(table.rendered, terminator: "")
        try headlines.save(file)
    }

    static func format(_ seconds: Double) -> String {
        if seconds < 1e-6 { return String(format: "%.0f ns", seconds * 1e9) }
        if seconds < 1e-3 { return String(format: "%.1f µs", seconds * 1e6) }
        return String(format: "%.2f ms", seconds * 1e3)
    }
}

extension Logger {
    /// Errors only: a benchmark's own output is its table.
    static var bench: Logger {
        var logger = Logger(label: "switchboard.bench")
        logger.logLevel = .error
        return logger
    }
}
