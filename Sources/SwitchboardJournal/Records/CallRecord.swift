import Foundation
import SwitchboardWire

/// Where a call entered Switchboard.
public enum CallOrigin: String, Sendable, CaseIterable, Codable {
    case gateway
    case library
    case playground
}

/// How a call ended, as the journal's `outcome` column records it.
public enum CallOutcome: String, Sendable, CaseIterable, Codable {
    /// The provider answered (possibly after retries or a fallback).
    case ok
    /// The call failed: the provider errors outlasted the retries, or a bad request.
    case error
    /// Input moderation blocked it.
    case blocked
    /// Served from the exact-match cache.
    case cached
    /// Refused by the caller's rate or token limit.
    case rateLimited = "rate_limited"
    /// Refused by the caller's budget.
    case budget
    /// The output failed validation after the repairs.
    case invalidOutput = "invalid_output"
}

/// The exact-match cache's verdict on a call.
public enum CacheOutcome: String, Sendable, CaseIterable, Codable {
    case hit
    case miss
    case bypass
    case joined
}

/// Token counts of a call, normalised across providers: `inputTokens` are uncached input,
/// `cachedInputTokens` prompt-cache reads, the cache-write counts are Anthropic's (and OpenAI's
/// GPT-5.6+) writes by TTL, and `reasoningTokens` are part of `outputTokens`.
public struct TokenCounts: Sendable, Equatable, Codable {
    public var input = 0
    public var cachedInput = 0
    public var cacheWrite5m = 0
    public var cacheWrite1h = 0
    public var output = 0
    public var reasoning = 0

    public init(
        input: Int = 0,
        cachedInput: Int = 0,
        cacheWrite5m: Int = 0,
        cacheWrite1h: Int = 0,
        output: Int = 0,
        reasoning: Int = 0
    ) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite5m = cacheWrite5m
        self.cacheWrite1h = cacheWrite1h
        self.output = output
        self.reasoning = reasoning
    }

    /// Every input token, cached or not.
    public var totalInput: Int { input + cachedInput + cacheWrite5m + cacheWrite1h }

    /// Both counts together (a call that made several answers, such as repairs).
    public static func + (left: TokenCounts, right: TokenCounts) -> TokenCounts {
        TokenCounts(
            input: left.input + right.input,
            cachedInput: left.cachedInput + right.cachedInput,
            cacheWrite5m: left.cacheWrite5m + right.cacheWrite5m,
            cacheWrite1h: left.cacheWrite1h + right.cacheWrite1h,
            output: left.output + right.output,
            reasoning: left.reasoning + right.reasoning
        )
    }
}

/// One call through Switchboard: what the journal records in `calls`, with its attempts and events.
public struct CallRecord: Sendable, Equatable {
    public var requestID: String
    public var startedAt: Date
    public var endedAt: Date
    public var userID: String?
    public var tenantID: String?
    /// The virtual key's id (never the secret).
    public var keyID: String?
    public var sessionID: String?
    public var step: Int?
    public var traceID: String?
    public var spanID: String?
    public var origin: CallOrigin
    public var route: String?
    public var provider: String?
    public var modelRequested: String?
    public var modelUsed: String?
    public var stream: Bool
    public var outcome: CallOutcome
    public var httpStatus: Int?
    public var errorClass: String?
    public var errorMessage: String?
    public var latencyMilliseconds: Double?
    public var timeToFirstTokenMilliseconds: Double?
    public var tokens: TokenCounts
    /// `nil` when the model's price is unknown: never silently zero.
    public var costNanoUSD: Int64?
    public var savedNanoUSD: Int64
    public var cache: CacheOutcome?
    /// Time spent waiting for provider headroom.
    public var pacedMilliseconds: Double
    /// The call was answered by a fallback route target.
    public var fellBack: Bool
    public var moderation: JSONValue?
    public var validation: JSONValue?
    /// The headroom the call saw when it was sent.
    public var headroom: JSONValue?
    /// The request as received, in the caller's format; redacted at write time.
    public var requestBody: String?
    /// The response or error body as delivered; redacted at write time.
    public var responseBody: String?
    /// What full-text search indexes: the caller's last message and the answer (system prompts,
    /// which repeat on every call, are left out). The error message is always indexed too.
    public var searchText: String?
    public var attempts: [AttemptRecord]
    public var events: [EventRecord]

    public init(
        requestID: String,
        startedAt: Date,
        endedAt: Date,
        origin: CallOrigin,
        outcome: CallOutcome,
        stream: Bool = false,
        userID: String? = nil,
        tenantID: String? = nil,
        keyID: String? = nil,
        sessionID: String? = nil,
        step: Int? = nil,
        traceID: String? = nil,
        spanID: String? = nil,
        route: String? = nil,
        provider: String? = nil,
        modelRequested: String? = nil,
        modelUsed: String? = nil,
        httpStatus: Int? = nil,
        errorClass: String? = nil,
        errorMessage: String? = nil,
        latencyMilliseconds: Double? = nil,
        timeToFirstTokenMilliseconds: Double? = nil,
        tokens: TokenCounts = TokenCounts(),
        costNanoUSD: Int64? = 0,
        savedNanoUSD: Int64 = 0,
        cache: CacheOutcome? = nil,
        pacedMilliseconds: Double = 0,
        fellBack: Bool = false,
        moderation: JSONValue? = nil,
        validation: JSONValue? = nil,
        headroom: JSONValue? = nil,
        requestBody: String? = nil,
        responseBody: String? = nil,
        searchText: String? = nil,
        attempts: [AttemptRecord] = [],
        events: [EventRecord] = []
    ) {
        self.requestID = requestID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.origin = origin
        self.outcome = outcome
        self.stream = stream
        self.userID = userID
        self.tenantID = tenantID
        self.keyID = keyID
        self.sessionID = sessionID
        self.step = step
        self.traceID = traceID
        self.spanID = spanID
        self.route = route
        self.provider = provider
        self.modelRequested = modelRequested
        self.modelUsed = modelUsed
        self.httpStatus = httpStatus
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.latencyMilliseconds = latencyMilliseconds
        self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
        self.tokens = tokens
        self.costNanoUSD = costNanoUSD
        self.savedNanoUSD = savedNanoUSD
        self.cache = cache
        self.pacedMilliseconds = pacedMilliseconds
        self.fellBack = fellBack
        self.moderation = moderation
        self.validation = validation
        self.headroom = headroom
        self.requestBody = requestBody
        self.responseBody = responseBody
        self.searchText = searchText
        self.attempts = attempts
        self.events = events
    }
}

/// One attempt of a call at a provider.
public struct AttemptRecord: Sendable, Equatable {
    /// 1 for the first attempt.
    public var number: Int
    public var provider: String
    public var model: String
    /// `sk-…a1b2`, never the key.
    public var keyFingerprint: String?
    public var startedAt: Date
    public var httpStatus: Int?
    public var errorClass: String?
    public var errorMessage: String?
    /// Backoff or pacing waited before this attempt.
    public var backoffMilliseconds: Double
    /// What the previous answer advertised in `retry-after-ms` / `retry-after`.
    public var retryAfterMilliseconds: Double?
    public var latencyMilliseconds: Double?
    /// The rate-limit, retry and request-id headers the provider sent, by lower-cased name (the
    /// families of ``HeaderField/keptWithAttempt(_:)``; the journal stores no other).
    public var rateLimitHeaders: [String: String]
    /// The provider's own id of this request (`x-request-id`, Anthropic's `request-id`): what its
    /// support asks for about a failure.
    public var providerRequestID: String? { rateLimitHeaders["x-request-id"] ?? rateLimitHeaders["request-id"] }
    /// Those headers as the pipeline read them, for the gateway's metrics. Not journaled (the
    /// headers are), so nil in records read back, and not compared: it only repeats the headers.
    public var rateLimits: RateLimitSnapshot? {
        get { parsed.snapshot }
        set { parsed.snapshot = newValue }
    }
    private var parsed = Uncompared()

    /// Equal to any other, so that a record equals itself read back from the journal.
    private struct Uncompared: Sendable, Equatable {
        var snapshot: RateLimitSnapshot?
        static func == (_: Self, _: Self) -> Bool { true }
    }

    public init(
        number: Int,
        provider: String,
        model: String,
        keyFingerprint: String? = nil,
        startedAt: Date,
        httpStatus: Int? = nil,
        errorClass: String? = nil,
        errorMessage: String? = nil,
        backoffMilliseconds: Double = 0,
        retryAfterMilliseconds: Double? = nil,
        latencyMilliseconds: Double? = nil,
        rateLimitHeaders: [String: String] = [:],
        rateLimits: RateLimitSnapshot? = nil
    ) {
        self.number = number
        self.provider = provider
        self.model = model
        self.keyFingerprint = keyFingerprint
        self.startedAt = startedAt
        self.httpStatus = httpStatus
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.backoffMilliseconds = backoffMilliseconds
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.latencyMilliseconds = latencyMilliseconds
        self.rateLimitHeaders = rateLimitHeaders
        self.rateLimits = rateLimits
    }
}

/// Something a policy decided: a pacing wait, a breaker transition, a fallback hop, a budget warning.
public struct EventRecord: Sendable, Equatable {
    public var at: Date
    /// The call it belongs to, when it belongs to one.
    public var requestID: String?
    /// `pacing_wait`, `breaker`, `fallback`, `budget_warning`, `retry_budget`, …
    public var kind: String
    /// What it concerns: `openai/gpt-4o-mini`, `user:alice`, …
    public var scope: String
    public var detail: JSONValue?

    public init(at: Date, requestID: String? = nil, kind: String, scope: String, detail: JSONValue? = nil) {
        self.at = at
        self.requestID = requestID
        self.kind = kind
        self.scope = scope
        self.detail = detail
    }
}

/// The latest rate-limit headroom a provider reported for one (provider, key, model).
public struct HeadroomRecord: Sendable, Equatable {
    public var provider: String
    public var keyFingerprint: String
    public var model: String
    public var updatedAt: Date
    public var snapshot: RateLimitSnapshot

    public init(provider: String, keyFingerprint: String, model: String, updatedAt: Date, snapshot: RateLimitSnapshot) {
        self.provider = provider
        self.keyFingerprint = keyFingerprint
        self.model = model
        self.updatedAt = updatedAt
        self.snapshot = snapshot
    }
}
