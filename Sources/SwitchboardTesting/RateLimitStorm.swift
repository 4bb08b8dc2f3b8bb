import Foundation
import Logging
import SwitchboardCore
import SwitchboardSimulator

/// Many calls at once through the core against a simulator whose limits are real and tight, with
/// injected server errors: what the resilience core's must-show test and `switchboard bench
/// pipeline` run. Everything is measured from the journal, as an operator would.
public struct RateLimitStorm: Sendable {
    /// Calls sent, all at once. The default is 1,000.
    public var calls = 1_000
    /// The key's request limit per one-second window. The default is 100.
    public var requestsPerSecond = 100
    /// The key's token limit per one-second window. The default is 8,000.
    public var tokensPerSecond = 8_000
    /// Share of requests the simulator answers with a 500, 502 or 503. The default is 5 %.
    public var serverErrorRate = 0.05
    /// Headroom pacing on or off.
    public var pacing = true
    /// Each call's deadline. The default is 120 s.
    public var deadline: Duration = .seconds(120)
    /// Time to first token of the simulated provider. The default is 20 ms.
    public var timeToFirstToken: Duration = .milliseconds(20)
    public var seed: UInt64 = 2026

    public init() {}

    /// What happened, measured from the journal and the simulator.
    public struct Report: Sendable, CustomStringConvertible {
        public var calls = 0
        public var succeeded = 0
        /// Failed calls by error class.
        public var failures: [String: Int] = [:]
        /// Upstream attempts, the first of each call included.
        public var attempts = 0
        /// 429s the provider answered.
        public var rateLimited = 0
        /// 5xx the provider answered.
        public var serverErrors = 0
        /// Retries sent earlier than the `retry-after` their previous attempt advertised.
        public var earlyRetries = 0
        /// Attempts of any call started on the same key and model after a 429 was received and
        /// before its `retry-after` had passed.
        public var earlyOnKey = 0
        /// Calls that waited for headroom.
        public var pacedCalls = 0
        /// Calls whose answer came after their deadline.
        public var lateCalls = 0
        public var seconds = 0.0
        public var latencyP50Milliseconds = 0.0
        public var latencyP99Milliseconds = 0.0

        public var attemptsPerCall: Double { calls == 0 ? 0 : Double(attempts) / Double(calls) }
        public var rateLimitedShare: Double { attempts == 0 ? 0 : Double(rateLimited) / Double(attempts) }

        public var description: String {
            "\(calls) calls: \(succeeded) ok, failures \(failures), \(attempts) attempts (\(String(format: "%.3f", attemptsPerCall))/call), "
                + "\(rateLimited) 429s (\(String(format: "%.2f", rateLimitedShare * 100)) %), \(serverErrors) 5xx, "
                + "\(earlyRetries) early retries, \(earlyOnKey) early on the key, \(pacedCalls) paced, "
                + "\(String(format: "%.1f", seconds)) s, p50 \(Int(latencyP50Milliseconds)) ms, p99 \(Int(latencyP99Milliseconds)) ms"
        }
    }

    /// Runs the storm with its journal and state store in `directory`.
    public func run(in directory: String) async throws -> Report {
        var simulator = SimulatorConfiguration.testing
        simulator.seed = seed
        simulator.latency.timeToFirstToken = timeToFirstToken
        simulator.limits.openAI = .init(window: .seconds(1), requests: requestsPerSecond, tokens: tokensPerSecond)
        simulator.faults.rates = [
            (.status(500), serverErrorRate * 0.4), (.status(502), serverErrorRate * 0.2),
            (.status(503), serverErrorRate * 0.4),
        ]
        let storm = self
        return try await withSimulator(simulator) { fixture in
            var configuration = SwitchboardConfiguration()
            configuration.journal.path = "\(directory)/journal.sqlite"
            configuration.journal.storeBodies = .none
            configuration.state.backend = .sqlite
            configuration.state.sqlitePath = "\(directory)/state.sqlite"
            configuration.providers = [
                "openai": .init(
                    kind: .openAI,
                    baseURL: fixture.baseURL,
                    apiKeys: [Secret(value: "sk-sim-storm-key", source: "storm")]
                )
            ]
            configuration.resilience.pacing.enabled = storm.pacing
            configuration.resilience.timeouts.total = storm.deadline
            var logger = Logger(label: "switchboard.storm")
            logger.logLevel = .critical
            let journal = try Journal.open(configuration.journal.journalConfiguration)
            let writer = JournalWriter(journal: journal, logger: logger)
            let pipeline = try Pipeline(
                configuration: configuration,
                journal: writer,
                random: SplitMix64(seed: storm.seed),
                logger: logger
            )
            let clock = ContinuousClock()
            let started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                await withTaskGroup(of: Void.self) { calls in
                    for index in 0..<storm.calls {
                        calls.addTask {
                            var request = OpenAI.ChatCompletionRequest(
                                model: "openai/gpt-4o-mini",
                                messages: [.user("Storm question \(index): what is the capital of France?")]
                            )
                            request.maxCompletionTokens = 24
                            _ = try? await pipeline.chat(request, context: CallContext(userID: "storm-\(index % 20)"))
                        }
                    }
                }
                writer.finish()
                try await group.waitForAll()
            }
            var report = try Self.measure(journalPath: configuration.journal.path, deadline: storm.deadline)
            report.seconds = (clock.now - started).secondsDouble
            report.rateLimited = fixture.simulator.stats.snapshot.byStatus[429, default: 0]
            return report
        }
    }

    /// Reads what the journal recorded of the storm.
    static func measure(journalPath: String, deadline: Duration) throws -> Report {
        let reader = try JournalReader.open(path: journalPath)
        var report = Report()
        var latencies: [Double] = []
        var attemptsByKey: [String: [AttemptRecord]] = [:]
        var summaries: [CallSummary] = []
        while true {
            let page = try reader.calls(matching: CallFilter(), after: summaries.last?.id ?? 0, limit: 1000)
            if page.isEmpty { break }
            summaries += page
        }
        for summary in summaries {
            guard let detail = try reader.call(requestID: summary.requestID) else { continue }
            report.calls += 1
            if summary.outcome == "ok" {
                report.succeeded += 1
            } else {
                report.failures[summary.errorClass ?? summary.outcome, default: 0] += 1
            }
            if summary.pacedMilliseconds > 0 { report.pacedCalls += 1 }
            if let latency = summary.latencyMilliseconds {
                latencies.append(latency)
                if latency > deadline.millisecondsDouble { report.lateCalls += 1 }
            }
            report.attempts += detail.attempts.count
            report.serverErrors += detail.attempts.filter { ($0.httpStatus ?? 0) >= 500 }.count
            for (previous, next) in zip(detail.attempts, detail.attempts.dropFirst()) {
                guard let advertised = Self.retryAfter(previous) else { continue }
                if next.startedAt < Self.answeredAt(previous).addingTimeInterval(advertised) {
                    report.earlyRetries += 1
                }
            }
            for attempt in detail.attempts {
                attemptsByKey["\(attempt.keyFingerprint ?? "")/\(attempt.model)", default: []].append(attempt)
            }
        }
        for attempts in attemptsByKey.values {
            let limited = attempts.compactMap { attempt in
                Self.retryAfter(attempt).map { (Self.answeredAt(attempt), $0) }
            }
            for attempt in attempts {
                if limited.contains(where: {
                    attempt.startedAt > $0.0 && attempt.startedAt < $0.0.addingTimeInterval($0.1)
                }) {
                    report.earlyOnKey += 1
                }
            }
        }
        latencies.sort()
        if !latencies.isEmpty {
            report.latencyP50Milliseconds = latencies[latencies.count / 2]
            report.latencyP99Milliseconds = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        }
        return report
    }

    /// The delay a 429 advertised, in seconds: `retry-after-ms`, else `retry-after`.
    static func retryAfter(_ attempt: AttemptRecord) -> Double? {
        guard attempt.httpStatus == 429 else { return nil }
        if let milliseconds = attempt.rateLimitHeaders["retry-after-ms"].flatMap(Double.init) {
            return milliseconds / 1000
        }
        return attempt.rateLimitHeaders["retry-after"].flatMap(Double.init)
    }

    static func answeredAt(_ attempt: AttemptRecord) -> Date {
        attempt.startedAt.addingTimeInterval((attempt.latencyMilliseconds ?? 0) / 1000)
    }
}
