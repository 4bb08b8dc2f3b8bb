import Foundation
import Logging
import SwitchboardConsole
import SwitchboardCore
import SwitchboardJournal
import SwitchboardTesting
import SwitchboardWire
import Synchronization
import Testing

/// The console drawn headless from a fixture journal: values on screen are checked against what
/// the journal's reader computes for the same window, and the layout at 80×24 and 160×48.
@Suite struct ConsoleScreenTests {
    /// A journal of 400 synthetic calls over the ten minutes before `now`.
    static func fixture() async throws -> (path: String, now: Date) {
        let directory = try temporaryDirectory()
        let path = "\(directory)/journal.sqlite"
        let now = Date(timeIntervalSince1970: 1_795_950_000)
        var options = SyntheticCalls.Options(start: now.addingTimeInterval(-600), span: .seconds(590))
        options.users = 6
        options.bodies = true
        try await write(SyntheticCalls(count: 400, seed: 3, options: options).all, to: path)
        return (path, now)
    }

    /// A new journal's path, and the moment the tests look at it.
    static func place() throws -> (path: String, now: Date) {
        (try temporaryDirectory() + "/journal.sqlite", Date(timeIntervalSince1970: 1_795_950_000))
    }

    /// `count` synthetic calls spread over `seconds`, ending `endingSecondsAgo` before `now`.
    static func synthetic(_ count: Int, seed: UInt64, over seconds: Int, endingSecondsAgo: Int, now: Date)
        -> [CallRecord]
    {
        let start = now.addingTimeInterval(-Double(seconds + endingSecondsAgo))
        return SyntheticCalls(count: count, seed: seed, options: .init(start: start, span: .seconds(seconds))).all
    }

    /// Journals `records` at `path` as another process would.
    static func write(_ records: [CallRecord], to path: String) async throws {
        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            for record in records { await writer.submit(.call(record)) }
            writer.finish()
            try await group.waitForAll()
        }
    }

    static func app(_ path: String, now: Date, ascii: Bool = false) -> ConsoleApp {
        let app = ConsoleApp(
            journal: ConsoleJournal(path: path),
            configuration: SwitchboardConfiguration(),
            theme: .dark,
            ascii: ascii,
            window: .fifteenMinutes,
            now: { now }
        )
        app.reload()
        return app
    }

    /// `12:04:31` (UTC), as the console shows times.
    static func clock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970) % 86_400
        return String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// The screen line that contains `needle`.
    static func line(_ screen: String, containing needle: String) -> String? {
        screen.split(separator: "\n").map(String.init).first { $0.contains(needle) }
    }

    @Test func theWideOverviewShowsTheJournalsFigures() async throws {
        let (path, now) = try await Self.fixture()
        let screen = Self.app(path, now: now).frame(width: 160, height: 48).text
        let reader = try JournalReader.open(path: path)
        let from = now.addingTimeInterval(-900)
        let byModel = try reader.aggregate(from: from, to: now, by: .model)
        // This model's p99, as the reader computes it, on its latency row.
        let model = try #require(byModel.max { $0.value.calls < $1.value.calls })
        let p99 = try #require(model.value.latency.quantile(0.99))
        let row = try #require(Self.line(screen, containing: " \(model.key) "))
        #expect(row.contains(p99 < 1000 ? "\(Int(p99.rounded()))ms" : String(format: "%.2fs", p99 / 1000)))
        // That user's spend on their row.
        let byUser = try reader.aggregate(from: from, to: now, by: .user, details: false)
        let user = try #require(byUser.filter { !$0.key.isEmpty }.max { $0.value.costNanoUSD < $1.value.costNanoUSD })
        let spendRow = try #require(Self.line(screen, containing: "│ \(user.key) "))
        let dollars = Double(user.value.costNanoUSD) / 1e9
        #expect(spendRow.contains(dollars >= 1 ? String(format: "$%.2f", dollars) : String(format: "$%.3f", dollars)))
        // The third error's class on the third error row.
        let failures = try reader.recentFailures(limit: 40)
        let third = failures[2]
        let errorRows = screen.split(separator: "\n").map(String.init).filter {
            $0.contains(Self.clock(third.startedAt))
        }
        #expect(errorRows.contains { $0.contains(third.errorClass ?? third.outcome) })
        // Header figures: calls per second over the window.
        let totals = try #require(try reader.aggregate(from: from, to: now)[""])
        #expect(screen.contains(String(format: "calls %.1f/s", Double(totals.calls) / 900)))
        // Layout: five boxed panes, the footer, nothing past the edge.
        for title in ["Rate-limit headroom", "Latency · 15m", "Cache · 15m", "Errors · newest first", "Spend per user"]
        {
            #expect(screen.contains("┌ \(title)"))
        }
        #expect(screen.split(separator: "\n").last?.contains("? help") == true)
    }

    @Test func at80x24ThePanesStackAndNothingIsCutMidWord() async throws {
        let (path, now) = try await Self.fixture()
        let screen = Self.app(path, now: now).frame(width: 80, height: 24)
        let lines = screen.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 24)
        for title in ["Rate-limit headroom", "Latency · 15m", "Errors · newest first", "Spend per user"] {
            #expect(screen.text.contains("─ \(title)"))
        }
        #expect(!screen.text.contains("┌"), "narrow screens use section rules, not boxes")
        // A line that had to be shortened ends with an ellipsis after a whole word.
        for line in lines where line.hasSuffix("…") {
            let before = line.dropLast()
            #expect(before.last != " ")
        }
        // The cache folds into the figures line at this width.
        #expect(lines[1].contains("exact cache"))
    }

    @Test func theSelectedErrorStaysInSightAndEnterOpensIt() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        let failures = try JournalReader.open(path: path).recentFailures(limit: 40)
        #expect(failures.count > 12)
        // At 80×24 the errors section shows four rows; the ninth error is selected below them.
        for _ in 0..<8 { app.handle(.character("j")) }
        let screen = app.frame(width: 80, height: 24).text
        let marked = try #require(Self.line(screen, containing: "▶"))
        #expect(marked.contains(Self.clock(failures[8].startedAt)))
        #expect(!screen.contains(Self.clock(failures[0].startedAt) + " "), "the first rows scrolled away")
        app.handle(.enter)
        #expect(app.screen == .detail(failures[8].requestID))
    }

    @Test func keysDrillIntoAnErrorAndBack() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        let reader = try JournalReader.open(path: path)
        let first = try #require(try reader.recentFailures(limit: 1).first)
        #expect(app.handle(.enter))
        #expect(app.screen == .detail(first.requestID))
        let detail = app.frame(width: 120, height: 40).text
        #expect(detail.contains("Call \(first.requestID)"))
        #expect(detail.contains("─ Attempts") && detail.contains("─ Cost") && detail.contains("─ Request"))
        // Each attempt names the provider's own id of it, for its support.
        let attempts = try #require(try reader.call(requestID: first.requestID)).attempts
        #expect(!attempts.isEmpty)
        for attempt in attempts {
            #expect(detail.contains("provider id \(try #require(attempt.providerRequestID))"))
        }
        app.handle(.escape)
        #expect(app.screen == .overview)
        app.handle(.character("c"))
        #expect(app.screen == .calls)
        let newest = try #require(try reader.calls(matching: CallFilter(), before: nil, limit: 1).first)
        #expect(app.frame(width: 140, height: 30).text.contains(newest.requestID))
        app.handle(.character("q"))
        #expect(app.screen == .overview && !app.quitting)
        app.handle(.character("?"))
        let help = app.frame(width: 100, height: 30).text
        #expect(help.contains("Help · keys") && help.contains("open the selected call"))
        app.handle(.character("?"))
        app.handle(.character("3"))
        #expect(app.window == .hour)
        #expect(app.frame(width: 160, height: 48).text.contains("Latency · 1h"))
        app.handle(.character("t"))
        #expect(app.themeName == "light")
        app.handle(.character("q"))
        #expect(app.quitting)
    }

    @Test func aFrozenViewCountsTheCallsArrivingUnderneathAndFollowsAgain() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        app.handle(.character("c"))
        app.poll()
        let before = app.frame(width: 160, height: 30).text
        app.handle(.character("f"))
        // Seven calls arrive from another process.
        var options = SyntheticCalls.Options(start: now.addingTimeInterval(-5), span: .seconds(4))
        options.idPrefix = "req_late"
        try await Self.write(SyntheticCalls(count: 7, seed: 9, options: options).all, to: path)
        app.poll()
        #expect(app.arrivedWhileFrozen == 7)
        let frozen = app.frame(width: 160, height: 30).text
        #expect(frozen.contains("FROZEN · 7 new underneath"))
        #expect(!frozen.contains("req_late"), "the list stays as it was")
        #expect(frozen.split(separator: "\n")[4] == before.split(separator: "\n")[4])
        app.handle(.character("f"))
        let live = app.frame(width: 160, height: 30).text
        #expect(live.contains("req_late") && !live.contains("FROZEN"))
    }

    @Test func zShowsTheSelectedPaneOnTheWholeScreenWithEveryRow() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        let reader = try JournalReader.open(path: path)
        let users = try reader.aggregate(from: now.addingTimeInterval(-900), to: now, by: .user, details: false)
            .keys.filter { !$0.isEmpty }
        #expect(users.count == 6)
        app.handle(.tab)
        let stacked = app.frame(width: 80, height: 24).text
        #expect(users.filter { stacked.contains("\n\($0) ") }.count < 6, "80×24 shows some of the users")
        app.handle(.character("z"))
        #expect(app.zoomed)
        let zoomed = app.frame(width: 80, height: 24).text
        #expect(zoomed.contains("Spend per user") && zoomed.contains("z: back"))
        #expect(users.allSatisfy { zoomed.contains("│ \($0) ") }, "every user")
        #expect(!zoomed.contains("Errors · newest first"))
        // Tab moves on to headroom and latency, zoomed too; z again goes back.
        app.handle(.tab)
        app.handle(.tab)
        #expect(app.focus == .latency)
        let latency = app.frame(width: 80, height: 24).text
        #expect(latency.contains("┌ Latency"))
        // The columns fit inside the box: nothing is shortened.
        #expect(!latency.contains("…") && !zoomed.contains("…"))
        app.handle(.character("z"))
        #expect(!app.zoomed && app.frame(width: 80, height: 24).text.contains("Errors · newest first"))
    }

    @Test func upAndDownAtAPromptRecallWhatWasEnteredThere() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        for command in ["window 1h", "theme light"] {
            app.handle(.character(":"))
            for character in command { app.handle(.character(character)) }
            app.handle(.enter)
        }
        app.handle(.character(":"))
        for character in "wi" { app.handle(.character(character)) }
        app.handle(.up)
        #expect(app.prompt?.text == "theme light")
        app.handle(.up)
        app.handle(.up)
        #expect(app.prompt?.text == "window 1h", "the oldest stays")
        app.handle(.down)
        #expect(app.prompt?.text == "theme light")
        app.handle(.down)
        #expect(app.prompt?.text == "wi", "back to what was being typed")
        app.handle(.escape)
        // Each prompt has its own.
        app.handle(.character("/"))
        app.handle(.up)
        #expect(app.prompt?.text == "")
    }

    @Test func theDetailScrollsToItsEndAndBackAtOnce() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        #expect(app.handle(.enter))
        let top = app.frame(width: 100, height: 12).text
        app.handle(.character("G"))
        let end = app.frame(width: 100, height: 12).text
        #expect(end != top)
        // Past the end, one key up moves at once.
        for _ in 0..<50 { app.handle(.character("j")) }
        #expect(app.frame(width: 100, height: 12).text == end)
        app.handle(.character("k"))
        #expect(app.frame(width: 100, height: 12).text != end)
        app.handle(.character("g"))
        #expect(app.frame(width: 100, height: 12).text == top)
    }

    @Test func aSlashFilterNarrowsTheCallsAndABadOneSaysWhy() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        let reader = try JournalReader.open(path: path)
        let user = try #require(try reader.calls(matching: CallFilter(), before: nil, limit: 1).first?.userID)
        let expected = try reader.calls(matching: CallFilter(userID: user, status: "ok"), before: nil, limit: 500)
        app.handle(.character("/"))
        for character in "user:\(user) status:ok" { app.handle(.character(character)) }
        #expect(app.frame(width: 120, height: 30).text.contains("/user:\(user) status:ok▏"))
        app.handle(.enter)
        #expect(app.screen == .calls)
        let screen = app.frame(width: 160, height: 48).text
        #expect(screen.contains("Calls · filter user:\(user) status:ok"))
        #expect(screen.contains("\(expected.count) calls"))
        let rows = screen.split(separator: "\n").filter { $0.contains("req_syn") }
        #expect(!rows.isEmpty && rows.allSatisfy { $0.contains(" ok ") && $0.contains(user) })
        // `/` again edits the filter, ready for one more term after a space.
        app.handle(.character("/"))
        for character in "model:no-such-model" { app.handle(.character(character)) }
        #expect(app.frame(width: 120, height: 30).text.contains("/user:\(user) status:ok model:no-such-model▏"))
        app.handle(.enter)
        let empty = app.frame(width: 160, height: 48).text
        #expect(empty.contains("no call matches this filter") && !empty.contains("no calls in the journal"))
        app.applyFilter("colour:red")
        #expect(app.frame(width: 160, height: 48).text.contains("unknown filter 'colour:'"))
    }

    @Test func tabMovesToTheSpendPaneWhoseUserOpensTheirCalls() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        app.handle(.tab)
        #expect(app.focus == .spend)
        let reader = try JournalReader.open(path: path)
        let byUser = try reader.aggregate(from: now.addingTimeInterval(-900), to: now, by: .user, details: false)
        let ranked = byUser.filter { !$0.key.isEmpty }.sorted {
            ($0.value.costNanoUSD, $1.key) > ($1.value.costNanoUSD, $0.key)
        }
        app.handle(.character("j"))
        app.handle(.enter)
        #expect(app.screen == .calls)
        let screen = app.frame(width: 160, height: 48).text
        #expect(screen.contains("Calls · filter user:\(ranked[1].key)"), "the second biggest spender's calls")
        app.handle(.escape)
        for _ in 0..<3 { app.handle(.tab) }
        #expect(app.focus == .errors, "round the four panes")
    }

    @Test func theCallsListSortsBySlowestCostliestAndTokens() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        app.handle(.character("c"))
        app.handle(.character("s"))
        #expect(app.sort == .slowest)
        #expect(app.frame(width: 160, height: 48).text.contains("Calls · slowest first"))
        let reader = try JournalReader.open(path: path)
        let slowest = try reader.calls(matching: CallFilter(), before: nil, limit: 500).max {
            ($0.latencyMilliseconds ?? 0) < ($1.latencyMilliseconds ?? 0)
        }
        app.handle(.enter)
        #expect(app.screen == .detail(try #require(slowest?.requestID)))
        app.handle(.escape)
        app.handle(.character("s"))
        app.handle(.character("s"))
        app.handle(.character("s"))
        #expect(app.sort == .newest)
    }

    @Test func colonCommandsChangeTheWindowAndTheme() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        app.handle(.character(":"))
        for character in "window 6h" { app.handle(.character(character)) }
        app.handle(.enter)
        #expect(app.window == .sixHours)
        app.run(command: "theme mono")
        #expect(app.themeName == "mono")
        app.run(command: "frobnicate")
        #expect(app.frame(width: 120, height: 30).text.contains("unknown command 'frobnicate'"))
        app.run(command: "quit")
        #expect(app.quitting)
    }

    @Test func aSessionsCallsOpenInOrderAndAnIdIsCopied() async throws {
        let (path, now) = try Self.place()
        var records = Self.synthetic(12, seed: 4, over: 240, endingSecondsAgo: 60, now: now)
        for index in stride(from: 0, to: records.count, by: 3) {
            records[index].sessionID = "s-51"
            records[index].step = index / 3 + 1
            records[index].outcome = .error
            records[index].httpStatus = 502
            records[index].errorClass = "upstream_exhausted"
        }
        try await Self.write(records, to: path)
        let app = Self.app(path, now: now)
        let terminal = HeadlessTerminal(width: 120, height: 40)
        app.onCopy = { terminal.copy($0) }
        app.handle(.enter)
        guard case .detail(let requestID) = app.screen else {
            Issue.record("Enter did not open a call")
            return
        }
        app.handle(.character("y"))
        #expect(terminal.clipboard == requestID)
        app.handle(.character("s"))
        #expect(app.screen == .calls)
        let screen = app.frame(width: 160, height: 40).text
        #expect(screen.contains("Calls · session s-51, in order"))
        let sessionIDs = records.filter { $0.sessionID == "s-51" }.map(\.requestID)
        let positions = sessionIDs.compactMap { id in screen.range(of: id)?.lowerBound }
        #expect(positions.count == 4 && positions == positions.sorted(), "the session's four calls, step by step")
        app.handle(.escape)
        app.handle(.escape)
        #expect(app.screen == .overview)
    }

    @Test func theCachePaneShowsItsFiguresWhole() async throws {
        let (path, now) = try Self.place()
        let records = Self.synthetic(3, seed: 6, over: 10, endingSecondsAgo: 50, now: now).map { record in
            var record = record
            record.tokens = TokenCounts(input: 100, cachedInput: 50, cacheWrite1h: 20, output: 10)
            return record
        }
        try await Self.write(records, to: path)
        let app = Self.app(path, now: now)
        let screen = app.frame(width: 160, height: 48).text
        let row = try #require(Self.line(screen, containing: "│ prompt cache"))
        #expect(row.contains("33.3% of input "))
        // `:call` opens a call by the start of its id; its cost line tells an hour-long write apart.
        let id = try #require(
            try JournalReader.open(path: path).calls(matching: CallFilter(), limit: 1).first?.requestID
        )
        app.run(command: "call \(id.prefix(id.count - 2))")
        #expect(app.screen == .detail(id))
        #expect(app.frame(width: 160, height: 48).text.contains("cache write 20 (20 for 1h)"))
        app.run(command: "call req_nothing")
        #expect(app.frame(width: 160, height: 48).text.contains("no call req_nothing"))
    }

    @Test func anOpenCircuitSaysHowItOpenedAndWhenItProbes() async throws {
        let (path, now) = try Self.place()
        let records = Self.synthetic(3, seed: 5, over: 10, endingSecondsAgo: 50, now: now)
        func breaker(_ record: CallRecord, _ scope: String, secondsAgo: Double, _ detail: JSONObject) -> CallRecord {
            var record = record
            record.events = [
                EventRecord(
                    at: now.addingTimeInterval(-secondsAgo),
                    requestID: record.requestID,
                    kind: "breaker",
                    scope: scope,
                    detail: .object(detail)
                )
            ]
            return record
        }
        func opened(from: String, calls: Int, failures: Int, probeIn seconds: Double) -> JSONObject {
            [
                "from": .string(from), "to": "open", "calls": .integer(calls), "failures": .integer(failures),
                "probe_at": .string(RFC3339.format(now.addingTimeInterval(seconds))),
            ]
        }
        let first = breaker(
            records[0],
            "openai/gpt-4.1",
            secondsAgo: 1,
            opened(from: "closed", calls: 16, failures: 8, probeIn: 14)
        )
        let second = breaker(
            records[1],
            "anthropic/claude-sonnet-4-5",
            secondsAgo: 2,
            ["from": "open", "to": "half_open", "calls": 0, "failures": 0]
        )
        let probed = opened(from: "half_open", calls: 1, failures: 1, probeIn: 12)
        let third = breaker(records[2], "openai/gpt-4o-mini", secondsAgo: 3, probed)
        try await Self.write([first, second, third], to: path)
        let clock = Mutex(now)
        let app = ConsoleApp(
            journal: ConsoleJournal(path: path),
            configuration: SwitchboardConfiguration(),
            theme: .dark,
            ascii: false,
            window: .fifteenMinutes,
            now: { clock.withLock { $0 } }
        )
        app.reload()
        var screen = app.frame(width: 160, height: 48).text
        #expect(screen.contains("circuit OPEN (8 of 16 failed) · probe in 14s"))
        #expect(screen.contains("circuit HALF-OPEN · probing since"))
        #expect(screen.contains("circuit OPEN (its probe failed) · probe in 12s"))
        clock.withLock { $0 = now.addingTimeInterval(20) }
        app.reload()
        screen = app.frame(width: 160, height: 48).text
        #expect(screen.contains("circuit OPEN (8 of 16 failed) · probe due"))
    }

    @Test func aMissingJournalIsReportedAndThePanesComeBackWhenItExists() async throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/later.sqlite"
        let app = Self.app(path, now: Date())
        let screen = app.frame(width: 100, height: 30).text
        #expect(screen.contains("Journal unavailable"))
        #expect(screen.contains("still watching"))
        let calls = SyntheticCalls(
            count: 5,
            seed: 1,
            options: .init(start: Date().addingTimeInterval(-60), span: .seconds(30))
        )
        try await Self.write(calls.all, to: path)
        app.reload()
        #expect(!app.frame(width: 100, height: 30).text.contains("Journal unavailable"))
    }

    @Test func asciiModeDrawsWithoutUnicodeGlyphs() async throws {
        let (path, now) = try await Self.fixture()
        let screen = Self.app(path, now: now, ascii: true).frame(width: 160, height: 48).text
        #expect(!screen.contains("┌") && !screen.contains("█") && !screen.contains("▁"))
        #expect(screen.contains("+ Rate-limit headroom"))
    }

    @Test func aSecondIdenticalFrameWritesNothing() async throws {
        let (path, now) = try await Self.fixture()
        let app = Self.app(path, now: now)
        let terminal = HeadlessTerminal(width: 120, height: 40)
        terminal.draw(app.frame(width: 120, height: 40))
        let first = terminal.cellsWritten
        #expect(first == 120 * 40)
        terminal.draw(app.frame(width: 120, height: 40))
        #expect(terminal.cellsWritten == first)
        app.handle(.character("j"))
        terminal.draw(app.frame(width: 120, height: 40))
        #expect(terminal.cellsWritten > first && terminal.cellsWritten - first < 120 * 4)
    }
}

/// The cell buffer on its own.
@Suite struct CellBufferTests {
    @Test func wideCharactersTakeTwoCellsAndCombiningMarksNone() {
        var buffer = CellBuffer(width: 10, height: 1)
        let used = buffer.put("a日本e\u{301}", x: 0, y: 0)
        #expect(used == 6)
        #expect(buffer[1, 0].text == "日" && buffer[2, 0].text.isEmpty)
        #expect(buffer[5, 0].text == "e\u{301}")
        #expect(CellBuffer.columns(of: "🙂") == 2)
        // A wide character that would straddle the edge is not drawn.
        var narrow = CellBuffer(width: 2, height: 1)
        #expect(narrow.put("a日", x: 0, y: 0) == 1)
    }

    @Test func fittingCutsAtAWordBoundary() {
        #expect(CellBuffer.fit("rate limit exceeded for tokens", 16) == "rate limit…")
        #expect(CellBuffer.fit("short", 16) == "short")
        #expect(CellBuffer.fit("unbreakableword", 8) == "unbreak…")
        #expect(CellBuffer.pad("7", 3, right: true) == "  7")
    }
}

/// Themes: the shipped files, a user's file, mistakes with their line, colour mapping.
@Suite struct ThemeTests {
    @Test func everyShippedThemeLoadsWithEveryRole() throws {
        for name in Theme.names {
            let theme = try Theme.load(name)
            #expect(theme.name == name)
            for role in Role.allCases { #expect(theme.styles[role] != nil, "\(name) has no \(role.rawValue)") }
        }
        #expect(try Theme.load("mono").styles.values.allSatisfy { $0.foreground == nil })
        #expect(try Theme.load("default").style(.crit).foreground == 0xF7768E)
        #expect(try Theme.load("dark").name == "default")
    }

    @Test func aThemeFileWithAMistakeNamesItsLine() throws {
        #expect(throws: ThemeError.self) { try Theme.load("no-such-theme") }
        do {
            _ = try Theme.parse(
                "# comment\ncrit = \"#ff0000\" bold\nok = \"green\"\n",
                name: "mine",
                source: "mine.theme"
            )
            Issue.record("a colour name was accepted")
        } catch {
            #expect(error.message.hasPrefix("mine.theme:3:"))
        }
        let directory = try temporaryDirectory()
        let path = "\(directory)/mine.theme"
        try "crit = \"#ff0000\" bold underline\n".write(toFile: path, atomically: true, encoding: .utf8)
        let theme = try Theme.load(path)
        #expect(theme.style(.crit) == Theme.Style(foreground: 0xFF0000, bold: true, underline: true))
    }

    @Test func coloursMapToTheTerminalsPalette() {
        #expect(Theme.xterm256(0xFF0000) == 196)
        #expect(Theme.xterm256(0x00FF00) == 46)
        #expect(Theme.xterm256(0x808080) == 244)
        #expect(Theme.basic(0xFF0000) == 1 && Theme.basic(0x0000FF) == 4 && Theme.basic(0x000000) == 7)
    }

    @Test func switchingThemesTellsTheTerminal() throws {
        let app = ConsoleApp(
            journal: ConsoleJournal(path: "/nonexistent/journal.sqlite"),
            configuration: SwitchboardConfiguration(),
            theme: try Theme.load("default"),
            ascii: false
        )
        let terminal = HeadlessTerminal(width: 80, height: 24)
        app.onTheme = { terminal.apply($0) }
        app.handle(.character("t"))
        #expect(terminal.themeName == "light")
        app.run(command: "theme amber")
        #expect(terminal.themeName == "amber")
    }
}
