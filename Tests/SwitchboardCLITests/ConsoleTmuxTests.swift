import Foundation
import SwitchboardJournal
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

        let session = "sbtest-\(UUID().uuidString.prefix(8))"
        let command = "env TERM=xterm-256color LANG=C.UTF-8 \(switchboardBinary) console --journal \(path) --window 1h"
        try await Self.tmux(["new-session", "-d", "-s", session, "-x", "140", "-y", "40", command])
        defer {
            // Reaped on a thread of its own: a `defer` cannot wait.
            if let kill = try? ChildProcess.spawn(["tmux", "kill-session", "-t", session], errors: .null) {
                Task { _ = await kill.wait() }
            }
        }
        func screen() async throws -> String { try await Self.tmux(["capture-pane", "-p", "-t", session]).output }
        func keys(_ keys: String...) async throws { try await Self.tmux(["send-keys", "-t", session] + keys) }

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
        _ = try await poll("the console quitting") {
            try await Self.tmux(["has-session", "-t", session]).status != 0 ? true : nil
        }
    }
}
