import Foundation
import SwitchboardWire

/// What the pacer knows about one (provider, key, model): the provider's last report of its
/// rate-limit windows, and the calls in flight against them. A value type kept in the state
/// store, so every process on the host paces from the same numbers.
///
/// The model is deliberately conservative: until a window's reported reset, what is left is the
/// reported remaining minus the estimates of every call in flight (whether or not the provider
/// already counted them); at the reset the window is full again. Providers refill continuously,
/// so this never over-sends, and loses little: a window that runs dry is full again at its reset.
public struct Headroom: Sendable, Equatable, Codable {
    public enum Dimension: String, Sendable, Codable, CaseIterable {
        case requests, tokens
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"

        func need(_ estimate: TokenEstimate) -> Int {
            switch self {
            case .requests: 1
            case .tokens: estimate.total
            case .inputTokens: estimate.input
            case .outputTokens: estimate.output
            }
        }

        func held(_ lease: Lease) -> Int {
            switch self {
            case .requests: lease.calls
            case .tokens: lease.input + lease.output
            case .inputTokens: lease.input
            case .outputTokens: lease.output
            }
        }
    }

    public struct Window: Sendable, Equatable, Codable {
        public var limit: Int?
        public var remaining: Int
        public var resetAt: Date
    }

    /// The calls in flight whose leases end together, summed: the state stays a few bytes however
    /// many calls are in flight, so every process can read and write it on each attempt.
    struct Lease: Sendable, Equatable, Codable {
        var expiresAt: Date
        var calls = 0
        var input = 0
        var output = 0
    }

    /// What pacing decided for one attempt.
    public enum Decision: Sendable, Equatable {
        /// Send now; the call's estimate is reserved until ``Headroom/release(_:reservedAt:)``.
        case send
        /// Not enough is left: wait until the given time (a reset), or route on.
        case wait(until: Date, reason: String)
    }

    public private(set) var windows: [Dimension: Window] = [:]
    /// When the provider last reported; `nil` before the first answer.
    public private(set) var reportedAt: Date?
    /// The provider's answers carry no rate-limit headers: nothing to pace by.
    public private(set) var silent = false
    /// A 429's `retry-after`: nothing is sent on this key and model before then.
    public private(set) var blockedUntil: Date?
    /// The provider refused the key itself (401, 403, an exhausted quota): the pool passes it
    /// over until then.
    public private(set) var refusedUntil: Date?
    public private(set) var refusal: String?
    /// How long a refused key is passed over before it is tried again.
    public static let refusalPause: Duration = .seconds(300)
    private var leases: [Lease] = []

    public init() {}

    /// How long an unanswered reservation holds before it is presumed lost (its process died).
    public static let reservationLease: Duration = .seconds(300)
    /// Reservations made within this span share one lease.
    static let leaseGranularity: TimeInterval = 10
    /// How long a call waits before looking again when only answers in flight can tell more.
    public static let recheckInterval: Duration = .milliseconds(50)

    /// Calls in flight.
    public var inFlight: Int { leases.reduce(0) { $0 + $1.calls } }

    /// When a reservation made at `reservedAt` is presumed lost: its lease's end.
    static func leaseEnd(reservedAt: Date) -> Date {
        let end = reservedAt.adding(reservationLease).timeIntervalSince1970
        return Date(timeIntervalSince1970: (end / leaseGranularity).rounded(.up) * leaseGranularity)
    }

    /// What is left in a window now, after the calls in flight.
    public func available(_ dimension: Dimension, now: Date) -> Int? {
        guard let window = windows[dimension] else { return nil }
        let base = now >= window.resetAt ? (window.limit ?? Int.max / 2) : window.remaining
        let reserved = leases.filter { $0.expiresAt > now }.reduce(0) { $0 + dimension.held($1) }
        return base - reserved
    }

    /// The share of the tightest window left now, 0…1 (1 when nothing is known): how the key pool
    /// ranks keys.
    public func share(now: Date) -> Double {
        if silent || reportedAt == nil { return inFlight == 0 ? 1 : 0.5 }
        var share = 1.0
        for (dimension, window) in windows {
            guard let available = available(dimension, now: now), let limit = window.limit, limit > 0 else { continue }
            share = min(share, Double(max(0, available)) / Double(limit))
        }
        return share
    }

    /// Decides whether a call with `estimate` may be sent now, and if so reserves it; release it
    /// with the same estimate and `now`.
    /// - Parameter paced: with pacing off, every call is sent (and still counted in flight).
    public mutating func reserve(estimate: TokenEstimate, now: Date, paced: Bool = true) -> Decision {
        leases.removeAll { $0.expiresAt <= now }
        if !paced {
            hold(estimate, now: now)
            return .send
        }
        if let refusedUntil, refusedUntil > now {
            return .wait(until: refusedUntil, reason: "the provider refused this key (\(refusal ?? "refused"))")
        }
        if let blockedUntil, blockedUntil > now {
            return .wait(until: blockedUntil, reason: "the provider answered 429 and asked to wait until then")
        }
        if reportedAt == nil, !silent, inFlight > 0 {
            return .wait(
                until: now.adding(Self.recheckInterval),
                reason: "the first call on this key is learning its rate limits"
            )
        }
        if reportedAt != nil, !silent {
            var wake: Date?
            var reasons: [String] = []
            for dimension in Dimension.allCases {
                guard let window = windows[dimension], let available = available(dimension, now: now) else { continue }
                let need = dimension.need(estimate)
                if need <= available { continue }
                // A call larger than the whole window can never fit: let the provider judge it.
                if let limit = window.limit, need > limit { continue }
                let until = now < window.resetAt ? window.resetAt : now.adding(Self.recheckInterval)
                wake = max(wake ?? until, until)
                reasons.append("\(dimension.rawValue): \(max(0, available)) left, \(need) needed")
            }
            if let wake {
                return .wait(until: wake, reason: reasons.joined(separator: "; "))
            }
        }
        hold(estimate, now: now)
        return .send
    }

    private mutating func hold(_ estimate: TokenEstimate, now: Date) {
        let end = Self.leaseEnd(reservedAt: now)
        if let index = leases.firstIndex(where: { $0.expiresAt == end }) {
            leases[index].calls += 1
            leases[index].input += estimate.input
            leases[index].output += estimate.output
        } else {
            leases.append(Lease(expiresAt: end, calls: 1, input: estimate.input, output: estimate.output))
        }
    }

    /// Marks the key refused by the provider (`reason`: what it answered) for ``refusalPause``.
    public mutating func refuse(_ reason: String, now: Date) {
        refusedUntil = now.adding(Self.refusalPause)
        refusal = reason
    }

    /// Ends a reservation made at `reservedAt` (the attempt was answered, failed or was
    /// abandoned); one whose lease has already ended is gone already.
    public mutating func release(_ estimate: TokenEstimate, reservedAt: Date) {
        let end = Self.leaseEnd(reservedAt: reservedAt)
        guard let index = leases.firstIndex(where: { $0.expiresAt == end }) else { return }
        leases[index].calls -= 1
        leases[index].input -= estimate.input
        leases[index].output -= estimate.output
        if leases[index].calls <= 0 { leases.remove(at: index) }
    }

    /// Takes in what an answer's headers reported.
    /// - Parameter status: the answer's HTTP status; a 429 with a retry delay blocks the key and model.
    public mutating func report(_ snapshot: RateLimitSnapshot, status: Int, receivedAt now: Date) {
        let reported: [(Dimension, RateLimitWindow?)] = [
            (.requests, snapshot.requests), (.tokens, snapshot.tokens), (.inputTokens, snapshot.inputTokens),
            (.outputTokens, snapshot.outputTokens),
        ]
        var any = false
        for (dimension, window) in reported {
            guard let window, let remaining = window.remaining else { continue }
            any = true
            let resetAt = now.adding(window.resetAfter ?? .seconds(60))
            // Answers arrive out of order. Every call the provider admits moves its window's
            // refill further out, so a report with more left and an earlier reset than the one
            // held is older news: keep the newer one.
            if let held = windows[dimension], now < held.resetAt, resetAt < held.resetAt, remaining > held.remaining {
                continue
            }
            windows[dimension] = Window(limit: window.limit, remaining: remaining, resetAt: resetAt)
        }
        // Anthropic's `tokens` window is the sum of the input and output windows, which are paced
        // separately and exactly.
        if windows[.inputTokens] != nil, windows[.outputTokens] != nil { windows[.tokens] = nil }
        if any {
            reportedAt = now
            silent = false
        } else if (200..<300).contains(status), reportedAt == nil {
            silent = true
        }
        if status == 429, let retryAfter = snapshot.retryAfter {
            blockedUntil = max(blockedUntil ?? now, now.adding(retryAfter))
        }
    }
}
