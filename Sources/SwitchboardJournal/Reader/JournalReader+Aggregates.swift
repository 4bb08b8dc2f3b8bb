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

    /// Whether grouping needs the per-user tables.
    var needsUsers: Bool { self == .user || self == .tenant }
}

extension JournalReader {
    /// Totals over `[from, to)` from the rollups, grouped by `dimension` (one entry keyed `""`
    /// without one). Never scans raw rows: counters are summed (by SQLite with the details, here
    /// without) and histograms merged from their stored form, reading the smallest rollup family that can answer — the fleet tables
    /// (no user dimension) for totals and model, route, provider or origin groupings, the user
    /// tables (user and tenant only) for user or tenant groupings.
    ///
    /// Windows are minute-granular: a call counts when the minute it started in began inside the
    /// window (`from` rounded down to the minute), so a window ending now includes the current
    /// minute. Windows of six hours or more start at the hour (`from` rounded down to the hour),
    /// so they are read from hour rollups but for the current hour's minutes.
    /// - Parameter details: also merge the latency and time-to-first-token histograms and the
    ///   error classes (the default); pass false when counts, tokens and money are all that is
    ///   wanted (spend per user), which is several times cheaper.
    public func aggregate(
        from: Date,
        to: Date,
        by dimension: RollupDimension? = nil,
        details: Bool = true
    ) throws(JournalError) -> [String: RollupCounters] {
        let (low, high) = (Journal.milliseconds(from), Journal.milliseconds(to))
        return try read("aggregate") { db in
            try Self.aggregate(db, Self.plan(db, from: low, to: high), by: dimension, details: details)
        }
    }

    /// Totals of each minute of `[from, to)` from the minute rollups (`from` in milliseconds,
    /// rounded down to the minute), grouped by `dimension` and keyed by the minute's start in
    /// milliseconds: what ``LiveRollups`` keeps between refreshes. A minute with no calls has no
    /// entry.
    static func minutes(_ db: Database, from: Int64, to: Int64, by dimension: RollupDimension?, details: Bool)
        throws -> [Int64: [String: RollupCounters]]
    {
        let groups = try aggregate(
            db,
            [(.minute, RollupResolution.minute.bucketStart(from), to)],
            by: dimension,
            details: details,
            perBucket: true
        )
        var minutes: [Int64: [String: RollupCounters]] = [:]
        for (key, counters) in groups { minutes[key.bucket, default: [:]][key.group] = counters }
        return minutes
    }

    /// Totals over `ranges` of rollup rows, grouped by `dimension`, in the read transaction `db`.
    static func aggregate(
        _ db: Database,
        _ ranges: [(RollupResolution, Int64, Int64)],
        by dimension: RollupDimension?,
        details: Bool
    ) throws -> [String: RollupCounters] {
        let groups = try aggregate(db, ranges, by: dimension, details: details, perBucket: false)
        return Dictionary(uniqueKeysWithValues: groups.map { ($0.key.group, $0.value) })
    }

    /// A group of an aggregate: its value of the grouping dimension and, read per bucket, the
    /// bucket's start (0 otherwise).
    private struct GroupKey: Hashable {
        var bucket: Int64
        var group: String
    }

    private static func aggregate(
        _ db: Database,
        _ ranges: [(RollupResolution, Int64, Int64)],
        by dimension: RollupDimension?,
        details: Bool,
        perBucket: Bool
    ) throws -> [GroupKey: RollupCounters] {
        let scope = RollupScope.serving(dimension)
        let group = "\(dimension?.column ?? "''"), \(perBucket ? "bucket_start" : "0")"
        let queries = ranges.map { (RollupTable(resolution: $0.0, scope: scope).name, $0.1, $0.2) }
        var totals: [GroupKey: RollupCounters] = [:]
        var latency: [GroupKey: DenseHistogram] = [:]
        var ttft: [GroupKey: DenseHistogram] = [:]
        for (table, low, high) in queries {
            let columns = Journal.rollupColumnList.filter {
                !["error_classes", "latency_hist", "ttft_hist"].contains($0)
            }
            // Without the histograms, the groups are summed here rather than by SQLite: many
            // groups (users) cost more in its temporary B-tree than reading the rows.
            let sql =
                details
                ? "SELECT \(group), \(columns.map { "sum(\($0))" }.joined(separator: ", ")) FROM \(table) WHERE bucket_start >= ? AND bucket_start < ? GROUP BY 1, 2"
                : "SELECT \(group), \(columns.joined(separator: ", ")) FROM \(table) WHERE bucket_start >= ? AND bucket_start < ?"
            let rows = try Row.fetchCursor(try db.cachedStatement(sql: sql), arguments: [low, high])
            while let row = try rows.next() {
                totals[GroupKey(bucket: row[1], group: row[0]), default: RollupCounters()].mergeSums(row, offset: 2)
            }
            guard details else { continue }
            let classes = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(group), e.key, sum(e.value) FROM \(table), json_each(\(table).error_classes) AS e
                    WHERE bucket_start >= ? AND bucket_start < ? AND error_classes <> '{}' GROUP BY 1, 2, 3
                    """,
                arguments: [low, high]
            )
            while let row = try classes.next() {
                totals[GroupKey(bucket: row[1], group: row[0]), default: RollupCounters()]
                    .errorClasses[row[2], default: 0] += row[3] as Int
            }
            let blobs = try Statement.histogramRows(db, table: table, group: group, low: low, high: high)
            for (group, bucket, latencyBytes, ttftBytes) in blobs {
                let key = GroupKey(bucket: bucket, group: group)
                if let latencyBytes {
                    latencyBytes.withUnsafeBytes {
                        LogHistogram.add(encoded: $0, into: &latency[key, default: DenseHistogram()])
                    }
                }
                if let ttftBytes {
                    ttftBytes.withUnsafeBytes {
                        LogHistogram.add(encoded: $0, into: &ttft[key, default: DenseHistogram()])
                    }
                }
            }
        }
        for (key, dense) in latency { totals[key]?.latency = dense.histogram }
        for (key, dense) in ttft { totals[key]?.timeToFirstToken = dense.histogram }
        return totals
    }

    /// Which rollup rows cover a window: whole hours from hour rows, ragged ends from minute rows.
    /// The current (last) hour is read from its hour row when nothing was journaled after `end`.
    static func plan(_ db: Database, from: Int64, to end: Int64) throws -> [(RollupResolution, Int64, Int64)] {
        let hour = RollupResolution.hour.milliseconds
        var start = RollupResolution.minute.bucketStart(from)
        guard end - start >= 2 * hour else { return [(.minute, start, end)] }
        if end - start >= 6 * hour { start = RollupResolution.hour.bucketStart(start) }
        let firstHour = RollupResolution.hour.bucketStart(start + hour - 1)
        let lastHour = RollupResolution.hour.bucketStart(end)
        let laterMinutes =
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM rollups_minute_fleet WHERE bucket_start >= ? AND bucket_start < ?)",
                arguments: [
                    RollupResolution.minute.bucketStart(end + RollupResolution.minute.milliseconds - 1),
                    lastHour + hour,
                ]
            ) ?? false
        var ranges: [(RollupResolution, Int64, Int64)] = []
        if firstHour > start { ranges.append((.minute, start, firstHour)) }
        if laterMinutes || end == lastHour {
            ranges.append((.hour, firstHour, lastHour))
            if end > lastHour { ranges.append((.minute, lastHour, end)) }
        } else {
            ranges.append((.hour, firstHour, lastHour + hour))
        }
        return ranges.filter { $0.2 > $0.1 }
    }

    /// Totals per time slot: `slots` equal slices of `[from, to)` from the minute rollups (hour
    /// rollups when a slice is an hour or longer), grouped by `dimension`. For sparklines.
    public func series(from: Date, to: Date, slots: Int, by dimension: RollupDimension? = nil) throws(JournalError)
        -> [String: [RollupCounters]]
    {
        try slotted(from: from, to: to, slots: slots, by: dimension, columns: Journal.rollupColumns, empty: .init()) {
            $0.merge(Journal.counters(from: $1, offset: 2))
        }
    }
}

extension JournalReader {
    /// How a window splits into `slots`: its bounds and slot width in milliseconds, and the rollup
    /// table and grouping column that serve it.
    static func slotting(from: Date, to: Date, slots: Int, by dimension: RollupDimension?)
        -> (start: Int64, end: Int64, width: Int64, resolution: RollupResolution, table: String, group: String)
    {
        let start = Journal.milliseconds(from)
        let end = Journal.milliseconds(to)
        let width = max(1, (end - start) / Int64(max(1, slots)))
        let resolution: RollupResolution = width >= RollupResolution.hour.milliseconds ? .hour : .minute
        let table = RollupTable(resolution: resolution, scope: RollupScope.serving(dimension)).name
        return (start, end, width, resolution, table, dimension?.column ?? "''")
    }

    /// The slot a rollup bucket starting at `bucket` counts in, for slots `width` wide from `start`
    /// (all in milliseconds): the bucket holding `start` counts in the first.
    static func slot(of bucket: Int64, start: Int64, width: Int64) -> Int {
        Int((max(start, bucket) - start) / width)
    }

    /// The rollup rows of `[from, to)` split into `slots` (see ``slotting(from:to:slots:by:)``),
    /// `columns` read after the group and the bucket start: one value per slot and group, each
    /// row added into its slot's by `add` (its columns from index 2). Summed here, not by SQLite:
    /// grouping thousands of (user, slot) pairs in a temporary B-tree costs several times more
    /// than reading the rows.
    func slotted<Value: Sendable>(
        from: Date,
        to: Date,
        slots: Int,
        by dimension: RollupDimension?,
        columns: String,
        empty: Value,
        _ add: @Sendable (inout Value, Row) -> Void
    ) throws(JournalError) -> [String: [Value]] {
        let (start, end, width, resolution, table, group) = Self.slotting(
            from: from,
            to: to,
            slots: slots,
            by: dimension
        )
        return try read("aggregate") { db in
            var series: [String: [Value]] = [:]
            let statement = try db.cachedStatement(
                sql:
                    "SELECT \(group), bucket_start, \(columns) FROM \(table) WHERE bucket_start >= ? AND bucket_start < ?"
            )
            let rows = try Row.fetchCursor(statement, arguments: [resolution.bucketStart(start), end])
            while let row = try rows.next() {
                let slot = Self.slot(of: row[1], start: start, width: width)
                guard slot < slots else { continue }
                add(&series[row[0] as String, default: Array(repeating: empty, count: slots)][slot], row)
            }
            return series
        }
    }

    /// Spend per time slot, grouped by `dimension`: like ``series(from:to:slots:by:)`` for the cost
    /// alone, without reading any histogram. For spend sparklines.
    public func costSeries(from: Date, to: Date, slots: Int, by dimension: RollupDimension? = nil)
        throws(JournalError) -> [String: [Int64]]
    {
        try slotted(from: from, to: to, slots: slots, by: dimension, columns: "cost_nano_usd", empty: 0) {
            $0 += $1[2] as Int64
        }
    }

    /// The latency histogram per time slot, grouped by `dimension`: like
    /// ``series(from:to:slots:by:)`` for the latency alone, without reading or building the other
    /// counters. For p99 sparklines.
    public func latencySeries(from: Date, to: Date, slots: Int, by dimension: RollupDimension? = nil)
        throws(JournalError) -> [String: [LogHistogram]]
    {
        try slotted(from: from, to: to, slots: slots, by: dimension, columns: "latency_hist", empty: DenseHistogram()) {
            dense,
            row in
            guard let blob = row[2] as Data? else { return }
            blob.withUnsafeBytes { LogHistogram.add(encoded: $0, into: &dense) }
        }
        .mapValues { $0.map(\.histogram) }
    }
}

extension Statement {
    /// The histogram blobs of a rollup range with each row's group and bucket (`group` selects
    /// both), read through the C API without building rows.
    static func histogramRows(_ db: Database, table: String, group: String, low: Int64, high: Int64) throws
        -> [(String, Int64, [UInt8]?, [UInt8]?)]
    {
        let statement = try db.cachedStatement(
            sql: "SELECT \(group), latency_hist, ttft_hist FROM \(table) WHERE bucket_start >= ? AND bucket_start < ?"
        )
        var result: [(String, Int64, [UInt8]?, [UInt8]?)] = []
        let cursor = try Row.fetchCursor(statement, arguments: [low, high])
        while let row = try cursor.next() {
            let key: String = row[0]
            let bucket: Int64 = row[1]
            let latency: Data? = row[2]
            let ttft: Data? = row[3]
            result.append((key, bucket, latency.map(Array.init), ttft.map(Array.init)))
        }
        return result
    }
}

extension RollupCounters {
    /// Adds the summed counter columns (every rollup column but the error classes and the
    /// histograms, in order) of an aggregate row.
    mutating func mergeSums(_ row: Row, offset: Int) {
        calls += row[offset + 0] as Int
        ok += row[offset + 1] as Int
        errors += row[offset + 2] as Int
        blocked += row[offset + 3] as Int
        cached += row[offset + 4] as Int
        rateLimited += row[offset + 5] as Int
        budget += row[offset + 6] as Int
        invalidOutput += row[offset + 7] as Int
        cacheHits += row[offset + 8] as Int
        cacheJoined += row[offset + 9] as Int
        retried += row[offset + 10] as Int
        fellBack += row[offset + 11] as Int
        paced += row[offset + 12] as Int
        inputTokens += row[offset + 13] as Int
        cachedInputTokens += row[offset + 14] as Int
        cacheWriteTokens += row[offset + 15] as Int
        outputTokens += row[offset + 16] as Int
        reasoningTokens += row[offset + 17] as Int
        costNanoUSD += row[offset + 18] as Int64
        costUnknown += row[offset + 19] as Int
        savedNanoUSD += row[offset + 20] as Int64
        latencySumMilliseconds += row[offset + 21] as Double
    }
}
