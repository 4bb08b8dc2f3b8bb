import Foundation

/// The circuit breaker of one provider model, as a value: it takes `now` and outcomes and returns
/// decisions and transitions. The pipeline keeps it in the state store, so every process on the
/// host trips and recovers as one.
///
/// Closed: calls flow, outcomes are counted over a sliding `window` in ten buckets. When at least
/// `minCalls` calls in the window failed at `failureRatio` or more, it opens. Open: calls are
/// skipped (routing falls back) until `openFor` has passed. Then one probe is let through
/// (half-open): success closes it, failure opens it again. A probe that never reports back (its
/// process died) is replaced after another `openFor`.
public struct CircuitBreaker: Sendable, Equatable, Codable {
    public enum Phase: String, Sendable, Codable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    /// A change of phase, recorded as a journal event.
    public struct Transition: Sendable, Equatable {
        public var from: Phase
        public var to: Phase
        /// Calls and failures in the window when it opened.
        public var calls: Int
        public var failures: Int
        /// When the circuit lets a probe through (transitions to open only).
        public var probeAt: Date?

        public init(from: Phase, to: Phase, calls: Int, failures: Int, probeAt: Date? = nil) {
            self.from = from
            self.to = to
            self.calls = calls
            self.failures = failures
            self.probeAt = probeAt
        }
    }

    public struct Settings: Sendable, Equatable {
        public var window: Duration
        public var minCalls: Int
        public var failureRatio: Double
        public var openFor: Duration

        public init(
            window: Duration = .seconds(30),
            minCalls: Int = 20,
            failureRatio: Double = 0.5,
            openFor: Duration = .seconds(15)
        ) {
            self.window = window
            self.minCalls = minCalls
            self.failureRatio = failureRatio
            self.openFor = openFor
        }

        public init(_ configuration: SwitchboardConfiguration.Resilience.Breaker) {
            self.init(
                window: configuration.window,
                minCalls: configuration.minCalls,
                failureRatio: configuration.failureRatio,
                openFor: configuration.openFor
            )
        }

        var bucketLength: TimeInterval { max(window.secondsDouble / 10, 0.001) }
    }

    private struct Bucket: Sendable, Equatable, Codable {
        var index: Int64
        var calls = 0
        var failures = 0
    }

    public private(set) var phase: Phase = .closed
    /// When the open phase ends (open), or when the probe was let through (half-open).
    public private(set) var since: Date?
    private var buckets: [Bucket] = []

    public init() {}

    /// Whether a call may go to this model now. Letting the half-open probe through is a change
    /// of state, so this is `mutating`.
    public mutating func permit(now: Date, settings: Settings) -> (allowed: Bool, transition: Transition?) {
        switch phase {
        case .closed:
            return (true, nil)
        case .open:
            guard let until = since, now >= until else { return (false, nil) }
            phase = .halfOpen
            since = now
            return (true, Transition(from: .open, to: .halfOpen, calls: 0, failures: 0))
        case .halfOpen:
            // One probe at a time; a probe silent for `openFor` is presumed lost.
            guard let probeStarted = since, now.timeIntervalSince(probeStarted) >= settings.openFor.secondsDouble else {
                return (false, nil)
            }
            since = now
            return (true, nil)
        }
    }

    /// When a skipped call could try again: the end of the open phase (`nil` unless open).
    public func retryAfter(now: Date) -> Duration? {
        guard phase == .open, let since else { return nil }
        return .seconds(max(0, since.timeIntervalSince(now)))
    }

    /// Counts an outcome and returns the transition it caused, if any.
    /// - Parameter failed: whether the outcome counts against the provider
    ///   (``AttemptFailure/countsAgainstProvider``).
    public mutating func record(failed: Bool, now: Date, settings: Settings) -> Transition? {
        switch phase {
        case .halfOpen:
            if failed {
                phase = .open
                since = now.addingTimeInterval(settings.openFor.secondsDouble)
                buckets = []
                return Transition(from: .halfOpen, to: .open, calls: 1, failures: 1, probeAt: since)
            }
            phase = .closed
            since = nil
            buckets = []
            return Transition(from: .halfOpen, to: .closed, calls: 1, failures: 0)
        case .open:
            // An answer from a call sent before it opened changes nothing.
            return nil
        case .closed:
            let index = Int64((now.timeIntervalSince1970 / settings.bucketLength).rounded(.down))
            buckets.removeAll { $0.index <= index - 10 }
            if buckets.last?.index != index { buckets.append(Bucket(index: index)) }
            buckets[buckets.count - 1].calls += 1
            if failed { buckets[buckets.count - 1].failures += 1 }
            let (calls, failures) = counts
            guard calls >= settings.minCalls, Double(failures) >= settings.failureRatio * Double(calls) else {
                return nil
            }
            phase = .open
            since = now.addingTimeInterval(settings.openFor.secondsDouble)
            buckets = []
            return Transition(from: .closed, to: .open, calls: calls, failures: failures, probeAt: since)
        }
    }

    /// Calls and failures counted in the window.
    public var counts: (calls: Int, failures: Int) {
        buckets.reduce((0, 0)) { ($0.0 + $1.calls, $0.1 + $1.failures) }
    }
}
