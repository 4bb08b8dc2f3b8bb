import Foundation
import SwitchboardWire

/// How an attempt failed, as the retry policy and the circuit breaker see it.
public enum AttemptFailure: Sendable, Equatable {
    /// The provider answered with an error status.
    /// - Parameters:
    ///   - errorType: the error's `type`/`code` when the body named one (`insufficient_quota`).
    ///   - retryAfter: from `retry-after-ms`, else `retry-after`.
    ///   - shouldRetry: `x-should-retry`, which overrides the status either way.
    case status(Int, errorType: String?, retryAfter: Duration?, shouldRetry: Bool?)
    /// No answer: the connection failed or was reset, a timeout passed, or the provider sent
    /// something that is not its API's answer.
    case transport(TransportFailure)
    /// A stream broke (an error event or a cut connection) before its first token reached the caller.
    case streamBroken(status: Int?, message: String)

    /// The journal's `error_class` for the attempt.
    public var errorClass: String {
        switch self {
        case .status(let status, let type, _, _):
            if let type, !type.isEmpty { return type }
            return "http_\(status)"
        case .transport(let failure): return failure.rawValue
        case .streamBroken: return "stream_broken"
        }
    }

    /// The HTTP status, when the provider answered with one.
    public var httpStatus: Int? {
        switch self {
        case .status(let status, _, _, _): status
        case .transport: nil
        case .streamBroken(let status, _): status
        }
    }

    /// Whether the failure says the provider is unhealthy (for the circuit breaker): 5xx, 529 and
    /// transport failures count; 429 (rate limits are pacing's business) and other 4xx do not.
    public var countsAgainstProvider: Bool {
        switch self {
        case .status(let status, _, _, _): status >= 500
        case .transport(let failure): failure != .cancelled
        case .streamBroken: true
        }
    }

    /// The provider refused the key rather than the request: another key of the pool may serve.
    public var refusesKey: Bool {
        guard case .status(let status, let errorType, _, _) = self else { return false }
        return status == 401 || status == 403 || errorType == "insufficient_quota"
    }
}

/// A failure with no HTTP answer.
public enum TransportFailure: String, Sendable, Equatable {
    case connect = "connect_error"
    case reset = "connection_reset"
    case firstByteTimeout = "first_byte_timeout"
    case idleTimeout = "idle_timeout"
    case deadline = "deadline_exceeded"
    case invalidResponse = "invalid_response"
    case cancelled = "cancelled"
}

/// What to do after a failed attempt.
public enum RetryDecision: Sendable, Equatable {
    /// Wait `delay`, then try the same target again.
    case retry(after: Duration)
    /// Give this target up and fall back to the next one (if any).
    case nextTarget(reason: String)
    /// Return the failure to the caller: the request itself is at fault, and no target will take it.
    case stop(reason: String)
}

/// Exponential backoff with full jitter that honours the provider's retry signals.
///
/// - Attempts include the first call: `maxAttempts: 4` is one call and up to three retries.
/// - Retried: 408, 409, 429, 5xx, 529 and transport failures. Never retried: other 4xx, and a
///   429 whose error is `insufficient_quota` (that one moves to the next target, as do 401, 403
///   and 404, which another provider may not share). `x-should-retry` overrides the status
///   either way, as the official SDKs read it.
/// - The delay before retry n is uniform in [0, min(cap, base·2ⁿ⁻¹)] (AWS "full jitter"). When the
///   answer advertised `retry-after-ms` / `retry-after`, the delay is that plus up to 10 % (at most
///   1 s) of spread, so it is **never** earlier than advertised; an advertised delay over
///   `retryAfterCap` moves to the next target instead of waiting.
/// - A retry that would pass the call's deadline moves to the next target.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var base: Duration
    public var cap: Duration
    public var retryAfterCap: Duration

    public init(
        maxAttempts: Int = 4,
        base: Duration = .milliseconds(500),
        cap: Duration = .seconds(8),
        retryAfterCap: Duration = .seconds(60)
    ) {
        self.maxAttempts = maxAttempts
        self.base = base
        self.cap = cap
        self.retryAfterCap = retryAfterCap
    }

    public init(_ configuration: SwitchboardConfiguration.Resilience.Retry) {
        self.init(
            maxAttempts: configuration.maxAttempts,
            base: configuration.base,
            cap: configuration.cap,
            retryAfterCap: configuration.retryAfterCap
        )
    }

    /// The largest backoff before retry number `retry` (1 for the first retry): min(cap, base·2ʳ⁻¹).
    public func ceiling(retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let scaled = base.secondsDouble * Double(1 << exponent)
        return .seconds(min(cap.secondsDouble, scaled))
    }

    /// Decides what follows a failed attempt.
    /// - Parameters:
    ///   - attempt: the attempt that failed on this target, 1 for the first.
    ///   - timeLeft: until the call's deadline.
    public func decide(
        after failure: AttemptFailure,
        attempt: Int,
        timeLeft: Duration,
        random: inout some RandomNumberGenerator
    ) -> RetryDecision {
        var retryAfter: Duration?
        switch failure {
        case .status(let status, let errorType, let advertised, let shouldRetry):
            retryAfter = advertised
            if errorType == "insufficient_quota" {
                return .nextTarget(reason: "the key's quota is exhausted (insufficient_quota)")
            }
            if shouldRetry == false {
                return status >= 500 || status == 429
                    ? .nextTarget(reason: "the provider answered \(status) with x-should-retry: false")
                    : .stop(reason: "the provider answered \(status) with x-should-retry: false")
            }
            if shouldRetry != true, !Self.isRetryable(status: status) {
                return [401, 403, 404].contains(status)
                    ? .nextTarget(reason: "the provider answered \(status)")
                    : .stop(reason: "the provider answered \(status), which retrying cannot fix")
            }
        case .transport(.cancelled):
            return .stop(reason: "the caller went away")
        case .transport, .streamBroken:
            break
        }
        if attempt >= maxAttempts {
            return .nextTarget(reason: "\(attempt) attempts failed (max_attempts \(maxAttempts))")
        }
        let delay: Duration
        if let retryAfter {
            if retryAfter > retryAfterCap {
                return .nextTarget(
                    reason:
                        "the provider asked to wait \(GoDuration.format(retryAfter)), over retry_after_cap \(GoDuration.format(retryAfterCap))"
                )
            }
            let spread = min(retryAfter.secondsDouble * 0.1, 1)
            delay = retryAfter + .seconds(spread > 0 ? Double.random(in: 0...spread, using: &random) : 0)
        } else {
            let ceiling = ceiling(retry: attempt).secondsDouble
            delay = .seconds(ceiling > 0 ? Double.random(in: 0...ceiling, using: &random) : 0)
        }
        if delay >= timeLeft {
            return .nextTarget(reason: "waiting \(GoDuration.format(delay)) would pass the call's deadline")
        }
        return .retry(after: delay)
    }

    /// 408, 409, 429, 5xx and 529: what clears by waiting.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 409 || status == 429 || status >= 500
    }
}
