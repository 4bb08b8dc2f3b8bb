import Foundation
import SwitchboardConsole
import SwitchboardJournal
import SwitchboardTesting
import Testing

/// The budget period's spend kept between refreshes: always equal to reading the whole period,
/// while reading only the current hour in the usual case.
@Suite struct PeriodSpendTests {
    /// A UTC midnight: a daily period's start.
    static let day = Date(timeIntervalSince1970: 1_795_910_400)

    static func at(_ minutes: Double) -> Date { day.addingTimeInterval(minutes * 60) }

    static func call(_ number: Int, user: String, minute: Double, cost: Int64) -> CallRecord {
        CallRecord(
            requestID: "req_period\(number)",
            startedAt: at(minute),
            endedAt: at(minute).addingTimeInterval(0.5),
            origin: .gateway,
            outcome: .ok,
            userID: user,
            provider: "openai",
            modelRequested: "gpt-4o-mini",
            modelUsed: "gpt-4o-mini",
            httpStatus: 200,
            latencyMilliseconds: 500,
            tokens: TokenCounts(input: 10, output: 5),
            costNanoUSD: cost
        )
    }

    @Test func closedHoursAreReadOnceAndACallLandingInOneIsReadAgain() async throws {
        let path = "\(try temporaryDirectory())/journal.sqlite"
        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            let reader = try JournalReader.open(path: path)
            var spend = PeriodSpend()
            var number = 0
            func write(_ user: String, minute: Double, cost: Int64) async throws {
                number += 1
                try await writer.write(Self.call(number, user: user, minute: minute, cost: cost))
            }
            /// Reads at `minute`: equal to the whole period read at once, with `reads` range reads.
            func check(_ minute: Double, from start: Date = Self.day, reads: Int, _ note: Comment) throws {
                let before = spend.reads
                let kept = try spend.read(reader, from: start, to: Self.at(minute))
                let whole = try reader.aggregate(from: start, to: Self.at(minute), by: .user, details: false)
                #expect(kept == whole.mapValues(\.costNanoUSD), note)
                #expect(spend.reads - before == reads, note)
            }

            try await write("alice", minute: 10, cost: 1_000)
            try await write("bob", minute: 70, cost: 2_000)
            try await write("alice", minute: 130, cost: 4_000)
            try check(135, reads: 3, "the first read: the settled hours, the last closed hour, the current one")
            try await write("carol", minute: 136, cost: 8_000)
            try check(140, reads: 1, "a call in the current hour: the current hour alone")
            try check(141, reads: 1, "nothing new: the current hour alone")
            try await write("bob", minute: 119, cost: 16_000)
            try check(142, reads: 2, "a call that started in the last closed hour: that hour again")
            try await write("alice", minute: 5, cost: 32_000)
            try check(143, reads: 3, "a call that started in a settled hour: everything again")
            try await write("dave", minute: 200, cost: 64_000)
            try check(250, reads: 3, "two hours closed: the one between, the new last hour, the current one")
            try await write("erin", minute: 1_450, cost: 128_000)
            try check(1_470, from: Self.at(1_440), reads: 1, "a new period: read from its start")
            #expect(try spend.read(reader, from: Self.at(1_440), to: Self.at(1_470)) == ["erin": 128_000])

            writer.finish()
            try await group.waitForAll()
        }
    }
}
