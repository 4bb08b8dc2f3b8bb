import Foundation
import SwitchboardCore
import SwitchboardJournal

/// The time window the panes summarise.
public enum ConsoleWindow: Int, Sendable, CaseIterable {
    case fiveMinutes = 1
    case fifteenMinutes, hour, sixHours, day, week

    public var label: String {
        switch self {
        case .fiveMinutes: "5m"
        case .fifteenMinutes: "15m"
        case .hour: "1h"
        case .sixHours: "6h"
        case .day: "24h"
        case .week: "7d"
        }
    }

    public var seconds: TimeInterval {
        switch self {
        case .fiveMinutes: 300
        case .fifteenMinutes: 900
        case .hour: 3_600
        case .sixHours: 21_600
        case .day: 86_400
        case .week: 604_800
        }
    }

    public init?(label: String) {
        guard let window = Self.allCases.first(where: { $0.label == label }) else { return nil }
        self = window
    }
}

/// Everything the overview shows, read from the journal's rollups, headroom table, events and
/// newest failures: never a scan of raw rows.
public struct OverviewSnapshot: Sendable {
    public struct ModelLatency: Sendable, Equatable {
        public var model: String
        public var calls: Int
        public var p50: Double?
        public var p90: Double?
        public var p99: Double?
        public var ttft: Double?
        /// p99 per slot of the window, oldest first (milliseconds; 0 where there were no calls).
        public var history: [Double]
    }

    public struct UserSpend: Sendable, Equatable {
        public var user: String
        public var window: RollupCounters
        /// Spend in the current budget period, and the budget.
        public var periodNanoUSD: Int64
        public var budget: SwitchboardConfiguration.Budgets.Limit?
        public var history: [Double]

    }

    public struct Circuit: Sendable, Equatable {
        public var target: String
        public var state: String
        /// The state it left.
        public var from: String?
        public var at: Date
        /// The calls and failures in the breaker's window when it opened.
        public var calls: Int?
        public var failures: Int?
        /// When an open circuit lets a probe through.
        public var probeAt: Date?
    }

    public var window: ConsoleWindow
    public var at: Date
    public var totals: RollupCounters
    public var headroom: [HeadroomRow]
    public var circuits: [Circuit]
    public var latency: [ModelLatency]
    public var errors: [CallSummary]
    public var spend: [UserSpend]
    public var period: String

    public var callsPerSecond: Double { Double(totals.calls) / window.seconds }
}

/// Reads snapshots from a journal. Opening is retried: a missing, locked or corrupt journal is
/// reported (``problem``) and the console keeps running until the file is usable.
public final class ConsoleJournal {
    public let path: String
    private var reader: JournalReader?
    public private(set) var problem: String?
    private var lastVersion: Int?
    /// How many times the file was opened: what was kept from an earlier opening (which may have
    /// been another file at the path) is not to be trusted after a new one.
    public private(set) var openings = 0

    public init(path: String) {
        self.path = path
    }

    /// The reader, opened now if it was not (or could not be) before.
    public func open() -> JournalReader? {
        if let reader { return reader }
        do {
            reader = try JournalReader.open(path: path)
            openings += 1
            problem = nil
        } catch {
            problem = error.message
        }
        return reader
    }

    /// Whether the journal changed since the last call (its data version moved); a reader that
    /// fails is dropped, to be reopened.
    public func changed() -> Bool {
        guard let reader = open() else { return false }
        do {
            let version = try reader.dataVersion()
            defer { lastVersion = version }
            return version != lastVersion
        } catch {
            problem = error.message
            self.reader = nil
            return true
        }
    }

    /// Runs `body` with the reader; a failure becomes ``problem`` and `nil`.
    public func read<T>(_ body: (JournalReader) throws -> T) -> T? {
        guard let reader = open() else { return nil }
        do {
            let value = try body(reader)
            problem = nil
            return value
        } catch let error as JournalError {
            problem = error.message
            self.reader = nil
            return nil
        } catch {
            problem = "\(error)"
            return nil
        }
    }
}

extension OverviewSnapshot {
    /// Slots in a sparkline.
    static let historySlots = 12

    /// What the overview keeps between refreshes, so that each reads only what changed.
    public struct Kept: Sendable {
        public var live = LiveRollups(slots: OverviewSnapshot.historySlots)
        /// The budget period of the last refresh: working it out takes a calendar.
        public var period: BudgetPeriod?

        public init() {}
    }

    /// The budget period a moment falls in.
    public struct BudgetPeriod: Sendable {
        public var kind: SwitchboardConfiguration.Budgets.Period
        public var name: String
        public var start: Date
        public var renews: Date

        public init(_ kind: SwitchboardConfiguration.Budgets.Period, containing now: Date) {
            let period = kind.period(containing: now)
            self.kind = kind
            name = period.name
            start = OverviewSnapshot.start(of: kind, renewing: period.renews)
            renews = period.renews
        }

        public func contains(_ date: Date, kind: SwitchboardConfiguration.Budgets.Period) -> Bool {
            kind == self.kind && date >= start && date < renews
        }
    }
    /// Users kept for the spend pane (the largest spenders).
    static let maximumUsers = 60

    /// Reads the overview for `window` ending at `now`; `kept` holds the window's minutes and the
    /// budget period's spend between refreshes.
    public static func load(
        from reader: JournalReader,
        window: ConsoleWindow,
        now: Date,
        budgets: SwitchboardConfiguration.Budgets,
        kept: inout Kept
    ) throws -> OverviewSnapshot {
        let from = now.addingTimeInterval(-window.seconds)
        if kept.period?.contains(now, kind: budgets.period) != true {
            kept.period = BudgetPeriod(budgets.period, containing: now)
        }
        let period = kept.period!
        let figures = try kept.live.read(reader, from: from, to: now, periodStart: period.start)
        let byModel = figures.byModel
        // The totals come from the same fleet rollups, grouped by model: summing the groups (the
        // histograms merged bucket by bucket) is exact, and saves reading the window twice.
        let totals = byModel.values.reduce(into: RollupCounters()) { $0.merge($1) }
        let modelSeries = figures.latencyByModel
        let latency = byModel.filter { !$0.key.isEmpty && $0.value.calls > 0 }.map { model, counters in
            ModelLatency(
                model: model,
                calls: counters.calls,
                p50: counters.latency.quantile(0.5),
                p90: counters.latency.quantile(0.9),
                p99: counters.latency.quantile(0.99),
                ttft: counters.timeToFirstToken.quantile(0.5),
                history: (modelSeries[model] ?? []).map { $0.quantile(0.99) ?? 0 }
            )
        }.sorted { ($0.calls, $1.model) > ($1.calls, $0.model) }

        let byUser = figures.byUser
        let periodByUser = figures.periodSpend
        let userSeries = figures.costByUser
        // The biggest spenders: no screen shows more rows than this.
        // (Sorted as spend and name alone: moving whole counters about costs more than the sort.)
        let top = byUser.compactMap { $0.key.isEmpty ? nil : ($0.value.costNanoUSD, $0.key) }
            .sorted { ($0.0, $1.1) > ($1.0, $0.1) }
            .prefix(maximumUsers)
        let spend = top.map { _, user in
            let counters = byUser[user]!
            return UserSpend(
                user: user,
                window: counters,
                periodNanoUSD: periodByUser[user] ?? counters.costNanoUSD,
                budget: budgets.users[user] ?? budgets.defaultUser,
                history: (userSeries[user] ?? []).map(Double.init)
            )
        }

        var circuits: [String: Circuit] = [:]
        for event in try reader.events(since: from, kinds: ["breaker"], limit: 500) {
            if let known = circuits[event.scope], known.at > event.at { continue }
            circuits[event.scope] = Circuit(
                target: event.scope,
                state: event.detail?["to"]?.stringValue ?? "?",
                from: event.detail?["from"]?.stringValue,
                at: event.at,
                calls: event.detail?["calls"]?.intValue,
                failures: event.detail?["failures"]?.intValue,
                probeAt: event.detail?["probe_at"]?.stringValue.flatMap(RFC3339.parse)
            )
        }
        return OverviewSnapshot(
            window: window,
            at: now,
            totals: totals,
            headroom: try reader.headroom(),
            circuits: circuits.values.filter { $0.state != "closed" }.sorted { $0.target < $1.target },
            latency: latency,
            errors: try reader.recentFailures(limit: 40),
            spend: spend,
            period: period.name
        )
    }

    static func start(of period: SwitchboardConfiguration.Budgets.Period, renewing renews: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch period {
        case .month: return calendar.date(byAdding: .month, value: -1, to: renews)!
        case .week: return renews.addingTimeInterval(-7 * 86_400)
        case .day: return renews.addingTimeInterval(-86_400)
        }
    }
}
