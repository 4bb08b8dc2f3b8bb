import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import Testing

@testable import SwitchboardWire

struct HeaderTests {
    @Test(
        arguments: [
            ("1s", 1_000_000_000), ("6m0s", 360_000_000_000), ("12ms", 12_000_000), ("9.816s", 9_816_000_000),
            ("1h2m3s", 3_723_000_000_000), ("2m59.56s", 179_560_000_000), ("0", 0), ("1.5µs", 1_500),
            ("250us", 250_000),
            ("-1.5h", -5_400_000_000_000), (".5s", 500_000_000),
        ] as [(String, Int64)]
    )
    func goDurationsParse(text: String, nanoseconds: Int64) {
        #expect(GoDuration.parse(text) == .nanoseconds(nanoseconds))
    }

    @Test(arguments: ["", "1", "s", "1x", "1.s5", "--1s", "1 s"])
    func malformedGoDurationsAreRejected(text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test(
        arguments: [
            (0, "0s"), (12_000_000, "12ms"), (9_816_000_000, "9.816s"), (360_000_000_000, "6m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_000, "1h2m3s"), (179_560_000_000, "2m59.56s"), (1_500, "1.5µs"), (999, "999ns"),
            (1_500_000, "1.5ms"),
            (62_500_000_000, "1m2.5s"),
        ] as [(Int64, String)]
    )
    func goDurationsFormatAsGoDoes(nanoseconds: Int64, text: String) {
        #expect(GoDuration.format(.nanoseconds(nanoseconds)) == text)
        #expect(GoDuration.parse(text) == .nanoseconds(nanoseconds))
    }

    @Test func goDurationsRoundTripOverASeededSweep() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<20_000 {
            // Every magnitude from nanoseconds to days.
            let nanoseconds = Int64.random(in: 0...(Int64(1) << Int.random(in: 1...47, using: &random)), using: &random)
            let text = GoDuration.format(.nanoseconds(nanoseconds))
            #expect(GoDuration.parse(text) == .nanoseconds(nanoseconds), "\(text)")
        }
    }

    @Test(arguments: [
        ("  sk-a b ", "sk-a b"), ("\tv\t", "v"), ("v", "v"), ("   ", ""), ("", ""), (" é ", "é"),
    ])
    func headerValuesLoseTheirSpacesAndTabs(text: String, trimmed: String) {
        #expect(String(text.trimmingHTTPSpace) == trimmed)
    }

    @Test func headerNamePrefixesIgnoreCase() {
        #expect(HeaderField.name("X-RateLimit-Limit-Requests", hasPrefix: "x-ratelimit-"))
        #expect(HeaderField.name("x-ratelimit-", hasPrefix: "x-ratelimit-"))
        #expect(!HeaderField.name("x-ratelimi", hasPrefix: "x-ratelimit-"))
        #expect(!HeaderField.name("x_ratelimit-limit", hasPrefix: "x-ratelimit-"))
        #expect(!HeaderField.name("retry-after", hasPrefix: "x-ratelimit-"))
    }

    @Test(arguments: [
        ("2025-08-21T12:40:59Z", 1_755_780_059.0), ("2024-03-26T20:00:00Z", 1_711_483_200.0),
        ("2025-08-21t12:40:59.250z", 1_755_780_059.25), ("2025-08-21T14:40:59+02:00", 1_755_780_059.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func rfc3339TimestampsParse(text: String, epoch: Double) {
        #expect(RFC3339.parse(text)?.timeIntervalSince1970 == epoch)
    }

    @Test(arguments: [
        "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2025-08-21T12:40:59", "2025-08-21 12:40", "yesterday",
    ])
    func invalidRFC3339IsRejected(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func rfc3339FormatsAtSecondPrecisionRoundingUp() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_755_780_058.2)) == "2025-08-21T12:40:59Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func allThreeHTTPDateFormsParse(text: String) {
        #expect(HTTPDate.parse(text)?.timeIntervalSince1970 == 784_111_777)
    }

    @Test func httpDatesFormatAsIMFFixdate() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test(arguments: [
        (["retry-after-ms": "1500", "retry-after": "9"], 1.5),
        (["retry-after": "2.5"], 2.5),
        (["retry-after": "Sun, 06 Nov 1994 08:50:07 GMT"], 30.0),
        (["retry-after": "Sun, 06 Nov 1994 08:40:00 GMT"], 0.0),
        (["retry-after-ms": "junk", "retry-after": "3"], 3.0),
    ])
    func retryAfterIsReadAsTheSDKsReadIt(headers: [String: String], seconds: Double) {
        let now = Date(timeIntervalSince1970: 784_111_777)
        #expect(RateLimitHeaders.parseRetryAfter({ headers[$0] }, now: now) == .seconds(seconds))
    }

    @Test func shouldRetryIsTrueFalseOrNoOpinion() {
        #expect(RateLimitHeaders.parseShouldRetry("true") == true)
        #expect(RateLimitHeaders.parseShouldRetry(" FALSE ") == false)
        #expect(RateLimitHeaders.parseShouldRetry("maybe") == nil)
    }

    @Test func openAICapturedHeadersParse() {
        let headers = [
            "x-ratelimit-limit-requests": "5000", "x-ratelimit-limit-tokens": "160000",
            "x-ratelimit-remaining-requests": "4999", "x-ratelimit-remaining-tokens": "159976",
            "x-ratelimit-reset-requests": "12ms", "x-ratelimit-reset-tokens": "9ms",
        ]
        let snapshot = RateLimitHeaders.parseOpenAI({ headers[$0] }, now: Date())
        #expect(snapshot.requests == RateLimitWindow(limit: 5000, remaining: 4999, resetAfter: .milliseconds(12)))
        #expect(snapshot.tokens == RateLimitWindow(limit: 160_000, remaining: 159_976, resetAfter: .milliseconds(9)))
        #expect(snapshot.retryAfter == nil)
    }

    @Test func azureStyleSecondResetsAreAccepted() {
        let snapshot = RateLimitHeaders.parseOpenAI({ ["x-ratelimit-reset-requests": "7"][$0] }, now: Date())
        #expect(snapshot.requests?.resetAfter == .seconds(7))
    }

    @Test func anthropicCapturedHeadersParseRelativeToNow() {
        let headers = [
            "anthropic-ratelimit-input-tokens-limit": "80000", "anthropic-ratelimit-input-tokens-remaining": "80000",
            "anthropic-ratelimit-input-tokens-reset": "2025-08-21T12:40:59Z",
            "anthropic-ratelimit-output-tokens-limit": "16000", "anthropic-ratelimit-output-tokens-remaining": "16000",
            "anthropic-ratelimit-output-tokens-reset": "2025-08-21T12:41:00Z",
            "anthropic-ratelimit-requests-limit": "1000", "anthropic-ratelimit-requests-remaining": "999",
            "anthropic-ratelimit-requests-reset": "2025-08-21T12:40:59Z",
            "anthropic-ratelimit-tokens-limit": "96000", "anthropic-ratelimit-tokens-remaining": "96000",
            "anthropic-ratelimit-tokens-reset": "2025-08-21T12:40:59Z", "x-should-retry": "true",
        ]
        let now = RFC3339.parse("2025-08-21T12:40:57Z")!
        let snapshot = RateLimitHeaders.parseAnthropic({ headers[$0] }, now: now)
        #expect(snapshot.requests == RateLimitWindow(limit: 1000, remaining: 999, resetAfter: .seconds(2)))
        #expect(snapshot.outputTokens?.resetAfter == .seconds(3))
        #expect(snapshot.tokens?.limit == 96_000)
        #expect(snapshot.shouldRetry == true)
    }

    @Test func writersProduceWhatTheParsersRead() {
        let now = Date(timeIntervalSince1970: 1_755_780_000)
        let snapshot = RateLimitSnapshot(
            requests: RateLimitWindow(limit: 60, remaining: 59, resetAfter: .seconds(1)),
            tokens: RateLimitWindow(limit: 150_000, remaining: 149_984, resetAfter: .seconds(360))
        )
        let openAI = Dictionary(
            uniqueKeysWithValues: RateLimitHeaders.openAIFields(snapshot).map { ($0.name, $0.value) }
        )
        #expect(openAI["x-ratelimit-reset-tokens"] == "6m0s")
        #expect(RateLimitHeaders.parseOpenAI({ openAI[$0] }, now: now) == snapshot)
        let anthropic = Dictionary(
            uniqueKeysWithValues: RateLimitHeaders.anthropicFields(snapshot, now: now).map { ($0.name, $0.value) }
        )
        #expect(anthropic["anthropic-ratelimit-requests-reset"] == "2025-08-21T12:40:01Z")
        #expect(RateLimitHeaders.parseAnthropic({ anthropic[$0] }, now: now) == snapshot)
    }

    @Test func openAIResetsAreReportedInWholeMillisecondsRoundedUp() {
        let fields = RateLimitHeaders.openAIFields(
            RateLimitSnapshot(requests: RateLimitWindow(resetAfter: .microseconds(11_884)))
        )
        #expect(fields == [HeaderField("x-ratelimit-reset-requests", "12ms")])
    }

    @Test func retryAfterIsRoundedUpSoClientsNeverComeBackEarly() {
        #expect(
            RateLimitHeaders.retryAfterFields(.milliseconds(1_200), includeMilliseconds: true)
                == [HeaderField("retry-after", "2"), HeaderField("retry-after-ms", "1200")]
        )
        #expect(
            RateLimitHeaders.standardFields(RateLimitWindow(limit: 60, remaining: 0, resetAfter: .milliseconds(100)))
                == [
                    HeaderField("RateLimit-Limit", "60"), HeaderField("RateLimit-Remaining", "0"),
                    HeaderField("RateLimit-Reset", "1"),
                ]
        )
    }
}
