import Foundation
import Synchronization

/// A wall clock that moves only when a test says so.
///
/// Pass ``now`` wherever a component takes a clock (`now: @Sendable () -> Date`), then
/// ``advance(by:)`` to make time pass without sleeping.
public final class ManualClock: Sendable {
    private let current: Mutex<Date>

    /// - Parameter start: the initial time; the default is a fixed instant in November 2026.
    public init(start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        current = Mutex(start)
    }

    /// The current time.
    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        current.withLock {
            $0 = $0.addingTimeInterval(
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            )
        }
    }
}
