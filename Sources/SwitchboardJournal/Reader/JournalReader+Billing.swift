import Foundation
import GRDB

/// What a billing report groups by.
public enum BillingDimension: String, Sendable, CaseIterable {
    case user, tenant, key, model

    var column: String {
        switch self {
        case .user: "user_id"
        case .tenant: "tenant_id"
        case .key: "key_id"
        case .model: "coalesce(model_used, model_requested)"
        }
    }
}

/// One line of a billing report: the spend of one user (tenant, key, model) in the period.
public struct BillingLine: Sendable, Equatable {
    /// The user, tenant, key id or model; `nil` for calls without one (and for the total).
    public var name: String?
    public var calls: Int
    /// Nano-dollars of the calls whose price was known.
    public var costNanoUSD: Int64
    /// Calls whose model had no price: their cost is not in `costNanoUSD`.
    public var unpricedCalls: Int
    /// Nano-dollars the exact cache saved.
    public var savedNanoUSD: Int64
    public var cacheHits: Int
    public var inputTokens: Int64
    public var cachedInputTokens: Int64
    public var cacheWriteTokens: Int64
    public var outputTokens: Int64
}

extension JournalReader {
    /// Spend, tokens, calls and savings of the calls started in `[from, to)`, by `dimension`
    /// (largest spend first) or, with `nil`, one total line. Summed from the call rows themselves,
    /// so the report reconciles exactly with them.
    public func billing(from: Date, to: Date, by dimension: BillingDimension?) throws(JournalError) -> [BillingLine] {
        let group = dimension?.column ?? "NULL"
        let sql = """
            SELECT \(group) AS name, count(*), coalesce(sum(cost_nano_usd), 0),
                   sum(CASE WHEN cost_nano_usd IS NULL THEN 1 ELSE 0 END), coalesce(sum(saved_nano_usd), 0),
                   sum(CASE WHEN cache = 'hit' THEN 1 ELSE 0 END),
                   coalesce(sum(input_tokens), 0), coalesce(sum(cached_input_tokens), 0),
                   coalesce(sum(cache_write_5m_tokens + cache_write_1h_tokens), 0), coalesce(sum(output_tokens), 0)
            FROM calls
            WHERE started_at >= ? AND started_at < ?
            GROUP BY 1
            ORDER BY 3 DESC, 1
            """
        let bounds = [
            Int64((from.timeIntervalSince1970 * 1000).rounded()), Int64((to.timeIntervalSince1970 * 1000).rounded()),
        ]
        return try read("billing") { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(bounds)).compactMap { row in
                let calls: Int = row[1]
                guard calls > 0 else { return nil }
                return BillingLine(
                    name: row[0],
                    calls: calls,
                    costNanoUSD: row[2],
                    unpricedCalls: row[3],
                    savedNanoUSD: row[4],
                    cacheHits: row[5],
                    inputTokens: row[6],
                    cachedInputTokens: row[7],
                    cacheWriteTokens: row[8],
                    outputTokens: row[9]
                )
            }
        }
    }
}
