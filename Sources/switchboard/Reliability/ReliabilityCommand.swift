import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Synchronization

/// `switchboard reliability`: what holds under faults, tried on the real binary.
struct ReliabilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reliability",
        abstract: "Run the reliability suite: kill -9, a shared journal, fuzzed bodies, Redis lost, a full disk.",
        discussion: """
            Starts gateways as child processes of this binary in front of a simulator in this process, \
            puts them under load and breaks things: kill -9 and restart (every response a client received \
            has its journal row), three processes writing one journal (nothing lost, no busy error), \
            mutated request bodies (every answer a 4xx from the error table, no crash, memory bounded), \
            Redis stopped and started (answers per state.on_redis_down, then recovery), and the journal's \
            file size limit reached (journal_unavailable, then recovery, no corruption). Prints what it \
            tried and what held; exits 1 when anything did not hold. Needs redis-server on PATH.
            """
    )

    @Flag(help: "A short run (fewer fuzzed bodies, 10 s of journal writers).") var quick = false
    @Option(help: "Only these checks (repeatable): kill9, journal, fuzz, redis, disk.") var only: [String] = []
    @Option(help: "Seed for the fuzzed bodies.") var seed = 1
    @Option(help: "How many fuzzed bodies (default 10,000; 2,000 with --quick).") var bodies: Int?

    func run() async throws {
        let all = ["kill9", "journal", "fuzz", "redis", "disk"]
        for name in only where !all.contains(name) {
            throw ValidationError("--only: unknown check '\(name)'; use one of \(all.joined(separator: ", "))")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-reliability-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        printNow("machine: \(Machine.description)\n")
        var simulator = SimulatorConfiguration.testing
        simulator.limits.openAI = .init(requests: 1 << 30, tokens: 1 << 40)
        simulator.limits.anthropic = .init(requests: 1 << 30, inputTokens: 1 << 40, outputTokens: 1 << 40)
        let results = try await withSimulator(simulator) { fixture in
            let suite = ReliabilitySuite(
                binary: Machine.executable,
                directory: directory,
                simulatorURL: fixture.baseURL,
                quick: quick,
                seed: UInt64(seed),
                bodies: bodies ?? (quick ? 2_000 : 10_000),
                client: Load.client
            )
            var results: [CheckResult] = []
            for name in all where only.isEmpty || only.contains(name) {
                let started = ContinuousClock.now
                var result: CheckResult
                do {
                    switch name {
                    case "kill9": result = try await suite.killNine()
                    case "journal": result = try await suite.sharedJournal()
                    case "fuzz": result = try await suite.fuzz()
                    case "redis": result = try await suite.redisLost()
                    default: result = try await suite.diskFull()
                    }
                } catch {
                    result = CheckResult(
                        check: name,
                        tried: "",
                        held: "",
                        failures: ["did not run to its end: \(error)"]
                    )
                }
                result.seconds = (ContinuousClock.now - started).secondsDouble
                printNow("\(result.passed ? "held" : "FAILED"): \(result.check) (\(Int(result.seconds.rounded())) s)\n")
                for failure in result.failures { printNow("  - \(failure)\n") }
                results.append(result)
            }
            return results
        }

        var table = TextTable([("check", .left), ("what it tried", .left), ("what held", .left), ("result", .left)])
        for result in results {
            table.add([result.check, result.tried, result.held, result.passed ? "held" : "FAILED"])
        }
        print()
        print(table.rendered, terminator: "")
        let held = results.filter(\.passed).count
        print("RELIABILITY: \(held) of \(results.count) checks held")
        if held == results.count {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            print("logs and journals kept in \(directory)")
            throw ExitCode(1)
        }
    }

}

/// One check's outcome: a line of the table.
struct CheckResult: Sendable {
    var check: String
    var tried: String
    var held: String
    var failures: [String] = []
    var seconds = 0.0

    var passed: Bool { failures.isEmpty }
}

/// A `switchboard gateway` child process on a free port.
struct GatewayProcess: Sendable {
    let child: ChildProcess
    let url: String
    let errors: String

    static func start(binary: String, config: String, name: String, directory: String) async throws -> GatewayProcess {
        let output = "\(directory)/\(name).out"
        let errors = "\(directory)/\(name).err"
        let child = try ChildProcess.spawn(
            [binary, "gateway", "--config", config, "--port", "0", "--log-level", "notice"],
            output: .file(output),
            errors: .file(errors)
        )
        let process = GatewayProcess(child: child, url: "", errors: errors)
        let url = try await poll("gateway \(name) to listen", timeout: .seconds(60), interval: .milliseconds(20)) {
            () -> String? in
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://\S+"#, options: .regularExpression) {
                return String(text[range].dropFirst("listening on ".count))
            }
            if !process.isAlive {
                throw CommandFailure(
                    "gateway \(name) exited: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")"
                )
            }
            return nil
        }
        return GatewayProcess(child: child, url: url, errors: errors)
    }

    /// Running (not exited, not a zombie waiting to be reaped).
    var isAlive: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Resident memory, from `/proc/PID/status`.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    var log: String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }

    /// SIGTERM, and the exit status once it drained.
    func stop() async -> Int32 {
        child.signal(SIGTERM)
        return await child.wait()
    }
}

/// One answer a load client received.
struct Received: Sendable {
    var status: Int
    var requestID: String?
    var body: [UInt8]
    var headers: [(String, String)]
    /// The `x-fuzz-kind` the request carried, if any.
    var kind: String? = nil
    /// The start of the request's body, to show what a wrong answer answered.
    var sent = ""

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
}

/// Sends requests until stopped, from several concurrent workers.
struct FaultLoad: Sendable {
    let client: HTTPClient

    /// Sends what `next` gives (`nil` ends a worker) to the URL `target` gives at that moment
    /// (it may change: a restarted gateway), from `workers` tasks, until `until` returns true;
    /// every answer goes to `answered`, every failure (no answer) to `failed`.
    func run(
        workers: Int,
        target: @escaping @Sendable () -> String,
        next: @escaping @Sendable (Int) -> (path: String, body: [UInt8], headers: [(String, String)])?,
        until: @escaping @Sendable () -> Bool,
        answered: @escaping @Sendable (Received) -> Void,
        failed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    while !until(), let request = next(worker) {
                        var http = HTTPClientRequest(url: target() + request.path)
                        http.method = .POST
                        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
                        http.body = .bytes(ByteBuffer(bytes: request.body))
                        do {
                            let response = try await client.execute(http, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: 16 << 20)
                            answered(
                                Received(
                                    status: Int(response.status.code),
                                    requestID: response.headers.first(name: "x-request-id"),
                                    body: Array(buffer: body),
                                    headers: response.headers.map { ($0.name, $0.value) },
                                    kind: request.headers.first { $0.0 == "x-fuzz-kind" }?.1,
                                    sent: String(decoding: request.body.prefix(160), as: UTF8.self)
                                )
                            )
                        } catch {
                            failed(error)
                            // A gateway that is gone: do not spin.
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
            }
        }
    }

    /// A small chat request in the format of `path`.
    static func chat(_ text: String, anthropic: Bool, key: String) -> (
        path: String, body: [UInt8], headers: [(String, String)]
    ) {
        let body: JSONValue = [
            "model": "default", "max_tokens": 16, "messages": [["role": "user", "content": .string(text)]],
        ]
        return (
            anthropic ? "/v1/messages" : "/v1/chat/completions", body.serializedBytes(),
            [("content-type", "application/json"), ("authorization", "Bearer \(key)")]
        )
    }
}

/// A value several tasks change.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func update<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
