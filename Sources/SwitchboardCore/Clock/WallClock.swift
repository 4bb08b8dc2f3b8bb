import Foundation
import SwitchboardWire

/// The time source every policy and wait in the pipeline uses: wall-clock time (providers report
/// resets as wall-clock times) and sleeping until a moment.
///
/// Production uses ``SystemWallClock``; tests pass `SwitchboardTesting.ManualClock`, whose sleepers
/// wake only when the test advances it, so no test sleeps.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Suspends until `deadline`; returns at once when it has passed.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

extension WallClock {
    /// Suspends for `duration` from now.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().adding(duration))
    }
}

/// The system's wall clock; sleeps on the continuous clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        if interval <= 0 {
            try Task.checkCancellation()
            return
        }
        try await Task.sleep(for: .seconds(interval))
    }
}

extension Date {
    /// This date moved by a `Duration`.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.secondsDouble)
    }

    /// The time from `earlier` to this date, as a `Duration` (negative when `earlier` is later).
    public func duration(since earlier: Date) -> Duration {
        .seconds(timeIntervalSince(earlier))
    }
}
