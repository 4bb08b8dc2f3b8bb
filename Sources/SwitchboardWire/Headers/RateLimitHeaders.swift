import Foundation

/// One dimension of a provider's rate limit as its headers report it.
public struct RateLimitWindow: Sendable, Equatable {
    public var limit: Int?
    public var remaining: Int?
    /// Time until the window is fully replenished, relative to when the response was received.
    public var resetAfter: Duration?

    public init(limit: Int? = nil, remaining: Int? = nil, resetAfter: Duration? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
    }

    var isEmpty: Bool { limit == nil && remaining == nil && resetAfter == nil }
}

/// Everything a response says about rate limits and retrying, normalised across providers.
public struct RateLimitSnapshot: Sendable, Equatable {
    public var requests: RateLimitWindow?
    /// OpenAI: tokens per minute. Anthropic: the most restrictive token limit in effect.
    public var tokens: RateLimitWindow?
    /// Anthropic only.
    public var inputTokens: RateLimitWindow?
    /// Anthropic only.
    public var outputTokens: RateLimitWindow?
    /// From `retry-after-ms`, else `retry-after`.
    public var retryAfter: Duration?
    /// `x-should-retry`: the server's explicit word on retrying, overriding the status code.
    public var shouldRetry: Bool?

    public init(
        requests: RateLimitWindow? = nil,
        tokens: RateLimitWindow? = nil,
        inputTokens: RateLimitWindow? = nil,
        outputTokens: RateLimitWindow? = nil,
        retryAfter: Duration? = nil,
        shouldRetry: Bool? = nil
    ) {
        self.requests = requests
        self.tokens = tokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.retryAfter = retryAfter
        self.shouldRetry = shouldRetry
    }
}

/// A response header, as name and value. Names are compared case-insensitively.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether the name is `other`, ignoring ASCII case (header names are ASCII).
    public func hasName(_ other: String) -> Bool { HeaderField.sameName(name, other) }

    /// Header-name equality ignoring ASCII case, without Foundation's locale-aware comparison.
    public static func sameName(_ left: String, _ right: String) -> Bool {
        var left = left.utf8.makeIterator()
        var right = right.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return true
            case (let a?, let b?): if !sameByte(a, b) { return false }
            default: return false
            }
        }
    }

    /// Whether `name` begins with `prefix`, ignoring ASCII case.
    public static func name(_ name: String, hasPrefix prefix: String) -> Bool {
        var name = name.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = name.next(), sameByte(byte, expected) else { return false }
        }
        return true
    }

    /// Whether a provider's response header is kept with the attempt it answered: the rate-limit
    /// families (`x-ratelimit-*`, `anthropic-ratelimit-*`, the IETF draft's `ratelimit-*`), the
    /// retry advice (`retry-after`, `retry-after-ms`, `x-should-retry`) and the provider's request
    /// id (`x-request-id`, Anthropic's `request-id`), which its support asks for. Nothing else —
    /// no cookie, no authorization, no organization — is ever kept.
    public static func keptWithAttempt(_ name: String) -> Bool {
        Self.keptPrefixes.contains { Self.name(name, hasPrefix: $0) } || Self.keptNames.contains { sameName(name, $0) }
    }

    private static let keptPrefixes = ["x-ratelimit-", "anthropic-ratelimit-", "ratelimit-"]
    private static let keptNames = ["retry-after", "retry-after-ms", "x-should-retry", "x-request-id", "request-id"]

    /// Two bytes of header names, equal ignoring the case of ASCII letters.
    private static func sameByte(_ a: UInt8, _ b: UInt8) -> Bool {
        a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7A)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs: HTTP's optional whitespace around a header
    /// value (Foundation's `trimmingCharacters(in: .whitespaces)` costs more than the parsing it
    /// precedes).
    public var trimmingHTTPSpace: Substring {
        // Spaces and tabs are single bytes, so the first and past-the-last other bytes are
        // boundaries of characters.
        let text = Substring(self)
        let bytes = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else {
            return text[text.endIndex...]
        }
        return text[first..<bytes.index(after: last)]
    }
}

extension Array where Element == HeaderField {
    /// The first value of the header named `name` (any case).
    public func value(of name: String) -> String? {
        first { $0.hasName(name) }?.value
    }
}

/// Parsers and writers for the rate-limit and retry header families of both providers.
///
/// Parsers take a lookup function (`name → value`) so they work with any header type; the lookup
/// must be case-insensitive, as HTTP header names are.
public enum RateLimitHeaders {
    public typealias Lookup = (String) -> String?

    /// OpenAI's family: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as Go
    /// durations (`6m0s`); plus `retry-after-ms`, `retry-after` and `x-should-retry`.
    public static func parseOpenAI(_ header: Lookup, now: Date) -> RateLimitSnapshot {
        func window(_ kind: String) -> RateLimitWindow? {
            let window = RateLimitWindow(
                limit: header("x-ratelimit-limit-\(kind)").flatMap(integer),
                remaining: header("x-ratelimit-remaining-\(kind)").flatMap(integer),
                resetAfter: header("x-ratelimit-reset-\(kind)").flatMap(openAIReset)
            )
            return window.isEmpty ? nil : window
        }
        return RateLimitSnapshot(
            requests: window("requests"),
            tokens: window("tokens"),
            retryAfter: parseRetryAfter(header, now: now),
            shouldRetry: header("x-should-retry").flatMap(parseShouldRetry)
        )
    }

    /// Anthropic's family: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,
    /// remaining,reset}`, resets as RFC 3339 times, converted to durations from `now`.
    public static func parseAnthropic(_ header: Lookup, now: Date) -> RateLimitSnapshot {
        func window(_ kind: String) -> RateLimitWindow? {
            let window = RateLimitWindow(
                limit: header("anthropic-ratelimit-\(kind)-limit").flatMap(integer),
                remaining: header("anthropic-ratelimit-\(kind)-remaining").flatMap(integer),
                resetAfter: header("anthropic-ratelimit-\(kind)-reset").flatMap(RFC3339.parse).map { reset in
                    .seconds(max(0, reset.timeIntervalSince(now)))
                }
            )
            return window.isEmpty ? nil : window
        }
        return RateLimitSnapshot(
            requests: window("requests"),
            tokens: window("tokens"),
            inputTokens: window("input-tokens"),
            outputTokens: window("output-tokens"),
            retryAfter: parseRetryAfter(header, now: now),
            shouldRetry: header("x-should-retry").flatMap(parseShouldRetry)
        )
    }

    /// The server-directed delay as the official SDKs read it: `retry-after-ms` (milliseconds, may
    /// have a fraction) first, then `retry-after` as seconds (may have a fraction), then as an HTTP
    /// date. A date in the past gives zero.
    public static func parseRetryAfter(_ header: Lookup, now: Date) -> Duration? {
        if let text = header("retry-after-ms"), let milliseconds = Double(text.trimmingHTTPSpace),
            milliseconds.isFinite
        {
            return .milliseconds(max(0, milliseconds))
        }
        guard let text = header("retry-after").map({ String($0.trimmingHTTPSpace) }) else { return nil }
        if let seconds = Double(text), seconds.isFinite {
            return .seconds(max(0, seconds))
        }
        if let date = HTTPDate.parse(text) {
            return .seconds(max(0, date.timeIntervalSince(now)))
        }
        return nil
    }

    /// `x-should-retry: true|false`; anything else is no opinion.
    public static func parseShouldRetry(_ text: String) -> Bool? {
        switch text.trimmingHTTPSpace.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// OpenAI resets are Go durations; Azure sends plain seconds, which are accepted too.
    static func openAIReset(_ text: String) -> Duration? {
        if let duration = GoDuration.parse(text) { return duration }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return .seconds(seconds) }
        return nil
    }

    static func integer(_ text: String) -> Int? {
        Int(text.trimmingHTTPSpace)
    }

    // MARK: - Writers

    /// `x-ratelimit-*` fields for a snapshot (requests and tokens), resets as Go durations.
    public static func openAIFields(_ snapshot: RateLimitSnapshot) -> [HeaderField] {
        var fields: [HeaderField] = []
        for (kind, window) in [("requests", snapshot.requests), ("tokens", snapshot.tokens)] {
            guard let window else { continue }
            if let limit = window.limit { fields.append(HeaderField("x-ratelimit-limit-\(kind)", String(limit))) }
            if let remaining = window.remaining {
                fields.append(HeaderField("x-ratelimit-remaining-\(kind)", String(remaining)))
            }
            if let reset = window.resetAfter {
                // OpenAI reports whole milliseconds (`12ms`, `9.816s`); round up so nobody comes back early.
                let milliseconds = Duration.milliseconds(Int64(reset.millisecondsDouble.rounded(.up)))
                fields.append(HeaderField("x-ratelimit-reset-\(kind)", GoDuration.format(milliseconds)))
            }
        }
        return fields
    }

    /// `anthropic-ratelimit-*` fields for a snapshot, resets as RFC 3339 times after `now`.
    public static func anthropicFields(_ snapshot: RateLimitSnapshot, now: Date) -> [HeaderField] {
        var fields: [HeaderField] = []
        let windows = [
            ("requests", snapshot.requests), ("tokens", snapshot.tokens),
            ("input-tokens", snapshot.inputTokens), ("output-tokens", snapshot.outputTokens),
        ]
        for (kind, window) in windows {
            guard let window else { continue }
            if let limit = window.limit {
                fields.append(HeaderField("anthropic-ratelimit-\(kind)-limit", String(limit)))
            }
            if let remaining = window.remaining {
                fields.append(HeaderField("anthropic-ratelimit-\(kind)-remaining", String(remaining)))
            }
            if let reset = window.resetAfter {
                let date = now.addingTimeInterval(reset.secondsDouble)
                fields.append(HeaderField("anthropic-ratelimit-\(kind)-reset", RFC3339.format(date)))
            }
        }
        return fields
    }

    /// The IETF `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (delta seconds,
    /// rounded up) fields for one window.
    public static func standardFields(_ window: RateLimitWindow) -> [HeaderField] {
        var fields: [HeaderField] = []
        if let limit = window.limit { fields.append(HeaderField("RateLimit-Limit", String(limit))) }
        if let remaining = window.remaining { fields.append(HeaderField("RateLimit-Remaining", String(remaining))) }
        if let reset = window.resetAfter {
            fields.append(HeaderField("RateLimit-Reset", String(Int(reset.secondsDouble.rounded(.up)))))
        }
        return fields
    }

    /// `retry-after` in whole seconds, rounded up so a client never comes back early, and with
    /// `includeMilliseconds` also `retry-after-ms`, which the official SDKs read first.
    public static func retryAfterFields(_ delay: Duration, includeMilliseconds: Bool) -> [HeaderField] {
        let seconds = max(0, delay.secondsDouble)
        var fields = [HeaderField("retry-after", String(Int(seconds.rounded(.up))))]
        if includeMilliseconds {
            fields.append(HeaderField("retry-after-ms", String(Int((seconds * 1000).rounded(.up)))))
        }
        return fields
    }
}
