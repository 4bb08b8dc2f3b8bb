import Foundation
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

/// The real `switchboard console` in tmux, driven with `send-keys` and read with `capture-pane`,
/// against a journal that is written while it runs.
@Suite struct ConsoleTmuxTests {
    /// Runs tmux with `arguments`; returns its standard output.
    @discardableResult
    static func tmux(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        // Output to a file, not a pipe: the tmux server that the first call starts inherits the
        // descriptor and would hold a pipe open for ever.
        try await ChildProcess.run(["tmux"] + arguments)
    }

    static func write(_ records: [CallRecord], to path: String) async throws {
        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            for record in records { try await writer.write(record) }
            writer.finish()
            try await group.waitForAll()
        }
    }

    @Test func theConsoleFollowsAJournalBeingWrittenAndAnswersKeys() async throws {
        #expect(try await Self.tmux(["-V"]).status == 0, "tmux is missing: scripts/install-deps.sh installs it")
        let directory = try temporaryDirectory()
        let path = "\(directory)/journal.sqlite"
        var seed = SyntheticCalls(
            count: 50,
            seed: 5,
            options: .init(start: Date().addingTimeInterval(-300), span: .seconds(240))
        )
        var records: [CallRecord] = []
        while let record = seed.next() { records.append(record) }
        try await Self.write(records, to: path)

        let session = try await TmuxSession.start(
            "\(switchboardBinary) console --journal \(path) --window 1h",
            width: 140,
            height: 40
        )
        defer { session.kill() }
        func screen() async throws -> String { try await session.screen() }
        func keys(_ keys: String...) async throws { try await session.send(keys) }

        _ = try await poll("the overview") { try await screen().contains("Rate-limit headroom") ? true : nil }
        #expect(try await screen().contains("Spend per user"))

        // A call written now shows up without a key press (the journal is followed).
        var generator = SyntheticCalls(count: 1, seed: 9, options: .init(start: Date(), span: .seconds(1)))
        let next = generator.next()
        var live = try #require(next)
        live.requestID = "req_tmux_live_0001"
        live.userID = "tmux-user"
        try await keys("c")
        _ = try await poll("the calls list") { try await screen().contains("Calls · newest first") ? true : nil }
        try await Self.write([live], to: path)
        _ = try await poll("the new call in the list") {
            try await screen().contains("req_tmux_live_0001") ? true : nil
        }

        // Drill into it (the newest, selected), and back.
        try await keys("Enter")
        _ = try await poll("the call's detail") { try await screen().contains("Call req_tmux_live_0001") ? true : nil }
        #expect(try await screen().contains("tmux-user"))
        try await keys("Escape")
        _ = try await poll("back to the list") { try await screen().contains("Calls · newest first") ? true : nil }
        try await keys("o", "5")
        _ = try await poll("the 24h window") { try await screen().contains("Latency · 24h") ? true : nil }
        try await keys("?")
        _ = try await poll("the help") { try await screen().contains("Help · keys") ? true : nil }
        try await keys("?", "q")
        _ = try await poll("the console quitting") { try await session.ended() ? true : nil }
    }
}

/// A tmux session running one command in a UTF-8 xterm: keys sent with `send-keys`, the screen
/// read with `capture-pane`, as a person would use it.
struct TmuxSession {
    let name: String

    static func start(_ command: String, width: Int, height: Int) async throws -> TmuxSession {
        let session = TmuxSession(name: "sbtest-\(UUID().uuidString.prefix(8))")
        let line = "env TERM=xterm-256color LANG=C.UTF-8 \(command)"
        try await ConsoleTmuxTests.tmux([
            "new-session", "-d", "-s", session.name, "-x", "\(width)", "-y", "\(height)", line,
        ])
        return session
    }

    func screen() async throws -> String { try await ConsoleTmuxTests.tmux(["capture-pane", "-p", "-t", name]).output }

    func send(_ keys: [String]) async throws { try await ConsoleTmuxTests.tmux(["send-keys", "-t", name] + keys) }

    /// Whether the command has ended (and the session with it).
    func ended() async throws -> Bool { try await ConsoleTmuxTests.tmux(["has-session", "-t", name]).status != 0 }

    /// Ends the session; reaped on a thread of its own, since a `defer` cannot wait.
    func kill() {
        if let kill = try? ChildProcess.spawn(["tmux", "kill-session", "-t", name], errors: .null) {
            Task { _ = await kill.wait() }
        }
    }
}

/// The playground in the real console in tmux: typed, sent, streamed, journaled.
@Suite struct PlaygroundTmuxTests {
    /// A configuration for the simulator at `baseURL`, journaling to `directory`.
    static func configuration(_ directory: String, baseURL: String) throws -> String {
        let path = "\(directory)/switchboard.yaml"
        try """
        journal: { path: \(directory)/journal.sqlite, store_bodies: full }
        state: { backend: sqlite, sqlite_path: \(directory)/state.sqlite }
        providers:
          openai: { base_url: "\(baseURL)", api_key: sk-sim-playground-openai }
          anthropic: { base_url: "\(baseURL)", api_key: sk-sim-playground-anthropic }
        routes:
          default: { targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5] }
        console: { user: oncall }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Opens the playground in tmux with `arguments`, sends a prompt, waits for the answer and
    /// quits; returns the request id the figures line showed.
    static func sendFromThePlayground(_ arguments: String, environment: String = "") async throws -> String {
        let session = try await TmuxSession.start(
            "\(environment) \(switchboardBinary) console \(arguments)",
            width: 150,
            height: 40
        )
        defer { session.kill() }
        func screen() async throws -> String { try await session.screen() }
        func keys(_ keys: String...) async throws { try await session.send(keys) }

        _ = try await poll("the overview") { try await screen().contains("Rate-limit headroom") ? true : nil }
        try await keys("p")
        _ = try await poll("the playground") { try await screen().contains("Playground · route") ? true : nil }
        try await keys("-l", "How long is the refund window? 返金")
        try await keys("Tab")
        try await keys("-l", "You are the support assistant.")
        _ = try await poll("the typed prompt") { try await screen().contains("返金") ? true : nil }
        try await keys("C-s")
        let shown = try await poll("the answer", timeout: .seconds(30)) { () async throws -> String? in
            let text = try await screen()
            return text.contains("Answer · done") ? text : nil
        }
        #expect(shown.contains("You are the support assistant."))
        let requestID = try #require(shown.firstMatch(of: /req_[0-9a-f]{24}/).map { String($0.output) })
        try await keys("Escape")
        _ = try await poll("the overview again") { try await screen().contains("Rate-limit headroom") ? true : nil }
        try await keys("q")
        _ = try await poll("the console quitting") { try await session.ended() ? true : nil }
        return requestID
    }

    @Test func aPromptSentFromThePlaygroundIsJournaledAsAPlaygroundCall() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            let configuration = try Self.configuration(directory, baseURL: fixture.baseURL)
            let requestID = try await Self.sendFromThePlayground("--config \(configuration)")
            let row = try #require(
                try JournalReader.open(path: "\(directory)/journal.sqlite").call(requestID: requestID)
            )
            #expect(row.summary.origin == "playground" && row.summary.userID == "oncall")
            #expect(row.requestBody?.contains("返金") == true)
            #expect(fixture.simulator.stats.snapshot.requests == 1)
        }
    }

    @Test func viaAGatewayTheCallIsTheGatewaysAndBilledToTheKey() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            let configuration = try Self.configuration(directory, baseURL: fixture.baseURL)
            let made = try await switchboard(["keys", "create", "--config", configuration, "--user", "keyholder"])
            let secret = try #require(made.output.firstMatch(of: /secret: (\S+)/).map { String($0.output.1) })
            let gatewayOutput = "\(directory)/gateway.out"
            let gateway = try startSwitchboard(
                ["gateway", "--config", configuration, "--port", "0"],
                outputFile: gatewayOutput
            )
            defer {
                gateway.signal(SIGTERM)
                Task { _ = await gateway.wait() }
            }
            let url = try await poll("the gateway's banner") { () -> String? in
                let text = (try? String(contentsOfFile: gatewayOutput, encoding: .utf8)) ?? ""
                return text.firstMatch(of: /listening on (http:\/\/\S+)/).map { String($0.output.1) }
            }
            // The console's own configuration journals elsewhere: the gateway journals the call.
            // The key from the environment: other users can read a process's arguments.
            let requestID = try await Self.sendFromThePlayground(
                "--config \(configuration) --via-gateway \(url)",
                environment: "SWITCHBOARD_GATEWAY_KEY=\(secret)"
            )
            let row = try #require(
                try JournalReader.open(path: "\(directory)/journal.sqlite").call(requestID: requestID)
            )
            #expect(row.summary.origin == "gateway" && row.summary.userID == "keyholder")
        }
    }
}
