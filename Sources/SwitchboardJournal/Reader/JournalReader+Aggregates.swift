import Foundation
import GRDB

/// A dimension rollups can be grouped by.
public enum RollupDimension: String, Sendable, CaseIterable {
    case user, tenant, route, provider, model, origin

    var column: String {
        switch self {
        case .user: "user_id"
        case .tenant: "tenant_id"
        case .route, .provider, .model, .origin: rawValue
        }
    }
}

extension JournalReader {
    /// Totals over `[from, to)` from the rollups, grouped by `dimension` (one entry keyed `""`
    /// without one). Never scans raw rows: whole hours come from the hour rollups and the ragged
    /// ends from the minute rollups, so any window is exact to the minute. Minute-granular: a call
    /// counts when the minute it started in began inside the window (`from` rounded down to the
    /// minute), so a window ending now includes the current minute.
    public func aggregate(from: Date, to: Date, by dimension: RollupDimension? = nil) throws(JournalError) -> [String:
        RollupCounters]
    {
        let start = RollupResolution.minute.bucketStart(Journal.milliseconds(from))
        let end = Journal.milliseconds(to)
        var ranges: [(RollupResolution, Int64, Int64)] = []
        let hour = RollupResolution.hour.milliseconds
        if end - start >= 2 * hour {
            let firstHour = RollupResolution.hour.bucketStart(start + hour - 1)
            let lastHour = RollupResolution.hour.bucketStart(end)
            ranges = [(.minute, start, firstHour), (.hour, firstHour, lastHour), (.minute, lastHour, end)]
        } else {
            ranges = [(.minute, start, end)]
        }
        let group = dimension?.column ?? "''"
        let queries = ranges
        return try read("aggregate") { db in
            var totals: [String: RollupCounters] = [:]
            for (resolution, low, high) in queries where high > low {
                let rows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT \(group), \(Journal.rollupColumns) FROM \(resolution.table) WHERE bucket_start >= ? AND bucket_start < ?",
                    arguments: [low, high]
                )
                while let row = try rows.next() {
                    totals[row[0] as String, default: RollupCounters()].merge(Journal.counters(from: row, offset: 1))
                }
            }
            return totals
        }
    }

    /// Totals per time slot: `slots` equal slices of `[from, to)` from the minute rollups (hour
    /// rollups when a slice is an hour or longer), grouped by `dimension`. For sparklines.
    public func series(from: Date, to: Date, slots: Int, by dimension: RollupDimension? = nil) throws(JournalError)
        -> [String: [RollupCounters]]
    {
        let start = Journal.milliseconds(from)
        let end = Journal.milliseconds(to)
        let width = max(1, (end - start) / Int64(max(1, slots)))
        let resolution: RollupResolution = width >= RollupResolution.hour.milliseconds ? .hour : .minute
        let group = dimension?.column ?? "''"
        return try read("aggregate") { db in
            var series: [String: [RollupCounters]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT \(group), bucket_start, \(Journal.rollupColumns) FROM \(resolution.table) WHERE bucket_start >= ? AND bucket_start < ?",
                arguments: [resolution.bucketStart(start), end]
            )
            while let row = try rows.next() {
                let slot = Int((max(start, row[1] as Int64) - start) / width)
                guard slot < slots else { continue }
                var values = series[row[0] as String] ?? Array(repeating: RollupCounters(), count: slots)
                values[slot].merge(Journal.counters(from: row, offset: 2))
                series[row[0] as String] = values
            }
            return series
        }
    }
}
