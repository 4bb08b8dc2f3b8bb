import Foundation

/// The two API dialects Switchboard speaks to callers and providers.
public enum APIFormat: String, Sendable, Hashable, CaseIterable {
    /// OpenAI Chat Completions.
    case openAI = "openai"
    /// Anthropic Messages.
    case anthropic
}

/// An error Switchboard itself raises, rendered to callers in their provider's format.
///
/// Every code has one row in ``ErrorTable`` that fixes its HTTP status, its OpenAI `type` and
/// `code`, its Anthropic `type`, and whether `Retry-After` and `x-should-retry: true` are sent, so
/// that the official SDKs retry what clears by waiting and never retry what does not.
public struct SwitchboardError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, CaseIterable, Sendable {
            case badRequest = "bad_request"
            case unknownModel = "unknown_model"
            case notFound = "not_found"
            case bodyTooLarge = "body_too_large"
            case unauthenticated
            case permissionDenied = "permission_denied"
            case rateLimited = "rate_limited"
            case tokenLimited = "token_limited"
            case budgetExceeded = "budget_exceeded"
            case moderationBlocked = "moderation_blocked"
            case invalidOutput = "invalid_output"
            case upstreamExhausted = "upstream_exhausted"
            case upstreamUnavailable = "upstream_unavailable"
            case deadlineExceeded = "deadline_exceeded"
            case journalUnavailable = "journal_unavailable"
            case stateUnavailable = "state_unavailable"
            case shuttingDown = "shutting_down"
        }

        fileprivate let base: Base

        /// The stable snake_case name, as journaled in `error_class`.
        public var name: String { base.rawValue }
        public var description: String { base.rawValue }

        /// Malformed JSON, a missing or mistyped field, a value out of range.
        public static let badRequest = Code(base: .badRequest)
        /// The `model` names no route and no provider model this gateway serves.
        public static let unknownModel = Code(base: .unknownModel)
        /// The URL path is not an endpoint of this server.
        public static let notFound = Code(base: .notFound)
        /// The body is larger than the configured maximum.
        public static let bodyTooLarge = Code(base: .bodyTooLarge)
        /// No key, or a key that is unknown or revoked.
        public static let unauthenticated = Code(base: .unauthenticated)
        /// A valid key that may not use this model, route or endpoint.
        public static let permissionDenied = Code(base: .permissionDenied)
        /// The caller's requests-per-minute limit.
        public static let rateLimited = Code(base: .rateLimited)
        /// The caller's tokens-per-minute limit, or a request over the per-key output cap.
        public static let tokenLimited = Code(base: .tokenLimited)
        /// The caller's budget for the billing period is spent.
        public static let budgetExceeded = Code(base: .budgetExceeded)
        /// Input moderation blocked the request.
        public static let moderationBlocked = Code(base: .moderationBlocked)
        /// The model's output failed validation after the configured repairs.
        public static let invalidOutput = Code(base: .invalidOutput)
        /// Every attempt on every route failed; Switchboard already retried.
        public static let upstreamExhausted = Code(base: .upstreamExhausted)
        /// No provider can take the call now (circuits open, headroom exhausted past the deadline).
        public static let upstreamUnavailable = Code(base: .upstreamUnavailable)
        /// The call's deadline passed.
        public static let deadlineExceeded = Code(base: .deadlineExceeded)
        /// The journal cannot record the call, and calls must be recorded.
        public static let journalUnavailable = Code(base: .journalUnavailable)
        /// The shared state store (Redis) cannot be reached, and limits or budgets fail closed.
        public static let stateUnavailable = Code(base: .stateUnavailable)
        /// The server is draining for shutdown.
        public static let shuttingDown = Code(base: .shuttingDown)

        /// Every code, in table order.
        public static var allCases: [Code] { Base.allCases.map { Code(base: $0) } }

        /// The code with the given snake_case name.
        public init?(name: String) {
            guard let base = Base(rawValue: name) else { return nil }
            self.base = base
        }

        fileprivate init(base: Base) { self.base = base }
    }

    public var code: Code
    /// What happened and what to do next, for the caller.
    public var message: String
    /// The request field at fault (OpenAI's `param`), e.g. `messages[2].content`.
    public var param: String?
    /// When the condition clears; sent as `Retry-After` when the table says so.
    public var retryAfter: Duration?
    /// Structured detail added to the error object (moderation categories, validation violations).
    public var details: JSONObject
    /// The underlying error, for logs; never shown to callers.
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        param: String? = nil,
        retryAfter: Duration? = nil,
        details: JSONObject = [:],
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.param = param
        self.retryAfter = retryAfter
        self.details = details
        self.cause = cause
    }

    public var description: String { "\(code.name): \(message)" }

    /// This error's row of the table.
    public var entry: ErrorTable.Entry { ErrorTable.entry(for: code) }

    /// The HTTP status to answer with.
    public var httpStatus: Int { entry.httpStatus }

    /// The OpenAI-format body: `{"error":{"message","type","param","code"}}`.
    public var openAIBody: OpenAI.ErrorBody {
        var extra = JSONObject()
        if !details.isEmpty { extra["switchboard"] = .object(details) }
        return OpenAI.ErrorBody(
            message: message,
            type: entry.openAIType,
            param: param,
            code: entry.openAICode,
            extra: extra
        )
    }

    /// The Anthropic-format body: `{"type":"error","error":{"type","message"},"request_id"}`.
    public func anthropicBody(requestID: String?) -> Anthropic.ErrorBody {
        var body = Anthropic.ErrorBody(type: entry.anthropicType, message: message, requestID: requestID)
        if !details.isEmpty { body.error.extra["switchboard"] = .object(details) }
        return body
    }

    /// The body in `format`.
    public func body(_ format: APIFormat, requestID: String?) -> JSONValue {
        switch format {
        case .openAI: openAIBody.json
        case .anthropic: anthropicBody(requestID: requestID).json
        }
    }

    /// Whether waiting and retrying can help: the table's word, except that a per-user limit
    /// refusal with no `retryAfter` is a request bigger than the whole limit, which never fits.
    public var shouldRetry: Bool {
        if (code == .rateLimited || code == .tokenLimited) && retryAfter == nil { return false }
        return entry.shouldRetry
    }

    /// `x-should-retry`, and `Retry-After` (plus `retry-after-ms` in OpenAI format) when the table
    /// sends it and the delay is known.
    public func headers(_ format: APIFormat) -> [HeaderField] {
        var fields = [HeaderField("x-should-retry", shouldRetry ? "true" : "false")]
        if entry.sendsRetryAfter, let retryAfter {
            fields += RateLimitHeaders.retryAfterFields(retryAfter, includeMilliseconds: format == .openAI)
        }
        return fields
    }
}

/// The table of every error Switchboard raises. It is rendered into the README
/// (`switchboard errors --markdown`), and a test keeps the two equal.
public enum ErrorTable {
    public struct Entry: Sendable, Equatable {
        public var code: SwitchboardError.Code
        public var httpStatus: Int
        public var openAIType: String
        public var openAICode: String
        public var anthropicType: String
        /// `Retry-After` is sent (when the delay is known).
        public var sendsRetryAfter: Bool
        /// The value of `x-should-retry`.
        public var shouldRetry: Bool
        /// The exception the official Python SDKs raise: OpenAI's, then Anthropic's.
        public var sdkErrors: (openAI: String, anthropic: String)
        /// What the error means, for the README.
        public var meaning: String

        public static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.code == rhs.code }
    }

    public static let entries: [Entry] = [
        Entry(
            code: .badRequest,
            httpStatus: 400,
            openAIType: "invalid_request_error",
            openAICode: "invalid_request",
            anthropicType: "invalid_request_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("BadRequestError", "BadRequestError"),
            meaning: "malformed JSON, a missing or mistyped field, a value out of range"
        ),
        Entry(
            code: .unknownModel,
            httpStatus: 404,
            openAIType: "invalid_request_error",
            openAICode: "model_not_found",
            anthropicType: "not_found_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("NotFoundError", "NotFoundError"),
            meaning: "`model` names no route and no provider model served here"
        ),
        Entry(
            code: .notFound,
            httpStatus: 404,
            openAIType: "invalid_request_error",
            openAICode: "unknown_url",
            anthropicType: "not_found_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("NotFoundError", "NotFoundError"),
            meaning: "no such endpoint"
        ),
        Entry(
            code: .bodyTooLarge,
            httpStatus: 413,
            openAIType: "invalid_request_error",
            openAICode: "request_too_large",
            anthropicType: "request_too_large",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("APIStatusError", "RequestTooLargeError"),
            meaning: "body larger than `gateway.max_body`"
        ),
        Entry(
            code: .unauthenticated,
            httpStatus: 401,
            openAIType: "invalid_request_error",
            openAICode: "invalid_api_key",
            anthropicType: "authentication_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("AuthenticationError", "AuthenticationError"),
            meaning: "no key, or an unknown or revoked key"
        ),
        Entry(
            code: .permissionDenied,
            httpStatus: 403,
            openAIType: "invalid_request_error",
            openAICode: "permission_denied",
            anthropicType: "permission_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("PermissionDeniedError", "PermissionDeniedError"),
            meaning: "a valid key that may not use this model or endpoint"
        ),
        Entry(
            code: .rateLimited,
            httpStatus: 429,
            openAIType: "requests",
            openAICode: "rate_limit_exceeded",
            anthropicType: "rate_limit_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("RateLimitError", "RateLimitError"),
            meaning: "the caller's requests-per-minute limit; clears by waiting"
        ),
        Entry(
            code: .tokenLimited,
            httpStatus: 429,
            openAIType: "tokens",
            openAICode: "rate_limit_exceeded",
            anthropicType: "rate_limit_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("RateLimitError", "RateLimitError"),
            meaning: "the caller's tokens-per-minute limit; clears by waiting"
        ),
        Entry(
            code: .budgetExceeded,
            httpStatus: 429,
            openAIType: "insufficient_quota",
            openAICode: "budget_exceeded",
            anthropicType: "billing_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("RateLimitError", "RateLimitError"),
            meaning: "the caller's budget for the billing period is spent; waiting does not help"
        ),
        Entry(
            code: .moderationBlocked,
            httpStatus: 400,
            openAIType: "invalid_request_error",
            openAICode: "content_policy_violation",
            anthropicType: "invalid_request_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("BadRequestError", "BadRequestError"),
            meaning: "input moderation blocked the request; the categories are in the message"
        ),
        Entry(
            code: .invalidOutput,
            httpStatus: 422,
            openAIType: "invalid_output_error",
            openAICode: "invalid_output",
            anthropicType: "api_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("UnprocessableEntityError", "UnprocessableEntityError"),
            meaning: "the model's output failed validation after the configured repairs"
        ),
        Entry(
            code: .upstreamExhausted,
            httpStatus: 502,
            openAIType: "server_error",
            openAICode: "upstream_error",
            anthropicType: "api_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning:
                "every attempt on every route failed; Switchboard already retried, so the SDK must not multiply the load"
        ),
        Entry(
            code: .upstreamUnavailable,
            httpStatus: 503,
            openAIType: "server_error",
            openAICode: "upstream_unavailable",
            anthropicType: "overloaded_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning:
                "no provider can take the call before its deadline (circuits open, headroom spent); clears by waiting"
        ),
        Entry(
            code: .deadlineExceeded,
            httpStatus: 504,
            openAIType: "server_error",
            openAICode: "deadline_exceeded",
            anthropicType: "timeout_error",
            sendsRetryAfter: false,
            shouldRetry: false,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning: "the call's deadline passed"
        ),
        Entry(
            code: .journalUnavailable,
            httpStatus: 503,
            openAIType: "server_error",
            openAICode: "journal_unavailable",
            anthropicType: "api_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning: "durable journaling is on and the journal cannot be written (locked, disk full)"
        ),
        Entry(
            code: .stateUnavailable,
            httpStatus: 503,
            openAIType: "server_error",
            openAICode: "state_unavailable",
            anthropicType: "api_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning: "Redis (state.backend: redis) is unreachable and state.on_redis_down closes limits or budgets"
        ),
        Entry(
            code: .shuttingDown,
            httpStatus: 503,
            openAIType: "server_error",
            openAICode: "shutting_down",
            anthropicType: "overloaded_error",
            sendsRetryAfter: true,
            shouldRetry: true,
            sdkErrors: ("InternalServerError", "InternalServerError"),
            meaning: "the gateway is draining for shutdown; another instance or a restart will answer"
        ),
    ]

    /// The row for `code`.
    public static func entry(for code: SwitchboardError.Code) -> Entry {
        guard let entry = entries.first(where: { $0.code == code }) else {
            preconditionFailure("error table has no row for \(code.name)")
        }
        return entry
    }

    /// The table as Markdown, as it appears in the README.
    public static func markdown() -> String {
        var lines = [
            "| error | HTTP | OpenAI `type` / `code` | Anthropic `type` | `Retry-After` | `x-should-retry` (SDKs retry?) | OpenAI SDK / Anthropic SDK raise | meaning |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for entry in entries {
            let sdk =
                entry.sdkErrors.openAI == entry.sdkErrors.anthropic
                ? "`\(entry.sdkErrors.openAI)`" : "`\(entry.sdkErrors.openAI)` / `\(entry.sdkErrors.anthropic)`"
            lines.append(
                "| `\(entry.code.name)` | \(entry.httpStatus) | `\(entry.openAIType)` / `\(entry.openAICode)` | `\(entry.anthropicType)` | "
                    + "\(entry.sendsRetryAfter ? "yes" : "no") | `\(entry.shouldRetry)` | \(sdk) | \(entry.meaning) |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
