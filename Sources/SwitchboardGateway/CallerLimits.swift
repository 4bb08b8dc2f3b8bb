import Foundation
import SwitchboardCore
import SwitchboardWire

/// The caller's own limits as a provider would report them, so that clients written for the
/// provider (and the official SDKs' retry logic) read the gateway's answers the same way.
enum CallerLimits {
    /// OpenAI endpoint: `x-ratelimit-*` with Go-duration resets; Anthropic endpoint:
    /// `anthropic-ratelimit-*` with RFC 3339 resets. Both: the IETF `RateLimit-*` fields for the
    /// tighter of the two limits.
    static func headers(_ status: LimitStatus, format: APIFormat, now: Date) -> [HeaderField] {
        let requests = window(status.requests)
        let tokens = window(status.tokens)
        let snapshot = RateLimitSnapshot(requests: requests, tokens: tokens)
        var fields =
            switch format {
            case .openAI: RateLimitHeaders.openAIFields(snapshot)
            case .anthropic: RateLimitHeaders.anthropicFields(snapshot, now: now)
            }
        fields += RateLimitHeaders.standardFields(tighter(status) ? tokens : requests)
        return fields
    }

    /// Whether the token limit binds harder than the request limit: refused, or less of it left.
    static func tighter(_ status: LimitStatus) -> Bool {
        if status.requests.allowed != status.tokens.allowed { return !status.tokens.allowed }
        func share(_ decision: GCRA.Decision) -> Double {
            Double(decision.remaining) / Double(max(decision.limit, 1))
        }
        return share(status.tokens) < share(status.requests)
    }

    static func window(_ decision: GCRA.Decision) -> RateLimitWindow {
        RateLimitWindow(limit: decision.limit, remaining: decision.remaining, resetAfter: decision.resetAfter)
    }

    /// Nano-dollars as dollars with nine decimals: 1,234,567 → `0.001234567`.
    static func dollars(_ nanoUSD: Int64) -> String {
        let magnitude = nanoUSD.magnitude
        let fraction = String(magnitude % 1_000_000_000)
        return (nanoUSD < 0 ? "-" : "") + "\(magnitude / 1_000_000_000)."
            + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
