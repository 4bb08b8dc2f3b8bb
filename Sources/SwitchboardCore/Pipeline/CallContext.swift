import Foundation
import SwitchboardJournal

/// Who a call is for and how long it may take: what the pipeline journals with the call and
/// enforces on it.
public struct CallContext: Sendable {
    /// The call's id, as journaled and returned to callers (`x-request-id`).
    public var requestID: String
    public var origin: CallOrigin
    public var userID: String?
    public var tenantID: String?
    /// The virtual key's id (never its secret).
    public var keyID: String?
    /// An agent's session and the step within it.
    public var sessionID: String?
    public var step: Int?
    /// W3C trace context.
    public var traceID: String?
    public var spanID: String?
    /// When the call must be over, retries and fallbacks included; the default is now plus
    /// `resilience.timeouts.total`.
    public var deadline: Date?
    /// The request's `x-switchboard-cache-control`.
    public var cacheControl: CacheControl?
    /// The caller's address, which anonymous callers are limited by.
    public var clientAddress: String?
    /// The caller's own limits (a virtual key's), instead of the configured ones.
    public var limits: SwitchboardConfiguration.Limits.UserLimits?
    /// The caller's own budget (a virtual key's), instead of the configured one for its user.
    public var budget: SwitchboardConfiguration.Budgets.Limit?
    /// Called with where the caller stands against its limits, as soon as that is known (also when
    /// the call is refused): the gateway's rate-limit headers.
    public var onLimits: (@Sendable (LimitStatus) -> Void)?
    /// Called with the call's journal record (cost, tokens, attempts) as the call ends, before
    /// the answer is released: how the gateway learns the cost for `x-switchboard-cost-usd`.
    public var onRecord: (@Sendable (CallRecord) -> Void)?

    public init(
        requestID: String = CallContext.newRequestID(),
        origin: CallOrigin = .library,
        userID: String? = nil,
        tenantID: String? = nil,
        keyID: String? = nil,
        sessionID: String? = nil,
        step: Int? = nil,
        traceID: String? = nil,
        spanID: String? = nil,
        deadline: Date? = nil,
        cacheControl: CacheControl? = nil,
        clientAddress: String? = nil,
        limits: SwitchboardConfiguration.Limits.UserLimits? = nil,
        onLimits: (@Sendable (LimitStatus) -> Void)? = nil,
        onRecord: (@Sendable (CallRecord) -> Void)? = nil
    ) {
        self.requestID = requestID
        self.origin = origin
        self.userID = userID
        self.tenantID = tenantID
        self.keyID = keyID
        self.sessionID = sessionID
        self.step = step
        self.traceID = traceID
        self.spanID = spanID
        self.deadline = deadline
        self.cacheControl = cacheControl
        self.clientAddress = clientAddress
        self.limits = limits
        self.onLimits = onLimits
        self.onRecord = onRecord
    }

    /// `req_` and 24 random hex digits.
    public static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        return newRequestID(using: &generator)
    }

    public static func newRequestID(using generator: inout some RandomNumberGenerator) -> String {
        let high = String(generator.next() >> 32, radix: 16)
        let low = String(generator.next(), radix: 16)
        let digits =
            String(repeating: "0", count: 8 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
        return "req_" + digits
    }
}
