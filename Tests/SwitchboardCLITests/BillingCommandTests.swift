import Foundation
import Logging
import SwitchboardJournal
import SwitchboardTesting
import SwitchboardWire
import Testing

/// `switchboard billing`: the report reconciles exactly with the call rows of the period.
struct BillingCommandTests {
    /// 3,000 synthetic calls from 2026-10-31 22:00 to 2026-11-01 04:00 UTC: across a month's end.
    func journalAcrossAMonthEnd() async throws -> String {
        let path = "\(try temporaryDirectory())/journal.sqlite"
        let journal = try Journal.open(JournalConfiguration(path: path))
        var logger = Logger(label: "test.billing")
        logger.logLevel = .critical
        let writer = JournalWriter(journal: journal, logger: logger)
        var options = SyntheticCalls.Options(
            start: Date(timeIntervalSince1970: 1_793_484_000),
            span: .seconds(6 * 3600)
        )
        options.users = 12
        var calls = SyntheticCalls(count: 3_000, seed: 5, options: options)
        var records: [CallRecord] = []
        while let call = calls.next() { records.append(call) }
        let batch = records
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            for record in batch { await writer.submit(.call(record)) }
            writer.finish()
            try await group.waitForAll()
        }
        return path
    }

    @Test func theReportForAMonthReconcilesWithTheCallRows() async throws {
        let path = try await journalAcrossAMonthEnd()
        let november = ISO8601DateFormatter().date(from: "2026-11-01T00:00:00Z")!
        let december = ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z")!
        let rows = try JournalReader.open(path: path).calls(
            matching: CallFilter(since: november, until: december),
            after: 0,
            limit: 10_000
        )
        #expect(rows.count > 1_000 && rows.count < 3_000, "the period cuts the journal")

        let result = try await switchboard([
            "billing", "--journal", path, "--period", "2026-11", "--by", "user", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.errors)")
        let report = try JSONValue.parse(result.output)
        #expect(report["from"]?.stringValue == "2026-11-01T00:00:00Z")
        let lines = try #require(report["lines"]?.arrayValue)
        var expected: [String: (calls: Int, cost: Int64, unpriced: Int, output: Int)] = [:]
        for row in rows {
            var line = expected[row.userID ?? "", default: (0, 0, 0, 0)]
            line.calls += 1
            line.cost += row.costNanoUSD ?? 0
            line.unpriced += row.costNanoUSD == nil ? 1 : 0
            line.output += row.tokens.output
            expected[row.userID ?? ""] = line
        }
        #expect(lines.count == expected.count)
        for line in lines {
            let user = line["user"]?.stringValue ?? ""
            let want = try #require(expected[user])
            #expect(line["calls"]?.intValue == want.calls)
            #expect(Int64(line["cost_nano_usd"]?.intValue ?? -1) == want.cost)
            #expect(line["unpriced_calls"]?.intValue == want.unpriced)
            #expect(line["output_tokens"]?.intValue == want.output)
        }
        // Largest spend first.
        let costs = lines.compactMap { $0["cost_nano_usd"]?.intValue }
        #expect(costs == costs.sorted(by: >))

        // The total, as a table and as exact CSV.
        let total = rows.compactMap(\.costNanoUSD).reduce(0, +)
        let csv = try await switchboard(["billing", "--journal", path, "--period", "2026-11", "--format", "csv"])
        let fields = try #require(csv.output.split(separator: "\n").last?.split(separator: ","))
        #expect(fields[0] == "2026-11" && fields[1] == "\(rows.count)")
        #expect(fields[2] == String(format: "%d.%09d", total / 1_000_000_000, total % 1_000_000_000))
        let table = try await switchboard(["billing", "--journal", path, "--period", "2026-11", "--by", "model"])
        #expect(table.output.hasPrefix("billing 2026-11 (UTC, 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z)"))
        #expect(table.output.contains("gpt-4o-mini"))
    }

    @Test func aBadPeriodOrDimensionIsAClearError() async throws {
        let path = try await journalAcrossAMonthEnd()
        let period = try await switchboard(["billing", "--journal", path, "--period", "November"])
        #expect(period.status != 0)
        #expect(period.errors.contains("expected a month (2026-11), an ISO week (2026-W48) or a day (2026-11-29)"))
        let dimension = try await switchboard(["billing", "--journal", path, "--by", "planet"])
        #expect(dimension.errors.contains("expected user, tenant, key or model"))
        let week = try await switchboard(["billing", "--journal", path, "--period", "2026-W44", "--format", "json"])
        let report = try JSONValue.parse(week.output)
        #expect(report["from"]?.stringValue == "2026-10-26T00:00:00Z")
        #expect(report["to"]?.stringValue == "2026-11-02T00:00:00Z")
        #expect(report["lines"]?[0]?["calls"]?.intValue == 3_000)
    }
}
