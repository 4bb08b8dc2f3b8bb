import Foundation
import GRDB

/// A live window's figures — per model with the histograms, per user without, a series of each
/// over the window's slots — and each user's spend in the budget period, kept up to date from the
/// tail: what the console's overview reads a few times a second.
///
/// Reading them afresh means reading every minute rollup row of the window (thousands of user
/// rows for a busy 15 minutes) and a month of hour rows. Here each minute of the window, and the
/// period's spend, is read from the rollups once; a refresh reads the calls committed since the
/// last one and counts each into the minute it started in and into the period, exactly as the
/// writer counts it into the rollups (``RollupContribution``), and reads from the rollups only the
/// minutes that entered the window. All in one read transaction, so no call is counted twice or
/// missed. More than `tailLimit` calls since the last refresh (a console frozen for a while), or
/// another journal at the path, and everything is read afresh.
///
/// The figures equal ``JournalReader/aggregate(from:to:by:details:)``,
/// ``JournalReader/latencySeries(from:to:slots:by:)`` and
/// ``JournalReader/costSeries(from:to:slots:by:)`` over the same window, and the period's spend
/// the per-user aggregate of `[periodStart, to)`. Windows those read from hour rows (two hours
/// and longer) are read afresh each time; the period's spend is kept for them too.
public struct LiveRollups: Sendable {
    /// What the overview shows of a window.
    public struct Figures: Sendable, Equatable {
        /// Totals per model, with the latency and time-to-first-token histograms and error classes.
        public var byModel: [String: RollupCounters] = [:]
        /// The latency histogram per model and slot.
        public var latencyByModel: [String: [LogHistogram]] = [:]
        /// Totals per user, without histograms or error classes.
        public var byUser: [String: RollupCounters] = [:]
        /// Spend per user and slot (nano-dollars).
        public var costByUser: [String: [Int64]] = [:]
        /// Spend per user in the budget period (nano-dollars).
        public var periodSpend: [String: Int64] = [:]
    }

    /// A minute as read, its groups keyed by name.
    private struct ReadMinute: Sendable {
        var byModel: [String: RollupCounters]
        var byUser: [String: RollupCounters]
    }

    /// A minute as kept: its users by number (``users``).
    private struct Minute: Sendable {
        var byModel: [String: RollupCounters]
        var byUser: [Int: RollupCounters]
    }

    private struct Period: Sendable {
        var start: Int64
        var spend: [String: Int64]
    }

    /// A call read from the tail, with the keys its rollups go by.
    private struct TailCall: Sendable {
        var startedAt: Int64
        var user: String
        var model: String
        var contribution: RollupContribution
    }

    /// What one refresh read, in one transaction.
    private struct Reading: Sendable {
        var newest: Int64
        var afresh: Bool
        var tail: [TailCall] = []
        var minutes: [Int64: ReadMinute] = [:]
        var period: [String: Int64]?
    }

    /// Slots in each series.
    public let slots: Int
    /// More calls than this since the last refresh are not read one by one.
    public let tailLimit: Int
    /// The minutes kept, by start (milliseconds), each complete as of `watermark`.
    private var minutes: [Int64: Minute] = [:]
    private var period: Period?
    /// The users of the kept minutes, numbered: adding up a window's thousands of (minute, user)
    /// groups then indexes arrays instead of hashing names.
    private var users: [String] = []
    private var numbers: [String: Int] = [:]
    /// The newest call row counted.
    private var watermark: Int64 = 0

    /// Rollup ranges read since the start (a run of minutes, a window, a period): what the tests
    /// count.
    public private(set) var reads = 0

    public init(slots: Int, tailLimit: Int = 5_000) {
        self.slots = slots
        self.tailLimit = tailLimit
    }

    /// The figures of `[from, to)`, and the spend of `[periodStart, to)`.
    public mutating func read(_ reader: JournalReader, from: Date, to: Date, periodStart: Date)
        throws(JournalError) -> Figures
    {
        let start = Journal.milliseconds(from)
        let end = Journal.milliseconds(to)
        let periodFrom = Journal.milliseconds(periodStart)
        let minute = RollupResolution.minute.milliseconds
        let first = RollupResolution.minute.bucketStart(start)
        // Longer windows are read from hour rows.
        let kept = end - first < 2 * RollupResolution.hour.milliseconds
        let (watermark, tailLimit, keptMinutes) = (self.watermark, self.tailLimit, Set(minutes.keys))
        let keptPeriod = period?.start == periodFrom

        let reading = try reader.read("aggregate") { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM calls") ?? 0
            var reading = Reading(newest: newest, afresh: newest < watermark || newest - watermark > tailLimit)
            if !reading.afresh, newest > watermark {
                reading.tail = try Self.tail(db, after: watermark, through: newest)
            }
            if kept {
                var missing = first
                while missing < end, !reading.afresh, keptMinutes.contains(missing) { missing += minute }
                if missing < end {
                    // The first minute not kept and every one after it, in one range.
                    let models = try JournalReader.minutes(db, from: missing, to: end, by: .model, details: true)
                    let users = try JournalReader.minutes(db, from: missing, to: end, by: .user, details: false)
                    for bucket in stride(from: missing, to: end, by: Int(minute)) {
                        reading.minutes[bucket] = ReadMinute(
                            byModel: models[bucket] ?? [:],
                            byUser: users[bucket] ?? [:]
                        )
                    }
                }
            }
            if reading.afresh || !keptPeriod {
                reading.period = try JournalReader.aggregate(
                    db,
                    JournalReader.plan(db, from: periodFrom, to: end),
                    by: .user,
                    details: false
                ).mapValues(\.costNanoUSD)
            }
            return reading
        }

        if reading.afresh {
            minutes = [:]
            period = nil
            (users, numbers) = ([], [:])
        }
        // The tail into what was kept before this refresh; what was read now already counts it.
        for call in reading.tail {
            let bucket = RollupResolution.minute.bucketStart(call.startedAt)
            if minutes[bucket] != nil {
                let user = number(call.user)
                minutes[bucket]?.byModel[call.model, default: RollupCounters()].add(call.contribution)
                minutes[bucket]?.byUser[user, default: RollupCounters()].add(call.contribution, details: false)
            }
            if keptPeriod, call.startedAt >= periodFrom {
                period?.spend[call.user, default: 0] += call.contribution.costNanoUSD ?? 0
            }
        }
        let count = minutes.count
        minutes = kept ? minutes.filter { $0.key >= first && $0.key < end } : [:]
        if minutes.count < count { renumber() }
        if !reading.minutes.isEmpty { reads += 1 }
        for (bucket, read) in reading.minutes {
            var byUser: [Int: RollupCounters] = [:]
            for (user, counters) in read.byUser { byUser[number(user)] = counters }
            minutes[bucket] = Minute(byModel: read.byModel, byUser: byUser)
        }
        if let spend = reading.period {
            reads += 1
            period = Period(start: periodFrom, spend: spend)
        }
        self.watermark = reading.newest

        var figures = Figures(periodSpend: period?.spend ?? [:])
        guard kept else {
            reads += 1
            figures.byModel = try reader.aggregate(from: from, to: to, by: .model)
            figures.latencyByModel = try reader.latencySeries(from: from, to: to, slots: slots, by: .model)
            figures.byUser = try reader.aggregate(from: from, to: to, by: .user, details: false)
            figures.costByUser = try reader.costSeries(from: from, to: to, slots: slots, by: .user)
            return figures
        }
        let width = max(1, (end - start) / Int64(max(1, slots)))
        var totals = [RollupCounters?](repeating: nil, count: users.count)
        var costs = [Int64](repeating: 0, count: users.count * slots)
        var inSeries = [Bool](repeating: false, count: users.count)
        for (bucket, counted) in minutes {
            let slot = JournalReader.slot(of: bucket, start: start, width: width)
            for (model, counters) in counted.byModel {
                figures.byModel[model, default: RollupCounters()].merge(counters)
                if slot < slots {
                    figures.latencyByModel[model, default: Array(repeating: LogHistogram(), count: slots)][slot]
                        .merge(counters.latency)
                }
            }
            for (user, counters) in counted.byUser {
                if totals[user] == nil { totals[user] = counters } else { totals[user]!.merge(counters) }
                if slot < slots {
                    costs[user * slots + slot] += counters.costNanoUSD
                    inSeries[user] = true
                }
            }
        }
        figures.byUser.reserveCapacity(users.count)
        figures.costByUser.reserveCapacity(users.count)
        for (user, name) in users.enumerated() {
            guard let total = totals[user] else { continue }
            figures.byUser[name] = total
            if inSeries[user] { figures.costByUser[name] = Array(costs[user * slots..<(user + 1) * slots]) }
        }
        return figures
    }

    /// The number of `user` in ``users``.
    private mutating func number(_ user: String) -> Int {
        if let number = numbers[user] { return number }
        numbers[user] = users.count
        users.append(user)
        return users.count - 1
    }

    /// Numbers again only the users of the kept minutes, once those who left are most: users come
    /// and go, and the numbering should not grow with every one ever seen.
    private mutating func renumber() {
        var present = Set<Int>()
        for minute in minutes.values { present.formUnion(minute.byUser.keys) }
        guard users.count > 64, present.count * 2 < users.count else { return }
        let old = users
        (users, numbers) = ([], [:])
        for (bucket, minute) in minutes {
            var byUser: [Int: RollupCounters] = [:]
            for (user, counters) in minute.byUser { byUser[number(old[user])] = counters }
            minutes[bucket]?.byUser = byUser
        }
    }

    /// The calls of rows `(after, through]`, with what their rollups count.
    private static func tail(_ db: Database, after: Int64, through: Int64) throws -> [TailCall] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT started_at, coalesce(user_id, ''), coalesce(model_used, model_requested, ''),
                \(RollupContribution.columns) FROM calls WHERE id > ? AND id <= ?
                """
        )
        var calls: [TailCall] = []
        let rows = try Row.fetchCursor(statement, arguments: [after, through])
        while let row = try rows.next() {
            calls.append(
                TailCall(
                    startedAt: row[0],
                    user: row[1],
                    model: row[2],
                    contribution: RollupContribution(row: row, offset: 3)
                )
            )
        }
        return calls
    }
}
