import Foundation
import Synchronization

/// One user's (or tenant's) spending in one billing period, kept in the state store so every
/// process on the host spends from the same account.
///
/// A call reserves its worst case before it is sent and settles to its real cost when it ends;
/// a reservation whose process died ends with its lease. The account refuses a reservation that
/// would take spent + reserved past the limit, so concurrent calls can overshoot the limit only
/// by what their worst cases underestimated — never by a whole call each.
public struct BudgetAccount: Sendable, Equatable, Codable {
    /// Nano-dollars spent by calls that ended in this period.
    public private(set) var spentNanoUSD: Int64 = 0
    private var leases: [Lease] = []

    struct Lease: Sendable, Equatable, Codable {
        var expiresAt: Date
        var nanoUSD: Int64
        var calls: Int
    }

    public init() {}

    /// How long a reservation holds when its call never settles (its process died).
    public static let reservationLease: Duration = .seconds(600)

    /// What calls in flight have reserved.
    public func reservedNanoUSD(now: Date) -> Int64 {
        leases.filter { $0.expiresAt > now }.reduce(0) { $0 + $1.nanoUSD }
    }

    /// Reserves `amount` unless spent + reserved + amount would pass `limit`.
    /// - Returns: whether it was reserved.
    public mutating func reserve(_ amount: Int64, limit: Int64, now: Date) -> Bool {
        leases.removeAll { $0.expiresAt <= now }
        guard spentNanoUSD + reservedNanoUSD(now: now) + amount <= limit else { return false }
        let end = Self.leaseEnd(reservedAt: now)
        if let index = leases.firstIndex(where: { $0.expiresAt == end }) {
            leases[index].nanoUSD += amount
            leases[index].calls += 1
        } else {
            leases.append(Lease(expiresAt: end, nanoUSD: amount, calls: 1))
        }
        return true
    }

    /// Ends a reservation of `amount` made at `reservedAt` and books the call's real cost.
    /// - Returns: what was spent before and after.
    @discardableResult
    public mutating func settle(reserved amount: Int64, reservedAt: Date, cost: Int64) -> (before: Int64, after: Int64)
    {
        let end = Self.leaseEnd(reservedAt: reservedAt)
        if let index = leases.firstIndex(where: { $0.expiresAt == end }) {
            leases[index].nanoUSD -= amount
            leases[index].calls -= 1
            if leases[index].calls <= 0 { leases.remove(at: index) }
        }
        let before = spentNanoUSD
        spentNanoUSD += cost
        return (before, spentNanoUSD)
    }

    static func leaseEnd(reservedAt: Date) -> Date {
        let end = reservedAt.adding(reservationLease).timeIntervalSince1970
        return Date(timeIntervalSince1970: (end / 10).rounded(.up) * 10)
    }
}

extension SwitchboardConfiguration.Budgets.Period {
    /// The period holding `date` (UTC): `2026-11`, `2026-W48` (ISO week) or `2026-11-29`, and when
    /// the next one starts. Every budgeted call asks; the answer is kept until the period renews
    /// (working it out builds a calendar).
    public func period(containing date: Date) -> (name: String, renews: Date) {
        if let known = Self.latest.withLock({ $0[self] }), date >= known.start, date < known.renews {
            return (known.name, known.renews)
        }
        let (name, start, renews) = compute(containing: date)
        Self.latest.withLock { $0[self] = (name, start, renews) }
        return (name, renews)
    }

    /// The last period worked out, per kind.
    private static let latest = Mutex<[Self: (name: String, start: Date, renews: Date)]>([:])

    private func compute(containing date: Date) -> (name: String, start: Date, renews: Date) {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch self {
        case .month:
            let parts = calendar.dateComponents([.year, .month], from: date)
            let start = calendar.date(from: parts)!
            return (
                String(format: "%04d-%02d", parts.year!, parts.month!),
                start,
                calendar.date(byAdding: .month, value: 1, to: start)!
            )
        case .week:
            let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            let start = calendar.date(from: parts)!
            return (
                String(format: "%04d-W%02d", parts.yearForWeekOfYear!, parts.weekOfYear!),
                start,
                calendar.date(byAdding: .day, value: 7, to: start)!
            )
        case .day:
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let start = calendar.date(from: parts)!
            return (
                String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!),
                start,
                calendar.date(byAdding: .day, value: 1, to: start)!
            )
        }
    }
}
