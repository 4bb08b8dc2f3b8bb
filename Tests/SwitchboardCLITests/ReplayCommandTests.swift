import Foundation
import Logging
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Testing

/// `switchboard replay` against a simulator: a journaled call sent again through the pipeline.
struct ReplayCommandTests {
    /// A configuration file for the simulator at `baseURL`, journaling to `directory`.
    private func writeConfiguration(baseURL: String, directory: String) throws -> String {
        let path = "\(directory)/switchboard.yaml"
        try """
        journal: { path: \(directory)/journal.sqlite, store_bodies: full }
        state: { backend: memory }
        providers:
          openai: { base_url: "\(baseURL)", api_key: sk-sim-replay-openai }
          anthropic: { base_url: "\(baseURL)", api_key: sk-sim-replay-anthropic }
        resilience:
          retry: { max_attempts: 2, base: 10ms, cap: 20ms }
        console: { user: oncall }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Makes one call through a pipeline built from the file and returns its request id.
    private func journaledCall(configurationPath: String, model: String) async throws -> String {
        let configuration = try SwitchboardConfiguration.load(path: configurationPath)
        var logger = Logger(label: "test.replay")
        logger.logLevel = .critical
        let writer = JournalWriter(
            journal: try Journal.open(configuration.journal.journalConfiguration),
            logger: logger
        )
        let pipeline = try Pipeline(configuration: configuration, journal: writer, logger: logger)
        let context = CallContext(origin: .gateway, userID: "ada")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            var request = OpenAI.ChatCompletionRequest(model: model, messages: [.user("Where is the Eiffel Tower?")])
            request.maxCompletionTokens = 30
            _ = try? await pipeline.chat(request, context: context)
            writer.finish()
            try await group.waitForAll()
        }
        return context.requestID
    }

    @Test func aFailedCallIsReplayedAndTheTwoOutcomesPrintedSideBySide() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            let configurationPath = try writeConfiguration(baseURL: fixture.baseURL, directory: directory)
            fixture.simulator.enqueue([.status(500), .status(503)], provider: .openAI)
            let requestID = try await journaledCall(configurationPath: configurationPath, model: "openai/gpt-4o-mini")

            let replay = try await switchboard(["replay", requestID, "--config", configurationPath])
            #expect(replay.status == 0, "\(replay.errors)")
            #expect(replay.output.contains("replay of \(requestID) (openai format, model openai/gpt-4o-mini)"))
            let outcomeLine = try #require(replay.output.split(separator: "\n").first { $0.hasPrefix("outcome") })
            #expect(outcomeLine.contains("error (upstream_exhausted)") && outcomeLine.hasSuffix("ok"))
            #expect(replay.output.contains("answer\n  "))

            let reader = try JournalReader.open(path: "\(directory)/journal.sqlite")
            let calls = try reader.calls(matching: CallFilter(), after: 0)
            #expect(calls.count == 2)
            #expect(calls.last?.origin == "playground")
            #expect(calls.last?.userID == "oncall")
            #expect(calls.last?.outcome == "ok")
        }
    }

    @Test func aReplayCanGoToAnotherRoute() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            let configurationPath = try writeConfiguration(baseURL: fixture.baseURL, directory: directory)
            let requestID = try await journaledCall(configurationPath: configurationPath, model: "openai/gpt-4o-mini")
            let replay = try await switchboard([
                "replay", String(requestID.prefix(14)), "--route", "anthropic/claude-haiku-4-5", "--config",
                configurationPath,
            ])
            #expect(replay.status == 0, "\(replay.errors)")
            let answeredBy = try #require(replay.output.split(separator: "\n").first { $0.hasPrefix("answered by") })
            #expect(answeredBy.contains("openai/gpt-4o-mini") && answeredBy.contains("anthropic/claude-haiku-4-5"))
        }
    }

    @Test func anUnknownCallOrABodilessJournalIsAClearError() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            let configurationPath = try writeConfiguration(baseURL: fixture.baseURL, directory: directory)
            _ = try await journaledCall(configurationPath: configurationPath, model: "openai/gpt-4o-mini")
            let missing = try await switchboard(["replay", "req_nosuchcall", "--config", configurationPath])
            #expect(missing.status == 1)
            #expect(missing.errors.contains("no call req_nosuchcall in \(directory)/journal.sqlite"))
        }
        #expect(throws: SwitchboardError.self) { try ReplayRequest(journaled: nil) }
    }

    @Test(arguments: [
        (#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#, APIFormat.anthropic),
        (#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#, .openAI),
        (
            #"{"model":"m","max_tokens":10,"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]}"#,
            .openAI
        ),
        (#"{"model":"m","max_tokens":10,"system":"s","messages":[{"role":"user","content":"hi"}]}"#, .anthropic),
        (#"{"model":"m","max_completion_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#, .openAI),
    ])
    func theCallersFormatIsToldFromTheBody(body: String, format: APIFormat) throws {
        #expect(ReplayRequest.guessFormat(try JSONValue.parse(body)) == format)
        #expect(try ReplayRequest(journaled: body).format == format)
    }
}

/// Budgets shared by two `switchboard` processes through the SQLite state store.
struct BudgetProcessesTests {
    @Test func twoProcessesSpendingOneBudgetNeverOvershootIt() async throws {
        // $0.001 for the console user: about forty calls of gpt-4o-mini with 40 output tokens.
        let replays = try await replayInTwoProcesses(
            times: 50,
            settings: """
                budgets:
                  users: { oncall: { hard: 0.001 } }
                limits:
                  users: { oncall: { rpm: 10000, tpm: 10000000 } }
                """
        )
        #expect(replays.count == 100)
        let ok = replays.filter { $0.outcome == "ok" }
        #expect(ok.count > 10 && ok.count < 90)
        #expect(replays.filter { $0.outcome == "budget" }.count == 100 - ok.count)
        #expect(ok.compactMap(\.costNanoUSD).reduce(0, +) <= 1_000_000, "no overshoot across processes")
    }
}

/// Budgets and limits shared by two `switchboard` processes through Redis, as gateways on two
/// hosts share them.
struct RedisProcessesTests {
    @Test func twoProcessesShareOneBudgetAndOneLimitThroughRedis() async throws {
        let url = try await RedisServer.sharedURL()
        let state =
            "state: { backend: redis, redis_url: \"\(url)\", redis_prefix: \"\(RedisServer.uniquePrefix())\", redis_timeout: 10s }"
        let budgeted = try await replayInTwoProcesses(
            times: 50,
            settings:
                "budgets:\n  users: { oncall: { hard: 0.001 } }\nlimits:\n  users: { oncall: { rpm: 10000, tpm: 10000000 } }",
            state: state
        )
        let ok = budgeted.filter { $0.outcome == "ok" }
        #expect(ok.count > 10 && ok.count < 90)
        #expect(budgeted.filter { $0.outcome == "budget" }.count == 100 - ok.count)
        #expect(ok.compactMap(\.costNanoUSD).reduce(0, +) <= 1_000_000, "no overshoot across processes")

        let limited = try await replayInTwoProcesses(
            times: 3,
            settings: "limits:\n  users: { oncall: { rpm: 3 } }",
            state:
                "state: { backend: redis, redis_url: \"\(url)\", redis_prefix: \"\(RedisServer.uniquePrefix())\", redis_timeout: 10s }"
        )
        #expect(limited.filter { $0.outcome == "ok" }.count == 3, "one limit of 3 a minute across both")
        #expect(limited.filter { $0.outcome == "rate_limited" }.count == 3)
    }
}

/// Per-user limits shared by two `switchboard` processes through the SQLite state store.
struct LimitProcessesTests {
    @Test func twoProcessesCountAgainstOneRequestLimit() async throws {
        // Three a minute: one refills every 20 s, longer than the replays take on a busy machine.
        let replays = try await replayInTwoProcesses(times: 3, settings: "limits:\n  users: { oncall: { rpm: 3 } }")
        #expect(replays.count == 6)
        #expect(replays.filter { $0.outcome == "ok" }.count == 3, "one limit of 3 a minute across both")
        #expect(replays.filter { $0.outcome == "rate_limited" }.count == 3)
    }
}

/// Journals one call, then replays it `times` times from each of two `switchboard` processes
/// sharing one state store (a SQLite file unless `state` says otherwise), with `settings` (YAML)
/// added to the configuration; returns the replays, which are billed and limited as the console
/// user `oncall`.
func replayInTwoProcesses(times: Int, settings: String, state: String? = nil) async throws -> [CallSummary] {
    let directory = try temporaryDirectory()
    return try await withSimulator { fixture in
        let path = "\(directory)/switchboard.yaml"
        try """
        journal: { path: \(directory)/journal.sqlite, store_bodies: full }
        \(state ?? "state: { backend: sqlite, sqlite_path: \(directory)/state.sqlite }")
        providers:
          openai: { base_url: "\(fixture.baseURL)", api_key: sk-sim-two-processes }
        cache: { exact: { enabled: false } }
        console: { user: oncall }
        \(settings)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let original = try await journalOneCall(configurationPath: path, text: "Name a color.")
        async let first = switchboard(["replay", original.requestID, "--times", "\(times)", "--config", path])
        async let second = switchboard(["replay", original.requestID, "--times", "\(times)", "--config", path])
        for result in try await [first, second] {
            #expect(result.output.contains("\(times) replays of \(original.requestID)"), "\(result.errors)")
        }
        return try JournalReader.open(path: "\(directory)/journal.sqlite")
            .calls(matching: CallFilter(userID: "oncall"), after: 0, limit: 1_000)
    }
}

/// Journals one call (user `someone-else`, not the console user, with its own memory state) through
/// a pipeline built from the file, to be replayed.
func journalOneCall(configurationPath: String, text: String) async throws -> CallContext {
    let configuration = try SwitchboardConfiguration.load(path: configurationPath)
    var logger = Logger(label: "test.replay")
    logger.logLevel = .critical
    let writer = JournalWriter(journal: try Journal.open(configuration.journal.journalConfiguration), logger: logger)
    let pipeline = try Pipeline(
        configuration: configuration,
        journal: writer,
        store: MemoryStateStore(),
        logger: logger
    )
    let context = CallContext(userID: "someone-else")
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        var request = OpenAI.ChatCompletionRequest(model: "openai/gpt-4o-mini", messages: [.user(text)])
        request.maxCompletionTokens = 40
        _ = try await pipeline.chat(request, context: context)
        writer.finish()
        try await group.waitForAll()
    }
    return context
}
