import Foundation
import Synchronization

/// The per-process retry budget (Google SRE book, ch. 22): retries may add at most `ratio` of the
/// first attempts, plus a floor of `minPerSecond`, over a sliding window, so an outage cannot
/// multiply the load on a struggling provider.
///
/// A value type: it takes `now` and answers; ``SharedRetryBudget`` holds one behind a lock.
public struct RetryBudget: Sendable, Equatable {
    public var ratio: Double
    public var minPerSecond: Double
    /// The window both counts are kept over. The default is 10 s, in 1 s buckets.
    public let window: Duration

    private struct Bucket: Sendable, Equatable {
        var second: Int64
        var requests = 0
        var retries = 0
    }

    private var buckets: [Bucket] = []

    public init(ratio: Double = 0.1, minPerSecond: Double = 1, window: Duration = .seconds(10)) {
        self.ratio = ratio
        self.minPerSecond = minPerSecond
        self.window = window
    }

    /// Counts a first attempt.
    public mutating func recordRequest(now: Date) {
        update(now) { $0.requests += 1 }
    }

    /// Takes one retry from the budget if there is room.
    /// - Returns: false when the budget is spent: do not retry.
    public mutating func tryRetry(now: Date) -> Bool {
        prune(now)
        let requests = buckets.reduce(0) { $0 + $1.requests }
        let retries = buckets.reduce(0) { $0 + $1.retries }
        let allowed = ratio * Double(requests) + minPerSecond * window.secondsDouble
        guard Double(retries) + 1 <= allowed else { return false }
        update(now) { $0.retries += 1 }
        return true
    }

    /// Retries still allowed now.
    public func available(now: Date) -> Int {
        var copy = self
        copy.prune(now)
        let requests = copy.buckets.reduce(0) { $0 + $1.requests }
        let retries = copy.buckets.reduce(0) { $0 + $1.retries }
        return max(0, Int((ratio * Double(requests) + minPerSecond * window.secondsDouble).rounded(.down)) - retries)
    }

    private mutating func update(_ now: Date, _ change: (inout Bucket) -> Void) {
        prune(now)
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        if buckets.last?.second != second { buckets.append(Bucket(second: second)) }
        change(&buckets[buckets.count - 1])
    }

    private mutating func prune(_ now: Date) {
        let oldest = Int64(now.timeIntervalSince1970.rounded(.down)) - Int64(window.secondsDouble.rounded(.up)) + 1
        buckets.removeAll { $0.second < oldest }
    }
}

/// One process's ``RetryBudget`` behind a lock.
public final class SharedRetryBudget: Sendable {
    private let budget: Mutex<RetryBudget>

    public init(_ budget: RetryBudget) { self.budget = Mutex(budget) }

    public func recordRequest(now: Date) { budget.withLock { $0.recordRequest(now: now) } }
    public func tryRetry(now: Date) -> Bool { budget.withLock { $0.tryRetry(now: now) } }
    public func available(now: Date) -> Int { budget.withLock { $0.available(now: now) } }
}
