import Foundation
import GRDB
import SwitchboardJournal
import SwitchboardTesting
import Testing

struct JournalRollupTests {
    /// A journal with `count` synthetic calls spread over `span`, and the reader on it.
    func synthetic(count: Int, span: Duration, seed: UInt64 = 3, bodies: Bool = false) async throws -> (
        Journal, JournalReader
    ) {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        var options = SyntheticCalls.Options(start: fixedStart, span: span)
        options.bodies = bodies
        var calls = SyntheticCalls(count: count, seed: seed, options: options)
        var records: [CallRecord] = []
        while let call = calls.next() { records.append(call) }
        let all = records
        try await withWriter(journal) { writer in
            for call in all { await writer.submit(.call(call)) }
        }
        return (journal, try JournalReader.open(path: journal.path))
    }

    @Test func rollupsAtBothResolutionsEqualTheRawRows() async throws {
        let (journal, _) = try await synthetic(count: 3000, span: .seconds(3 * 3600))
        try await sql(journal.path).read { db throws in
            let raw = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), sum(input_tokens), sum(output_tokens), sum(coalesce(cost_nano_usd, 0)), sum(saved_nano_usd),
                        sum(outcome = 'ok'), sum(outcome = 'cached'), sum(attempts > 1), sum(cache = 'hit') FROM calls
                    """
            )!
            for table in [
                "rollups_minute", "rollups_hour", "rollups_minute_fleet", "rollups_hour_fleet", "rollups_minute_user",
                "rollups_hour_user",
            ] {
                let rolled = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT sum(calls), sum(input_tokens), sum(output_tokens), sum(cost_nano_usd), sum(saved_nano_usd), sum(ok), sum(cached), sum(retried), sum(cache_hits) FROM \(table)"
                )!
                for column in 0..<9 {
                    #expect(raw[column] as Int64 == rolled[column] as Int64, "\(table) column \(column)")
                }
            }
            let perUser = try Row.fetchAll(
                db,
                sql: "SELECT user_id, count(*) FROM calls GROUP BY user_id ORDER BY user_id"
            )
            let rolledPerUser = try Row.fetchAll(
                db,
                sql: "SELECT user_id, sum(calls) FROM rollups_hour GROUP BY user_id ORDER BY user_id"
            )
            #expect(
                perUser.map { [$0[0] as String, String($0[1] as Int)] }
                    == rolledPerUser.map { [$0[0] as String, String($0[1] as Int)] }
            )
        }
    }

    /// Nearest-rank quantile of a sorted list.
    func exactQuantile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
    }

    @Test func percentilesFromTheHistogramsAreWithinOnePercentOfTheRawRows() async throws {
        let (journal, reader) = try await synthetic(count: 5000, span: .seconds(2 * 3600))
        let latencies = try await sql(journal.path).read { db throws in
            try Double.fetchAll(
                db,
                sql: "SELECT latency_ms FROM calls WHERE latency_ms IS NOT NULL ORDER BY latency_ms"
            )
        }
        let totals = try reader.aggregate(from: fixedStart, to: fixedStart.addingTimeInterval(3 * 3600))
        let histogram = try #require(totals[""]).latency
        #expect(histogram.count == UInt64(latencies.count))
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = exactQuantile(latencies, q)
            let estimate = try #require(histogram.quantile(q))
            #expect(
                abs(estimate - exact) / exact <= LogHistogram.relativeAccuracy + 1e-9,
                "q\(q): \(estimate) vs \(exact)"
            )
        }
        let perModel = try reader.aggregate(from: fixedStart, to: fixedStart.addingTimeInterval(3 * 3600), by: .model)
        #expect(perModel.values.reduce(0) { $0 + $1.calls } == 5000)
        let perUser = try reader.aggregate(from: fixedStart, to: fixedStart.addingTimeInterval(3 * 3600), by: .user)
        #expect(perUser.values.reduce(0) { $0 + $1.calls } == 5000)
        #expect(perUser.values.reduce(UInt64(0)) { $0 + $1.latency.count } == UInt64(latencies.count))
        #expect(Set(perModel.keys) == Set(SyntheticCalls.models.map(\.model)))
    }

    @Test(arguments: [(25, 30.0), (70, 140.0), (90, 240.0), (0, 300.0)])
    func windowsCombineHourAndMinuteRollupsExactly(startMinute: Int, lengthMinutes: Double) async throws {
        let (journal, reader) = try await synthetic(count: 2000, span: .seconds(5 * 3600), seed: 9)
        let from = fixedStart.addingTimeInterval(Double(startMinute) * 60)
        let to = from.addingTimeInterval(lengthMinutes * 60)
        // Minute-granular: a call counts when the minute it started in began inside the window.
        let expected = try await sql(journal.path).read { db throws in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM calls WHERE started_at - started_at % 60000 >= ? AND started_at - started_at % 60000 < ?",
                arguments: [Int64(from.timeIntervalSince1970 / 60) * 60_000, Int64(to.timeIntervalSince1970 * 1000)]
            )
        }
        #expect(try reader.aggregate(from: from, to: to)[""]?.calls == expected)
    }

    @Test func longWindowsStartAtTheHourAndTheCurrentHourComesFromItsHourRow() async throws {
        let (journal, reader) = try await synthetic(count: 3000, span: .seconds(8 * 3600), seed: 11)
        func count(from: Int64, to: Int64) async throws -> Int? {
            try await sql(journal.path).read { db throws in
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM calls WHERE started_at - started_at % 60000 >= ? AND started_at - started_at % 60000 < ?",
                    arguments: [from, to]
                )
            }
        }
        let base = Int64(fixedStart.timeIntervalSince1970 * 1000)
        // 7 hours from minute 30: starts at the hour instead.
        let from = fixedStart.addingTimeInterval(30 * 60)
        let to = from.addingTimeInterval(7 * 3600)
        #expect(
            try reader.aggregate(from: from, to: to)[""]?.calls
                == (try await count(from: base, to: Int64(to.timeIntervalSince1970 * 1000)))
        )
        // A window ending after the last call reads the last hour from its hour row: same total.
        let everything = try reader.aggregate(from: fixedStart, to: fixedStart.addingTimeInterval(9 * 3600 + 1234))
        #expect(everything[""]?.calls == 3000)
    }

    @Test func seriesSplitAWindowIntoSlots() async throws {
        let (_, reader) = try await synthetic(count: 1200, span: .seconds(3600))
        let series = try reader.series(from: fixedStart, to: fixedStart.addingTimeInterval(3600), slots: 12)
        let slots = try #require(series[""])
        #expect(slots.count == 12)
        #expect(slots.reduce(0) { $0 + $1.calls } == 1200)
        #expect(slots.allSatisfy { $0.calls == 100 })
        // The cost-only series agrees slot by slot, per user too.
        let end = fixedStart.addingTimeInterval(3600)
        #expect(try reader.costSeries(from: fixedStart, to: end, slots: 12)[""] == slots.map(\.costNanoUSD))
        let byUser = try reader.series(from: fixedStart, to: end, slots: 12, by: .user)
        let costByUser = try reader.costSeries(from: fixedStart, to: end, slots: 12, by: .user)
        #expect(costByUser.keys.sorted() == byUser.keys.sorted())
        for (user, values) in byUser { #expect(costByUser[user] == values.map(\.costNanoUSD)) }
        // The latency-only series too, per model: the same histograms, bucket for bucket.
        let byModel = try reader.series(from: fixedStart, to: end, slots: 12, by: .model)
        let latencyByModel = try reader.latencySeries(from: fixedStart, to: end, slots: 12, by: .model)
        #expect(latencyByModel.keys.sorted() == byModel.keys.sorted() && !byModel.isEmpty)
        for (model, values) in byModel {
            #expect(latencyByModel[model] == values.map(\.latency))
            #expect(values.contains { $0.latency.quantile(0.99) != nil })
        }
    }
}

struct JournalTailTests {
    @Test func readersSeeOtherConnectionsCommitsThroughDataVersion() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let reader = try JournalReader.open(path: journal.path)
        let before = try reader.dataVersion()
        #expect(try reader.dataVersion() == before, "nothing committed, nothing changed")
        try await withWriter(journal) { writer in
            for index in 0..<3 { try await writer.write(call("req_\(index)", at: fixedStart)) }
        }
        #expect(try reader.dataVersion() != before)
        let fresh = try reader.calls(after: 0)
        #expect(fresh.map(\.requestID) == ["req_0", "req_1", "req_2"])
        #expect(try reader.calls(after: fresh[1].id).map(\.requestID) == ["req_2"])
    }

    @Test func filtersSelectByUserStatusAndText() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        var refund = call("req_refund", at: fixedStart, user: "carol")
        refund.requestBody = #"{"messages":[{"role":"user","content":"How long is the refund window?"}]}"#
        refund.searchText = "How long is the refund window?"
        var failed = call("req_fail", at: fixedStart, outcome: .rateLimited, user: "dave")
        failed.httpStatus = 429
        let (first, second) = (refund, failed)
        try await withWriter(journal) { writer in
            try await writer.write(first)
            try await writer.write(second)
            try await writer.write(call("req_plain", at: fixedStart, user: "carol"))
        }
        let reader = try JournalReader.open(path: journal.path)
        #expect(
            try reader.calls(matching: CallFilter(userID: "carol")).map(\.requestID) == ["req_plain", "req_refund"]
        )
        #expect(try reader.calls(matching: CallFilter(status: "429")).map(\.requestID) == ["req_fail"])
        #expect(try reader.calls(matching: CallFilter(status: "4xx")).map(\.requestID) == ["req_fail"])
        #expect(try reader.calls(matching: CallFilter(status: "errors")).map(\.requestID) == ["req_fail"])
        #expect(try reader.calls(matching: CallFilter(text: "refund window")).map(\.requestID) == ["req_refund"])
        #expect(try reader.calls(matching: CallFilter(text: "\"quoted\" nonsense")).isEmpty)
        #expect(try reader.calls(matching: CallFilter(text: "refund-window?")).map(\.requestID) == ["req_refund"])
        #expect(
            try reader.calls(matching: CallFilter(text: "NEAR(refund OR *")).isEmpty,
            "query syntax must not reach FTS5"
        )
        #expect(try reader.recentFailures().map(\.requestID) == ["req_fail"])
    }

    @Test func sessionsListTheirStepsInOrder() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        try await withWriter(journal) { writer in
            for step in [2, 1, 3] {
                var record = call("req_step\(step)", at: fixedStart)
                record.sessionID = "s-1"
                record.step = step
                try await writer.write(record)
            }
        }
        #expect(try JournalReader.open(path: journal.path).session("s-1").map(\.step) == [1, 2, 3])
    }
}

struct JournalRetentionTests {
    @Test func pruningDeletesOldCallsKeepsRollupsAndTheIndexConsistent() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let old = fixedStart.addingTimeInterval(-40 * 86_400)
        try await withWriter(journal) { writer in
            for index in 0..<50 {
                var record = call("req_old_\(index)", at: old)
                record.searchText = "ancient refund question \(index)"
                record.attempts = [AttemptRecord(number: 1, provider: "openai", model: "gpt-4o-mini", startedAt: old)]
                record.events = [EventRecord(at: old, kind: "pacing_wait", scope: "openai/gpt-4o-mini")]
                try await writer.write(record)
            }
            for index in 0..<10 {
                var record = call("req_new_\(index)", at: fixedStart)
                record.searchText = "recent refund question \(index)"
                try await writer.write(record)
            }
        }
        let rollupsBefore = try await sql(journal.path).read { db in
            try Int.fetchOne(db, sql: "SELECT sum(calls) FROM rollups_hour")
        }
        let deleted = try await journal.prune(before: fixedStart.addingTimeInterval(-30 * 86_400), chunk: 7)
        #expect(deleted == 50)
        let reader = try JournalReader.open(path: journal.path)
        #expect(try reader.callCount() == 10)
        #expect(try reader.calls(matching: CallFilter(text: "refund")).count == 10)
        #expect(try reader.calls(matching: CallFilter(text: "ancient")).isEmpty)
        try await sql(journal.path).read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts") == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM events") == 0)
            #expect(
                try Int.fetchOne(db, sql: "SELECT count(*) FROM calls_fts") == 10,
                "search entries outlived their calls"
            )
            #expect(try Int.fetchOne(db, sql: "SELECT sum(calls) FROM rollups_hour") == rollupsBefore)
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
        }
        try await DatabaseQueue(path: journal.path).write { db in
            try db.execute(sql: "INSERT INTO calls_fts(calls_fts) VALUES ('integrity-check')")
        }
    }
}

struct JournalPruneTests {
    @Test func pruningEverythingKeepsTheNewestSoRowIDsNeverGoBackAndNewCallsAreWritten() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let reader = try JournalReader.open(path: journal.path)
        try await withWriter(journal) { writer in
            for index in 0..<20 {
                var record = call("req_\(index)", at: fixedStart)
                record.searchText = "refund question \(index)"
                try await writer.write(record)
            }
        }
        let watermark = try reader.lastCallID()
        #expect(try await journal.prune(before: fixedStart.addingTimeInterval(3_600)) == 19)
        try await withWriter(journal) { writer in
            var record = call("req_after", at: fixedStart)
            record.searchText = "refund after the prune"
            try await writer.write(record)
        }
        // A tailer at the old watermark sees the new call; search finds it and nothing deleted.
        #expect(try reader.calls(after: watermark).map(\.requestID) == ["req_after"])
        #expect(
            Set(try reader.calls(matching: CallFilter(text: "refund")).map(\.requestID)) == ["req_19", "req_after"]
        )
    }
}

struct LogHistogramTests {
    @Test func encodingRoundTripsAndMergingAddsCounts() throws {
        var a = LogHistogram()
        var b = LogHistogram()
        for value in [0.0, 0.5, 1, 10, 100, 1000, 12_345.6] { a.record(value) }
        for value in [3.0, 3.0, 90_000] { b.record(value) }
        #expect(LogHistogram(encoded: a.encoded) == a)
        var merged = a
        merged.merge(b)
        #expect(merged.count == 10)
        #expect(LogHistogram(encoded: merged.encoded) == merged)
        #expect(LogHistogram(encoded: [2, 0]) == nil)
        #expect(LogHistogram(encoded: Array(merged.encoded.dropLast())) == nil)
    }

    @Test(arguments: [0.001, 0.37, 1, 42, 999.9, 1e6, 3.6e6])
    func everyValueComesBackWithinOnePercent(value: Double) throws {
        var histogram = LogHistogram()
        histogram.record(value)
        let estimate = try #require(histogram.quantile(0.5))
        if value <= 0.001 {
            #expect(estimate == 0)
        } else {
            #expect(abs(estimate - value) / value <= 0.01 + 1e-12)
        }
    }

    @Test func emptyHistogramsHaveNoQuantiles() {
        #expect(LogHistogram().quantile(0.99) == nil)
    }
}
