import Foundation
import SwitchboardConsole
import SwitchboardCore
import SwitchboardJournal
import SwitchboardTesting
import Testing

/// The calls list kept between refreshes: each refresh reads only the rows committed since, and
/// still shows what a whole read would.
@Suite struct CallsListTests {
    /// The request ids of the calls screen's rows, top first.
    static func listed(_ app: ConsoleApp) -> [String] {
        app.frame(width: 160, height: 48).text.split(separator: "\n").compactMap { line in
            line.firstMatch(of: #/req_[A-Za-z0-9_]+/#).map { String($0.output) }
        }
    }

    @Test func newCallsJoinTheTopAndAFilterOrAFloodReadsTheListAgain() async throws {
        let (path, now) = try await ConsoleScreenTests.fixture()
        let app = ConsoleScreenTests.app(path, now: now)
        app.handle(.character("c"))
        let before = Self.listed(app)
        #expect(before.count > 20)

        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            var generator = SyntheticCalls(count: 1_000, seed: 9, options: .init(start: now, span: .seconds(1)))
            func write(_ id: String, user: String) async throws {
                let next = generator.next()
                var call = try #require(next)
                call.requestID = id
                call.userID = user
                try await writer.write(call)
            }

            try await write("req_new_1", user: "zed")
            try await write("req_new_2", user: "yan")
            try await write("req_new_3", user: "zed")
            app.reload()
            #expect(Self.listed(app).prefix(4) == ["req_new_3", "req_new_2", "req_new_1", before[0]])

            for character in "/user:zed\n" { app.handle(character == "\n" ? .enter : .character(character)) }
            #expect(Self.listed(app) == ["req_new_3", "req_new_1"], "a new filter reads its list")
            try await write("req_new_4", user: "yan")
            try await write("req_new_5", user: "zed")
            app.reload()
            #expect(Self.listed(app) == ["req_new_5", "req_new_3", "req_new_1"])

            // More than a list's worth at once: the list is the newest of them, read again.
            for number in 6...606 { try await write("req_new_\(number)", user: "zed") }
            app.reload()
            let flooded = Self.listed(app)
            #expect(flooded.first == "req_new_606" && flooded.dropFirst().first == "req_new_605")
            #expect(!flooded.contains("req_new_5"))

            writer.finish()
            try await group.waitForAll()
        }
        let reader = try JournalReader.open(path: path)
        let whole = try reader.calls(matching: CallFilter(userID: "zed"), before: nil, limit: 500).map(\.requestID)
        #expect(Array(whole.prefix(Self.listed(app).count)) == Self.listed(app), "as a whole read shows it")
    }
    /// While no calls screen is open, refreshes leave the list alone (the overview does not show
    /// it); opening one reads what arrived meanwhile.
    @Test func theListIsReadWhenTheCallsScreenOpens() async throws {
        let (path, now) = try await ConsoleScreenTests.fixture()
        let app = ConsoleScreenTests.app(path, now: now)
        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            var generator = SyntheticCalls(count: 10, seed: 3, options: .init(start: now, span: .seconds(1)))
            let next = generator.next()
            var call = try #require(next)
            call.requestID = "req_while_away"
            try await writer.write(call)
            writer.finish()
            try await group.waitForAll()
        }
        app.reload()
        app.handle(.character("c"))
        #expect(Self.listed(app).first == "req_while_away")
        app.handle(.escape)
        #expect(app.screen == .overview)
    }
}
