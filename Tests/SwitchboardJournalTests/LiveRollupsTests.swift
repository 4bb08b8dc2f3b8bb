import Foundation
import SwitchboardJournal
import Testing

/// A live window's figures and the budget period's spend kept up to date from the tail: always
/// equal to reading them afresh, while reading from the rollups only the minutes that entered the
/// window.
@Suite struct LiveRollupsTests {
    /// A UTC midnight.
    static let start = Date(timeIntervalSince1970: 1_795_910_400)

    static func at(_ minutes: Double) -> Date { start.addingTimeInterval(minutes * 60) }

    /// A call started at `minute`, its figures drawn from `number` so that models, users, errors,
    /// latencies and times to first token all vary.
    static func call(_ number: Int, minute: Double) -> CallRecord {
        let failed = number % 5 == 0
        return CallRecord(
            requestID: "req_window\(number)",
            startedAt: at(minute),
            endedAt: at(minute).addingTimeInterval(0.2),
            origin: .gateway,
            outcome: failed ? .error : .ok,
            stream: number % 2 == 0,
            userID: ["alice", "bob", "carol", "dave"][number % 4],
            provider: "openai",
            modelRequested: ["gpt-4o-mini", "gpt-4o", "o3"][number % 3],
            modelUsed: ["gpt-4o-mini", "gpt-4o", "o3"][number % 3],
            httpStatus: failed ? 503 : 200,
            errorClass: failed ? (number % 2 == 0 ? "server_error" : "timeout") : nil,
            // Whole milliseconds: their sums are exact in any order.
            latencyMilliseconds: Double(40 + number * 37 % 900),
            timeToFirstTokenMilliseconds: number % 2 == 0 ? Double(10 + number * 13 % 200) : nil,
            tokens: TokenCounts(input: 100 + number, output: 20 + number % 50),
            costNanoUSD: Int64(1_000 + number * 17)
        )
    }

    /// Reads `[from, to)` and the period from `periodStart`: equal to reading them afresh, with
    /// `reads` rollup ranges read.
    static func check(
        _ live: inout LiveRollups,
        _ reader: JournalReader,
        from: Double,
        to: Double,
        periodStart: Double = -120,
        reads: Int,
        _ note: Comment
    ) throws {
        let before = live.reads
        let (low, high) = (Self.at(from), Self.at(to))
        let kept = try live.read(reader, from: low, to: high, periodStart: Self.at(periodStart))
        #expect(kept.byModel == (try reader.aggregate(from: low, to: high, by: .model)), note)
        #expect(kept.latencyByModel == (try reader.latencySeries(from: low, to: high, slots: 12, by: .model)), note)
        #expect(kept.byUser == (try reader.aggregate(from: low, to: high, by: .user, details: false)), note)
        #expect(kept.costByUser == (try reader.costSeries(from: low, to: high, slots: 12, by: .user)), note)
        let period = try reader.aggregate(from: Self.at(periodStart), to: high, by: .user, details: false)
        #expect(kept.periodSpend == period.mapValues(\.costNanoUSD), note)
        #expect(live.reads - before == reads, note)
    }

    @Test func theTailIsCountedIntoTheKeptMinutesAndPeriod() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        try await withWriter(journal) { writer in
            let reader = try JournalReader.open(path: journal.path)
            var live = LiveRollups(slots: 12, tailLimit: 50)
            var number = 0
            func write(minutes: [Double]) async throws {
                for minute in minutes {
                    number += 1
                    try await writer.write(Self.call(number, minute: minute))
                }
            }

            try await write(minutes: (0..<60).map { Double($0) / 4 } + [-30, -200])
            try Self.check(&live, reader, from: 0.5, to: 15.5, reads: 2, "the first read: the window and the period")
            #expect(
                try live.read(reader, from: Self.at(0.5), to: Self.at(15.5), periodStart: Self.at(-120)).byModel.count
                    == 3
            )
            try Self.check(&live, reader, from: 0.5, to: 15.5, reads: 0, "nothing new: nothing read")
            try await write(minutes: [15.2, 15.3])
            try Self.check(&live, reader, from: 0.6, to: 15.6, reads: 0, "calls in the current minute: from the tail")
            try await write(minutes: [6.5, -2, -150])
            try Self.check(
                &live,
                reader,
                from: 0.7,
                to: 15.7,
                reads: 0,
                "late calls, in the window, the period, neither"
            )
            try await write(minutes: [16.1, 17.9, 18.2])
            try Self.check(&live, reader, from: 4.5, to: 19.5, reads: 1, "minutes gone by: the new ones read")
            try Self.check(&live, reader, from: -40.5, to: 19.5, reads: 1, "a wider window: read from its new start")
            try Self.check(&live, reader, from: -340.5, to: 19.5, reads: 1, "six hours: read afresh from hour rows")
            try await write(minutes: [19.1])
            try Self.check(&live, reader, from: -340.4, to: 19.6, reads: 1, "six hours: the period still from the tail")
            try Self.check(&live, reader, from: 4.6, to: 19.6, reads: 1, "back to a short window: read again")
            try Self.check(
                &live,
                reader,
                from: 4.6,
                to: 19.6,
                periodStart: 0,
                reads: 1,
                "a new period: read from its start"
            )
            try await write(minutes: (0..<51).map { 19 + Double($0) / 60 })
            try Self.check(
                &live,
                reader,
                from: 4.7,
                to: 19.95,
                periodStart: 0,
                reads: 2,
                "past the tail limit: all afresh"
            )
        }
    }

    /// Users who leave the window are forgotten (renumbered away) without changing any figure.
    @Test func usersWhoLeaveTheWindowAreForgotten() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        try await withWriter(journal) { writer in
            let reader = try JournalReader.open(path: journal.path)
            var live = LiveRollups(slots: 12)
            func write(_ number: Int, user: String, minute: Double) async throws {
                var call = Self.call(number, minute: minute)
                call.userID = user
                try await writer.write(call)
            }
            for number in 0..<100 { try await write(number, user: "early\(number)", minute: Double(number) / 25) }
            for number in 0..<10 {
                try await write(100 + number, user: "late\(number)", minute: 10 + Double(number) / 2)
            }
            try Self.check(&live, reader, from: 0.5, to: 15.5, reads: 2, "a hundred and ten users")
            try Self.check(&live, reader, from: 9.5, to: 15.9, reads: 0, "the early ones gone")
            try await write(200, user: "late3", minute: 15.95)
            try await write(201, user: "newcomer", minute: 15.96)
            try Self.check(&live, reader, from: 9.6, to: 15.99, reads: 0, "renumbered, then counted from the tail")
            #expect(
                try live.read(reader, from: Self.at(9.6), to: Self.at(15.99), periodStart: Self.at(-120)).byUser.count
                    == 11
            )
        }
    }

    @Test func anotherJournalAtTheSamePathIsReadAfresh() async throws {
        let directory = try temporaryDirectory()
        var live = LiveRollups(slots: 12)
        let first = try Journal.open(journalConfiguration(directory, name: "first.sqlite"))
        try await withWriter(first) { writer in
            for number in 1...30 { try await writer.write(Self.call(number, minute: Double(number) / 3)) }
        }
        let second = try Journal.open(journalConfiguration(directory, name: "second.sqlite"))
        try await withWriter(second) { writer in
            for number in 1...3 { try await writer.write(Self.call(number + 100, minute: 4)) }
        }
        _ = try live.read(
            try JournalReader.open(path: first.path),
            from: Self.at(0),
            to: Self.at(12),
            periodStart: Self.start
        )
        let reader = try JournalReader.open(path: second.path)
        try Self.check(&live, reader, from: 0, to: 12, periodStart: 0, reads: 2, "fewer calls than counted: all afresh")
        let kept = try live.read(reader, from: Self.at(0), to: Self.at(12), periodStart: Self.start)
        #expect(kept.byUser.values.map(\.calls).reduce(0, +) == 3)
        let expected: Int64 = 3 * 1_000 + 17 * (101 + 102 + 103)
        #expect(kept.periodSpend.values.reduce(0, +) == expected)
    }
}
