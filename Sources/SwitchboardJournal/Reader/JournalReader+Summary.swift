import Foundation
import GRDB

/// What happened in a stretch of time, in a few numbers: what `switchboard demo` prints at its end.
public struct JournalSummary: Sendable, Equatable {
    public var calls = 0
    /// Calls by outcome (`ok`, `error`, `blocked`, `cached`, `rate_limited`, `budget`, `invalid_output`).
    public var outcomes: [CallOutcome: Int] = [:]
    public var users = 0
    public var streamed = 0
    /// Nano-dollars spent (calls whose price was known).
    public var costNanoUSD: Int64 = 0
    /// Nano-dollars the exact cache and provider prompt caching saved.
    public var savedNanoUSD: Int64 = 0
    /// Calls served by a request already in flight.
    public var joined = 0
    /// Calls that took more than one attempt (retries, repairs or fallback hops).
    public var retried = 0
    /// Calls that fell back to another target of their route.
    public var fellBack = 0
    /// Calls that waited for provider headroom before sending.
    public var paced = 0
    /// Calls whose output was sent back for repair.
    public var repaired = 0

    public init() {}
}

extension JournalReader {
    /// The calls started at or after `since`, summarised from the rows and their events.
    public func summary(since: Date) throws(JournalError) -> JournalSummary {
        let start = Int64((since.timeIntervalSince1970 * 1000).rounded(.down))
        return try read("summarise") { db in
            var summary = JournalSummary()
            for row in try Row.fetchAll(
                db,
                sql: "SELECT outcome, count(*) AS calls FROM calls WHERE started_at >= ? GROUP BY outcome",
                arguments: [start]
            ) {
                if let outcome = CallOutcome(rawValue: row["outcome"]) { summary.outcomes[outcome] = row["calls"] }
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS calls, count(DISTINCT user_id) AS users, sum(stream) AS streamed,
                           coalesce(sum(cost_nano_usd), 0) AS cost, coalesce(sum(saved_nano_usd), 0) AS saved,
                           sum(cache = 'joined') AS joined, sum(attempts > 1) AS retried
                    FROM calls WHERE started_at >= ?
                    """,
                arguments: [start]
            ) {
                summary.calls = row["calls"]
                summary.users = row["users"]
                summary.streamed = row["streamed"] ?? 0
                summary.costNanoUSD = row["cost"]
                summary.savedNanoUSD = row["saved"]
                summary.joined = row["joined"] ?? 0
                summary.retried = row["retried"] ?? 0
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, count(DISTINCT request_id) AS calls FROM events
                    WHERE at >= ? AND request_id IS NOT NULL AND kind IN ('fallback', 'pacing_wait', 'repair')
                    GROUP BY kind
                    """,
                arguments: [start]
            ) {
                let calls: Int = row["calls"]
                switch row["kind"] as String {
                case "fallback": summary.fellBack = calls
                case "pacing_wait": summary.paced = calls
                default: summary.repaired = calls
                }
            }
            return summary
        }
    }
}
