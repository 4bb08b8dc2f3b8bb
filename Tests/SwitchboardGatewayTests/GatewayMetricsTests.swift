import Foundation
import SwitchboardJournal
import SwitchboardWire
import Testing

@testable import SwitchboardGateway

/// The metrics a gateway keeps from its calls' records: handles made once and reused, series
/// kept apart by their labels, headroom from the pipeline's reading of the headers or from the
/// headers themselves.
@Suite struct GatewayMetricsTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    static func record(model: String, outcome: CallOutcome = .ok, attempt: AttemptRecord) -> CallRecord {
        CallRecord(
            requestID: "req_\(UUID().uuidString)",
            startedAt: start,
            endedAt: start.addingTimeInterval(0.2),
            origin: .gateway,
            outcome: outcome,
            provider: "openai",
            modelRequested: model,
            modelUsed: model,
            httpStatus: 200,
            latencyMilliseconds: 200,
            tokens: TokenCounts(input: 10, output: 4),
            costNanoUSD: 1_500,
            cache: .miss,
            attempts: [attempt]
        )
    }

    static func attempt(model: String, remaining: Int, parsed: Bool) -> AttemptRecord {
        let headers = ["x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": String(remaining)]
        return AttemptRecord(
            number: 1,
            provider: "openai",
            model: model,
            keyFingerprint: "sk-…a1b2",
            startedAt: start,
            httpStatus: 200,
            rateLimitHeaders: headers,
            rateLimits: parsed
                ? RateLimitHeaders.parseOpenAI({ name in headers[name] }, now: start) : nil
        )
    }

    /// The line of a series in the exposition, without its value.
    static func value(_ text: String, _ series: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
    }

    @Test func repeatedCallsCountIntoTheirOwnSeries() {
        let metrics = GatewayMetrics()
        for remaining in [499, 498] {
            metrics.call(
                Self.record(
                    model: "gpt-4o-mini",
                    attempt: Self.attempt(model: "gpt-4o-mini", remaining: remaining, parsed: true)
                )
            )
        }
        metrics.call(
            Self.record(
                model: "gpt-4.1",
                outcome: .error,
                attempt: Self.attempt(model: "gpt-4.1", remaining: 77, parsed: false)
            )
        )
        metrics.request(endpoint: .chatCompletions, status: 200, duration: .milliseconds(3))
        metrics.request(endpoint: .chatCompletions, status: 200, duration: .milliseconds(4))
        metrics.request(endpoint: .messages, status: 429, duration: .milliseconds(1))
        let text = String(decoding: metrics.render(), as: UTF8.self)

        #expect(
            Self.value(text, #"switchboard_calls_total{outcome="ok",provider="openai",model="gpt-4o-mini"}"#) == "2"
        )
        #expect(Self.value(text, #"switchboard_calls_total{outcome="error",provider="openai",model="gpt-4.1"}"#) == "1")
        #expect(
            Self.value(text, #"switchboard_tokens_total{kind="input",provider="openai",model="gpt-4o-mini"}"#) == "20"
        )
        #expect(Self.value(text, #"switchboard_cost_nano_usd_total{provider="openai",model="gpt-4o-mini"}"#) == "3000")
        #expect(Self.value(text, #"switchboard_cache_total{outcome="miss"}"#) == "3")
        #expect(Self.value(text, #"switchboard_http_requests_total{endpoint="chat_completions",status="200"}"#) == "2")
        #expect(Self.value(text, #"switchboard_http_requests_total{endpoint="messages",status="429"}"#) == "1")
        #expect(
            Self.value(
                text,
                #"switchboard_upstream_attempts_total{provider="openai",model="gpt-4o-mini",status="200"}"#
            )
                == "2"
        )
        // The gauge holds the last reading: from the pipeline's snapshot, or read from the headers.
        let mini = #"provider="openai",model="gpt-4o-mini",key="sk-…a1b2",window="requests""#
        #expect(Self.value(text, "switchboard_headroom_remaining{\(mini)}") == "498.0")
        #expect(Self.value(text, "switchboard_headroom_limit{\(mini)}") == "500.0")
        let four = #"provider="openai",model="gpt-4.1",key="sk-…a1b2",window="requests""#
        #expect(Self.value(text, "switchboard_headroom_remaining{\(four)}") == "77.0")
    }
}
