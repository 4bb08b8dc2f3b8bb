import Foundation
import SwitchboardWire

/// A continuously refilled token bucket, as both providers document their limits ("capacity is
/// continuously replenished up to your maximum limit"): `limit` units per `window`, full at start.
///
/// `remaining` and `resetAfter` are what the rate-limit headers report: what is available now, and
/// the time until the bucket is full again.
struct TokenBucket: Sendable {
    let limit: Int
    let window: Duration
    private var level: Double
    private var updatedAt: Date

    init(limit: Int, window: Duration, now: Date) {
        self.limit = limit
        self.window = window
        self.level = Double(limit)
        self.updatedAt = now
    }

    /// Units refilled per second.
    private var rate: Double { Double(limit) / max(window.secondsDouble, 0.001) }

    /// The level at `now`, refilled since the last change.
    private func currentLevel(at now: Date) -> Double {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        return min(Double(limit), level + elapsed * rate)
    }

    func remaining(now: Date) -> Int {
        max(0, Int(currentLevel(at: now).rounded(.down)))
    }

    /// Time until the bucket is full.
    func resetAfter(now: Date) -> Duration {
        .seconds((Double(limit) - currentLevel(at: now)) / rate)
    }

    /// Time until `amount` units are available; zero when they are now.
    func wait(for amount: Int, now: Date) -> Duration {
        let missing = Double(amount) - currentLevel(at: now)
        return missing <= 0 ? .zero : .seconds(missing / rate)
    }

    /// Takes `amount` units (the level may go below zero when settling a reservation).
    mutating func take(_ amount: Int, now: Date) {
        level = currentLevel(at: now) - Double(amount)
        updatedAt = max(updatedAt, now)
    }

    /// Returns units reserved but not used.
    mutating func giveBack(_ amount: Int, now: Date) {
        level = min(Double(limit), currentLevel(at: now) + Double(amount))
        updatedAt = max(updatedAt, now)
    }
}
