import AsyncHTTPClient
import Foundation
import GRDB
import SwitchboardCore
import SwitchboardTesting
import SwitchboardWire

/// The five checks of `switchboard reliability`, each against real `switchboard` processes.
struct ReliabilitySuite: Sendable {
    let binary: String
    let directory: String
    let simulatorURL: String
    let quick: Bool
    let seed: UInt64
    let bodies: Int
    let client: HTTPClient

    var load: FaultLoad { FaultLoad(client: client) }

    /// Writes a gateway configuration in front of the simulator; its path, journal and a key
    /// with unbounded limits.
    func configure(_ name: String, state: String = "backend: sqlite", journal extra: String = "") throws -> (
        config: String, journal: String, key: String
    ) {
        let journal = "\(directory)/\(name).journal.sqlite"
        let stateFile = "\(directory)/\(name).state.sqlite"
        let yaml = """
            journal: { path: "\(journal)", store_bodies: redacted, durable: true\(extra) }
            state: { \(state), sqlite_path: "\(stateFile)" }
            providers:
              openai: { kind: openai, base_url: "\(simulatorURL)", api_key: "sk-sim-reliability-openai" }
              anthropic: { kind: anthropic, base_url: "\(simulatorURL)", api_key: "sk-sim-reliability-anthropic" }
            routes:
              default: { targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5] }
            resilience: { retry: { max_attempts: 2, base: 10ms, cap: 50ms } }
            limits: { default_user: { rpm: 100000000, tpm: 100000000000, max_output_tokens: 4096 } }
            budgets: { default_user: { hard: 1000000, soft: 900000 } }
            gateway: { max_body: 64KB, drain_timeout: 10s }

            """
        let config = "\(directory)/\(name).yaml"
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let key = try VirtualKeyStore(path: stateFile).create(userID: "reliability-\(name)").secret
        return (config, journal, key)
    }

    func start(_ name: String, config: String) async throws -> GatewayProcess {
        try await GatewayProcess.start(binary: binary, config: config, name: name, directory: directory)
    }

    /// The request ids of `answers` that are not in the journal at `path`.
    static func unjournaled(_ ids: [String], journal path: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        let stored = try DatabaseQueue(path: path, configuration: configuration).read { db in
            Set(try String.fetchAll(db, sql: "SELECT request_id FROM calls"))
        }
        return ids.filter { !stored.contains($0) }
    }

    /// What every check ends with: the gateway drained to exit status 0 on SIGTERM, its journal intact.
    static func check(_ result: inout CheckResult, stopped: Int32, journal: String) throws {
        if stopped != 0 { result.failures.append("the gateway exited with \(stopped) on SIGTERM") }
        let integrity = try integrity(journal)
        if integrity != "ok" { result.failures.append("integrity_check: \(integrity)") }
    }

    static func integrity(_ path: String) throws -> String {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration).read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
    }

    /// Load until `done` says so, or `timeout` passes (a failure then).
    func hammer(
        _ gateway: @escaping @Sendable () -> String,
        key: String,
        workers: Int = 8,
        label: String,
        timeout: Duration = .seconds(60),
        answered: @escaping @Sendable (Received) -> Void,
        until done: @escaping @Sendable () -> Bool
    ) async throws {
        let counter = Shared(0)
        let deadline = ContinuousClock.now + timeout
        await load.run(
            workers: workers,
            target: gateway,
            next: { worker in
                let n = counter.update { value in
                    value += 1
                    return value
                }
                return FaultLoad.chat("\(label) \(n)", anthropic: worker.isMultiple(of: 2), key: key)
            },
            until: { done() || ContinuousClock.now >= deadline },
            answered: answered
        )
        if !done() { throw CommandFailure("\(label): timed out after \(timeout)") }
    }

    // MARK: - kill -9

    /// `kill -9` the gateway under load and restart it: every response a client received has its row.
    func killNine() async throws -> CheckResult {
        let (config, journal, key) = try configure("kill9")
        var gateway = try await start("kill9", config: config)
        let target = Shared(gateway.url)
        let answers = Shared<[(status: Int, id: String?)]>([])
        let failures = Shared(0)
        let stop = Shared(false)
        let counter = Shared(0)
        let running = Task {
            await load.run(
                workers: 16,
                target: { target.get() },
                next: { worker in
                    let n = counter.update { value in
                        value += 1
                        return value
                    }
                    return FaultLoad.chat("kill nine \(n)", anthropic: worker.isMultiple(of: 2), key: key)
                },
                until: { stop.get() },
                answered: { received in answers.update { $0.append((received.status, received.requestID)) } },
                failed: { _ in failures.update { $0 += 1 } }
            )
        }
        try await poll("answers before the kill", timeout: .seconds(60), interval: .milliseconds(20)) {
            answers.get().count >= (quick ? 300 : 1_000)
        }
        gateway.child.signal(SIGKILL)
        let killedStatus = await gateway.child.wait()
        let beforeKill = answers.get().count
        gateway = try await start("kill9-restarted", config: config)
        target.update { $0 = gateway.url }
        try await poll("answers after the restart", timeout: .seconds(60), interval: .milliseconds(20)) {
            answers.get().count >= beforeKill + (quick ? 300 : 1_000)
        }
        stop.update { $0 = true }
        await running.value
        let stopped = await gateway.stop()

        let all = answers.get()
        let cut = failures.get()
        var result = CheckResult(
            check: "kill -9 under load",
            tried: "16 clients; SIGKILL after \(beforeKill) answers, restart, \(all.count - beforeKill) more",
            held: ""
        )
        if killedStatus != 128 + SIGKILL {
            result.failures.append("the gateway was not killed by SIGKILL (\(killedStatus))")
        }
        let ids = all.compactMap(\.id)
        if ids.count != all.count { result.failures.append("\(all.count - ids.count) answers had no x-request-id") }
        let missing = try Self.unjournaled(ids, journal: journal)
        if !missing.isEmpty {
            result.failures.append("\(missing.count) answered calls have no journal row, e.g. \(missing.prefix(3))")
        }
        let statuses = Dictionary(grouping: all, by: \.status).mapValues(\.count)
        if statuses.keys.contains(where: { $0 != 200 }) {
            result.failures.append("answers other than 200: \(statuses)")
        }
        try Self.check(&result, stopped: stopped, journal: journal)
        result.held =
            "all \(ids.count) answered calls journaled (\(cut) requests unanswered while it was down); integrity ok"
        return result
    }

    // MARK: - Shared journal

    /// Three processes writing one journal (each call committed before the next): nothing lost,
    /// no busy error, rollups equal to the rows.
    func sharedJournal() async throws -> CheckResult {
        let path = "\(directory)/shared.journal.sqlite"
        let seconds = quick ? 10 : 60
        let created = try await ChildProcess.run([binary, "journal", "generate", "--journal", path, "--count", "0"])
        guard created.status == 0 else { throw CommandFailure("cannot create \(path): \(created.output)") }
        let writers = try (0..<3).map { writer in
            try ChildProcess.spawn(
                [
                    binary, "journal", "generate", "--journal", path, "--duration", "\(seconds)s", "--durable",
                    "--seed",
                    "\(writer + 1)", "--id-prefix", "w\(writer)", "--span", "10m",
                ],
                output: .file("\(directory)/writer\(writer).out"),
                errors: .file("\(directory)/writer\(writer).err")
            )
        }
        var statuses: [Int32] = []
        for writer in writers { statuses.append(await writer.wait()) }
        var result = CheckResult(
            check: "3 journal writers",
            tried: "3 processes, durable writes, \(seconds) s",
            held: ""
        )
        var reported = 0
        for writer in 0..<3 {
            let output = (try? String(contentsOfFile: "\(directory)/writer\(writer).out", encoding: .utf8)) ?? ""
            let errors = (try? String(contentsOfFile: "\(directory)/writer\(writer).err", encoding: .utf8)) ?? ""
            if statuses[writer] != 0 { result.failures.append("writer \(writer) exited with \(statuses[writer])") }
            if !errors.isEmpty { result.failures.append("writer \(writer) logged: \(errors.prefix(300))") }
            guard let range = output.range(of: #"wrote \d+ calls"#, options: .regularExpression),
                let count = Int(output[range].split(separator: " ")[1])
            else {
                result.failures.append("writer \(writer) did not say what it wrote: \(output.prefix(200))")
                continue
            }
            reported += count
        }
        var configuration = Configuration()
        configuration.readonly = true
        let (rows, distinct, rolled) = try await DatabaseQueue(path: path, configuration: configuration).read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(DISTINCT request_id) FROM calls") ?? -1,
                try Int.fetchOne(db, sql: "SELECT sum(calls) FROM rollups_minute") ?? -1
            )
        }
        if rows != reported {
            result.failures.append("the writers reported \(reported) calls; the journal has \(rows)")
        }
        if distinct != rows { result.failures.append("\(rows - distinct) request ids stored twice") }
        if rolled != rows { result.failures.append("rollups count \(rolled) calls; the rows are \(rows)") }
        let integrity = try Self.integrity(path)
        if integrity != "ok" { result.failures.append("integrity_check: \(integrity)") }
        result.held = "\(rows) calls (\(rows / seconds)/s), none lost, no busy error, rollups = rows"
        return result
    }

    // MARK: - Fuzzed bodies

    /// Seeded, structure-aware mutations of valid bodies at both endpoints: every answer a 4xx
    /// from the error table, no crash, resident memory bounded.
    func fuzz() async throws -> CheckResult {
        let (config, journal, key) = try configure("fuzz")
        let gateway = try await start("fuzz", config: config)
        // Warm up (and measure memory after) with valid calls.
        let warm = Shared(0)
        try await hammer({ gateway.url }, key: key, label: "warm", answered: { _ in warm.update { $0 += 1 } }) {
            warm.get() >= 200
        }
        let baseline = gateway.residentBytes ?? 0
        let mutator = Shared(BodyMutator(seed: seed, maxBody: 64 << 10))
        let sent = Shared(0)
        let kinds = Shared<[String: Int]>([:])
        let statuses = Shared<[Int: Int]>([:])
        let wrong = Shared<[String]>([])
        let passedThrough = Shared(0)
        let noAnswer = Shared<[String]>([])
        let peak = Shared(baseline)
        let total = bodies
        await load.run(
            workers: 16,
            target: { gateway.url },
            next: { _ in
                let n = sent.update { value -> Int? in
                    guard value < total else { return nil }
                    value += 1
                    return value
                }
                guard let n else { return nil }
                let mutation = mutator.update { $0.next() }
                kinds.update { $0[mutation.kind.rawValue, default: 0] += 1 }
                if n.isMultiple(of: 250), let resident = gateway.residentBytes {
                    peak.update { $0 = max($0, resident) }
                }
                return (
                    mutation.path, mutation.body,
                    [
                        ("content-type", mutation.contentType), ("authorization", "Bearer \(key)"),
                        ("x-fuzz-kind", mutation.kind.rawValue),
                    ]
                )
            },
            until: { false },
            answered: { received in
                statuses.update { $0[received.status, default: 0] += 1 }
                switch Self.errorSource(received) {
                case .table: break
                case .provider: passedThrough.update { $0 += 1 }
                case .neither(let problem):
                    wrong.update { $0.append("\(received.kind ?? "?") \(received.sent) → \(problem)") }
                }
            },
            failed: { error in noAnswer.update { $0.append("\(error)") } }
        )
        let final = gateway.residentBytes ?? 0
        peak.update { $0 = max($0, final) }
        var result = CheckResult(
            check: "fuzzed request bodies",
            tried: "\(total) mutated bodies (\(kinds.get().count) kinds), both endpoints",
            held: ""
        )
        let problems = wrong.get()
        if !problems.isEmpty {
            result.failures.append("\(problems.count) answers not a 4xx of the table, e.g. \(problems.prefix(3))")
        }
        let unanswered = noAnswer.get()
        if !unanswered.isEmpty {
            result.failures.append("\(unanswered.count) bodies got no answer, e.g. \(unanswered.prefix(2))")
        }
        if !gateway.isAlive { result.failures.append("the gateway died: \(gateway.log.suffix(500))") }
        let health = try? await TestHTTP.get("\(gateway.url)/healthz")
        if health?.status != 200 {
            result.failures.append("/healthz answered \(health.map { "\($0.status)" } ?? "nothing")")
        }
        let limit = 512 << 20
        if peak.get() > limit {
            result.failures.append("resident memory reached \(peak.get() >> 20) MB (bound \(limit >> 20) MB)")
        }
        try Self.check(&result, stopped: await gateway.stop(), journal: journal)
        let byStatus = statuses.get().sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        result.held =
            "every answer a 4xx of the table (\(byStatus); \(passedThrough.get()) of them a provider's own 400); alive; RSS \(baseline >> 20)→\(peak.get() >> 20) MB"
        return result
    }

    enum ErrorSource {
        /// A row of the error table, in the endpoint's format.
        case table
        /// A provider's own 4xx for a request it refused, passed through in the caller's format.
        case provider
        case neither(String)
    }

    /// Where the error `received` comes from, in its endpoint's format.
    static func errorSource(_ received: Received) -> ErrorSource {
        let status = received.status
        guard (400..<500).contains(status) else {
            return .neither("status \(status): \(String(decoding: received.body.prefix(200), as: UTF8.self))")
        }
        guard let json = try? JSONValue.parse(received.body) else {
            return .neither("\(status) with a body that is not JSON")
        }
        let error = json["error"]
        guard let message = error?["message"]?.stringValue, !message.isEmpty, let type = error?["type"]?.stringValue
        else {
            return .neither("\(status) without an error type and message: \(json.serialized().prefix(200))")
        }
        if json["type"]?.stringValue == "error" {
            // Anthropic's format has no code: its type must be the table's for this status.
            return ErrorTable.entries.contains { $0.anthropicType == type && $0.httpStatus == status }
                ? .table : .neither("\(status) \(type) not in the error table")
        }
        let code = error?["code"]?.stringValue
        if ErrorTable.entries.contains(where: {
            $0.openAICode == code && $0.openAIType == type && $0.httpStatus == status
        }) {
            return .table
        }
        // A provider's refusal keeps its own code (OpenAI's `empty_array`, …) under the table's type.
        if status == 400, type == "invalid_request_error", code != nil { return .provider }
        return .neither("\(status) not in the error table: \(json.serialized().prefix(200))")
    }

    /// The table's code an error answer carries: OpenAI's `code`, or for Anthropic's format the
    /// code whose type and status it has and whose message it reads like.
    static func code(of received: Received) -> String {
        let json = try? JSONValue.parse(received.body)
        if let code = json?["error"]?["code"]?.stringValue { return code }
        let message = json?["error"]?["message"]?.stringValue ?? ""
        let type = json?["error"]?["type"]?.stringValue ?? "-"
        if received.status == 503, type == "api_error" {
            if message.contains("Redis") { return "state_unavailable" }
            if message.contains("journaled") || message.contains("journal") { return "journal_unavailable" }
        }
        return type
    }

    // MARK: - Redis lost

    /// Redis stopped mid-run: the gateway answers per `state.on_redis_down` (the default: budgets
    /// closed, so 503 `state_unavailable` with Retry-After), logs the outage once, and recovers
    /// when Redis is back on its port, without a restart.
    func redisLost() async throws -> CheckResult {
        let port = try RedisServer.freePort()
        var redis = try await Self.startRedis(port: port, directory: directory)
        let (config, journal, key) = try configure(
            "redis",
            state: "backend: redis, redis_url: \"redis://127.0.0.1:\(port)/0\", redis_timeout: 200ms"
        )
        let gateway = try await start("redis", config: config)
        let before = Shared<[Int: Int]>([:])
        try await hammer(
            { gateway.url },
            key: key,
            label: "redis up",
            answered: { r in before.update { $0[r.status, default: 0] += 1 } }
        ) {
            before.get().values.reduce(0, +) >= 300
        }
        redis.signal(SIGKILL)
        _ = await redis.wait()
        let during = Shared<[String: Int]>([:])
        try await hammer(
            { gateway.url },
            key: key,
            label: "redis down",
            answered: { r in
                let code = Self.code(of: r)
                let retry = r.header("retry-after") != nil ? "retry-after" : "no retry-after"
                during.update { $0["\(r.status) \(code) \(retry)", default: 0] += 1 }
            }
        ) {
            during.get().values.reduce(0, +) >= 300
        }
        let alive = gateway.isAlive
        redis = try await Self.startRedis(port: port, directory: directory)
        let recovered = Shared(0)
        let after = Shared<[Int: Int]>([:])
        try await hammer(
            { gateway.url },
            key: key,
            label: "redis back",
            answered: { r in
                if r.status == 200 { recovered.update { $0 += 1 } }
                if recovered.get() > 0 { after.update { $0[r.status, default: 0] += 1 } }
            }
        ) {
            after.get().values.reduce(0, +) >= 200
        }
        let stopped = await gateway.stop()
        redis.signal(SIGTERM)
        _ = await redis.wait()

        var result = CheckResult(
            check: "Redis stopped mid-run",
            tried: "load; SIGKILL redis-server; load; start it again on its port",
            held: ""
        )
        if before.get().keys.contains(where: { $0 != 200 }) { result.failures.append("with Redis up: \(before.get())") }
        let down = during.get()
        // Calls in flight when Redis died may still finish; after that, the policy.
        let refused = down["503 state_unavailable retry-after"] ?? 0
        let other = down.filter { $0.key != "503 state_unavailable retry-after" && !$0.key.hasPrefix("200 ") }
        if refused == 0 || !other.isEmpty { result.failures.append("with Redis down: \(down)") }
        if !alive { result.failures.append("the gateway died with Redis") }
        let tail = after.get().filter { $0.key != 200 }
        if after.get().values.reduce(0, +) - (after.get()[200] ?? 0) > 8 {
            result.failures.append("after Redis came back: \(tail)")
        }
        let log = gateway.log
        let outageLines = log.components(separatedBy: "\n").filter {
            $0.lowercased().contains("redis") && $0.contains("unreachable")
        }
        if outageLines.count > 2 { result.failures.append("\(outageLines.count) log lines for one outage") }
        try Self.check(&result, stopped: stopped, journal: journal)
        let answered = before.get().values.reduce(0, +) + down.values.reduce(0, +)
        result.held =
            "down: \(refused) × 503 state_unavailable + Retry-After (budgets closed); recovered without restart (\(answered) before)"
        return result
    }

    static func startRedis(port: Int, directory: String) async throws -> ChildProcess {
        let server = try ChildProcess.spawn(
            [
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--loglevel", "warning",
            ],
            output: .file("\(directory)/redis-\(port).log"),
            errors: .null
        )
        try await poll("redis-server on port \(port)", timeout: .seconds(20), interval: .milliseconds(50)) {
            (try? await ChildProcess.run(["redis-cli", "-p", "\(port)", "ping"]))?.output.contains("PONG") == true
        }
        return server
    }

    // MARK: - Full disk

    /// The journal's disk fills up under load — a size cap (`journal.max_size`, SQLite's
    /// `max_page_count`; this machine's sandbox does not enforce RLIMIT_FSIZE and cannot mount a
    /// small file system) — then space returns (`switchboard journal prune` frees pages): durable
    /// calls are refused with 503 `journal_unavailable` meanwhile, the same process writes again
    /// afterwards, no answered call is lost, the file is intact.
    func diskFull() async throws -> CheckResult {
        let cap = 2 << 20
        let (config, journal, key) = try configure("disk", state: "backend: memory", journal: ", max_size: 2MB")
        let gateway = try await start("disk", config: config)
        let answers = Shared<[(status: Int, id: String?, code: String?, retry: Bool)]>([])
        let record: @Sendable (Received) -> Void = { r in
            answers.update {
                $0.append(
                    (r.status, r.requestID, r.status == 200 ? nil : Self.code(of: r), r.header("retry-after") != nil)
                )
            }
        }
        let full = Shared(0)
        try await hammer(
            { gateway.url },
            key: key,
            label: "disk filling",
            answered: { r in
                record(r)
                if r.status != 200 { full.update { $0 += 1 } }
            }
        ) {
            full.get() >= 100
        }
        let alive = gateway.isAlive
        let filled = answers.get()
        let missingWhileFull = try Self.unjournaled(
            filled.filter { $0.status == 200 }.compactMap(\.id),
            journal: journal
        )
        let sizeWhenFull = Self.fileSize(journal)

        let pruned = try await ChildProcess.run([
            binary, "journal", "prune", "--older-than", "1s", "--journal", journal,
        ])
        let resumedAt = answers.get().count
        let okAfter = Shared(0)
        try await hammer(
            { gateway.url },
            key: key,
            label: "disk freed",
            answered: { r in
                record(r)
                if r.status == 200 { okAfter.update { $0 += 1 } }
            }
        ) {
            okAfter.get() >= 100
        }
        let stopped = await gateway.stop()

        var result = CheckResult(
            check: "journal disk full",
            tried: "journal capped at \(cap >> 20) MB under load, then pruned while the gateway ran",
            held: ""
        )
        let all = answers.get()
        let refused = filled.filter { $0.status != 200 }
        let wrong = refused.filter { $0.status != 503 || $0.code != "journal_unavailable" || !$0.retry }
        if !wrong.isEmpty {
            result.failures.append(
                "\(wrong.count) refusals not 503 journal_unavailable with Retry-After, e.g. \(wrong.prefix(3).map { "\($0.status) \($0.code ?? "-")" })"
            )
        }
        if !alive { result.failures.append("the gateway died when the disk filled: \(gateway.log.suffix(400))") }
        if !gateway.log.contains("is full (or its size limit is reached)") {
            result.failures.append("no log line names the full journal")
        }
        if !missingWhileFull.isEmpty {
            result.failures.append(
                "\(missingWhileFull.count) answered calls have no row, e.g. \(missingWhileFull.prefix(3))"
            )
        }
        if sizeWhenFull > cap {
            result.failures.append("the journal grew to \(sizeWhenFull) bytes past its \(cap)-byte cap")
        }
        if pruned.status != 0 { result.failures.append("journal prune failed: \(pruned.output.prefix(300))") }
        let after = all[resumedAt...]
        let missingAfter = try Self.unjournaled(after.filter { $0.status == 200 }.compactMap(\.id), journal: journal)
        if !missingAfter.isEmpty {
            result.failures.append("\(missingAfter.count) calls answered after the prune have no row")
        }
        try Self.check(&result, stopped: stopped, journal: journal)
        result.held =
            "\(filled.count - refused.count) calls journaled, then \(refused.count) × 503 journal_unavailable + Retry-After; writing resumed after the prune; nothing lost; integrity ok"
        return result
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
