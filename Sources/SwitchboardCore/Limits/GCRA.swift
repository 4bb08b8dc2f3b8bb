import Foundation

/// The generic cell rate algorithm: a rate limit of `limit` units per `period`, with bursts up to
/// the whole limit, kept as one time (the theoretical arrival time, TAT) — a few bytes in the
/// state store per user and limit, exact at any rate, with no refill loop.
///
/// A request of `cost` units is allowed when `max(TAT, now) + cost · period / limit` lies at most
/// one period ahead of now; allowing it moves the TAT there.
public struct GCRA: Sendable, Equatable, Codable {
    /// When the limit will be whole again; `nil` (or a time past) when it is whole now.
    public private(set) var theoreticalArrival: Date?

    public init() {}

    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        /// Units left now (after this request when it was allowed).
        public var remaining: Int
        /// Until the limit is whole again.
        public var resetAfter: Duration
        /// When refused: how long until this request would fit; `nil` when it never can (its
        /// cost is over the whole limit).
        public var retryAfter: Duration?
    }

    /// Takes `cost` units if the limit allows them.
    public mutating func take(_ cost: Int, limit: Int, period: Duration, now: Date) -> Decision {
        let interval = period.secondsDouble / Double(max(limit, 1))
        let base = max(theoreticalArrival ?? now, now)
        let next = base.addingTimeInterval(interval * Double(cost))
        let ahead = next.timeIntervalSince(now)
        guard cost <= limit, ahead <= period.secondsDouble + 1e-9 else {
            return Decision(
                allowed: false,
                limit: limit,
                remaining: Self.remaining(base: base, now: now, interval: interval, period: period),
                resetAfter: .seconds(base.timeIntervalSince(now)),
                retryAfter: cost <= limit ? .seconds(ahead - period.secondsDouble) : nil
            )
        }
        theoreticalArrival = next
        return Decision(
            allowed: true,
            limit: limit,
            remaining: Self.remaining(base: next, now: now, interval: interval, period: period),
            resetAfter: .seconds(ahead),
            retryAfter: nil
        )
    }

    /// Gives back `cost` units taken earlier (a call used fewer tokens than it was charged), or
    /// takes more with a negative `cost`, without refusing.
    public mutating func adjust(by cost: Int, limit: Int, period: Duration, now: Date) {
        guard let theoreticalArrival else { return }
        let interval = period.secondsDouble / Double(max(limit, 1))
        let moved = theoreticalArrival.addingTimeInterval(-interval * Double(cost))
        self.theoreticalArrival = moved > now ? moved : nil
    }

    private static func remaining(base: Date, now: Date, interval: Double, period: Duration) -> Int {
        let used = base.timeIntervalSince(now)
        return max(0, Int(((period.secondsDouble - used) / interval + 1e-9).rounded(.down)))
    }
}
