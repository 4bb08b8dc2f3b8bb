import Foundation

/// Where a caller stands against its per-minute limits: what the gateway sends back as
/// `x-ratelimit-*` / `anthropic-ratelimit-*` and `RateLimit-*`.
public struct LimitStatus: Sendable, Equatable {
    /// `user ada` or `ip 203.0.113.7`.
    public var subject: String
    public var requests: GCRA.Decision
    public var tokens: GCRA.Decision
    /// Shadow mode: counted, never refused.
    public var shadow: Bool

    /// Both limits allowed the call.
    public var allowed: Bool { requests.allowed && tokens.allowed }
}

extension LimitStatus {
    /// - Parameter subjectKey: the limiter's key for the caller, `user:ada` or `ip:203.0.113.7`.
    init(subjectKey: String, requests: GCRA.Decision, tokens: GCRA.Decision, shadow: Bool) {
        self.init(
            subject: String(
                decoding: subjectKey.utf8.map { $0 == UInt8(ascii: ":") ? UInt8(ascii: " ") : $0 },
                as: UTF8.self
            ),
            requests: requests,
            tokens: tokens,
            shadow: shadow
        )
    }
}

/// Per-user (per-IP when anonymous) limits on requests and tokens per minute.
protocol RateLimiting: Sendable {
    /// Takes one request and `tokens` (the call's estimate) from `subject`'s limits. When either
    /// refuses, nothing is taken (unless `shadow`, which reports and lets the call through).
    func admit(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        tokens: Int,
        shadow: Bool,
        now: Date
    ) async throws -> LimitStatus

    /// Gives back what the call's estimate overcharged (or takes what it undercharged).
    func settle(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        charged: Int,
        used: Int,
        now: Date
    ) async throws
}

/// GCRA limits over the state store (memory or SQLite), so every process on the host counts
/// against the same limits, on the host's clock.
final class RateLimiter: RateLimiting {
    static let period: Duration = .seconds(60)
    let store: any StateStore

    init(store: any StateStore) {
        self.store = store
    }

    /// Takes one request and `tokens` (the call's estimate) from `subject`'s limits. When either
    /// refuses, nothing is taken (unless `shadow`, which takes and reports).
    func admit(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        tokens: Int,
        shadow: Bool,
        now: Date
    ) async throws -> LimitStatus {
        let period = Self.period
        let requests = try await store.update("limit/\(subject)/requests", as: GCRA.self) { state in
            var limiter = state ?? GCRA()
            let decision = limiter.take(1, limit: limits.rpm, period: period, now: now)
            state = limiter
            return decision
        }
        let tokenDecision = try await store.update("limit/\(subject)/tokens", as: GCRA.self) { state in
            var limiter = state ?? GCRA()
            // A refused request takes no tokens; shadow mode counts what was asked.
            guard requests.allowed || shadow else {
                return limiter.take(0, limit: limits.tpm, period: period, now: now)
            }
            let decision = limiter.take(tokens, limit: limits.tpm, period: period, now: now)
            state = limiter
            return decision
        }
        if requests.allowed, !tokenDecision.allowed, !shadow {
            try await store.update("limit/\(subject)/requests", as: GCRA.self) { state in
                state?.adjust(by: 1, limit: limits.rpm, period: period, now: now)
            }
        }
        return LimitStatus(
            subjectKey: subject,
            requests: requests,
            tokens: tokenDecision,
            shadow: shadow
        )
    }

    /// Gives back what the call's estimate overcharged (or takes what it undercharged).
    func settle(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        charged: Int,
        used: Int,
        now: Date
    ) async throws {
        guard charged != used else { return }
        let period = Self.period
        try await store.update("limit/\(subject)/tokens", as: GCRA.self) { state in
            state?.adjust(by: charged - used, limit: limits.tpm, period: period, now: now)
        }
    }
}
