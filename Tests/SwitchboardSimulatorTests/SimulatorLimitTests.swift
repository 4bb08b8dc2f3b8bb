import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

struct SimulatorLimitTests {
    static func tight(
        window: Duration = .seconds(10),
        openAI: (rpm: Int, tpm: Int) = (3, 100_000),
        anthropic: (rpm: Int, input: Int, output: Int) = (100, 100_000, 100_000)
    ) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration.testing
        configuration.limits.openAI = .init(window: window, requests: openAI.rpm, tokens: openAI.tpm)
        configuration.limits.anthropic = .init(
            window: window,
            requests: anthropic.rpm,
            inputTokens: anthropic.input,
            outputTokens: anthropic.output
        )
        return configuration
    }

    @Test func requestsOverTheRPMGetA429ThatClearsAtTheAdvertisedTime() async throws {
        let clock = ManualClock()
        try await withSimulator(Self.tight(), now: clock.now) { sim async throws in
            for expected in ["2", "1", "0"] {
                let response = try await sim.chat(chatBody())
                #expect(response.status == 200)
                #expect(response.header("x-ratelimit-remaining-requests") == expected)
            }
            let limited = try await sim.chat(chatBody())
            #expect(limited.status == 429)
            let error = try OpenAI.ErrorBody(json: limited.json())
            #expect(error.type == "requests")
            #expect(error.code == "rate_limit_exceeded")
            #expect(
                error.message.contains(
                    "on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 3.334s."
                )
            )
            let retryAfterMs = try #require(limited.header("retry-after-ms").flatMap(Int.init))
            #expect(retryAfterMs == 3334)
            #expect(limited.header("retry-after") == "4")
            #expect(limited.header("x-ratelimit-remaining-requests") == "0")

            clock.advance(by: .milliseconds(retryAfterMs - 10))
            #expect(try await sim.chat(chatBody()).status == 429)
            clock.advance(by: .milliseconds(10))
            #expect(try await sim.chat(chatBody()).status == 200)
            #expect(try await sim.stats()["rate_limited"] == 2)
        }
    }

    @Test func tokensPerMinuteCountPromptPlusTheOutputCeiling() async throws {
        let clock = ManualClock()
        try await withSimulator(Self.tight(openAI: (1000, 1000)), now: clock.now) { sim async throws in
            let body = chatBody(longText(tokens: 200), extra: ["max_tokens": 400])
            let first = try await sim.chat(body)
            #expect(first.status == 200)
            let used = try OpenAI.ChatCompletion(json: first.json()).usage!
            // The unused part of the output ceiling is given back when the call ends.
            #expect(
                first.header("x-ratelimit-remaining-tokens") == String(1000 - used.promptTokens - used.completionTokens)
            )
            let second = try await sim.chat(body)
            #expect(second.status == 200)
            let third = try await sim.chat(body)
            #expect(third.status == 429)
            #expect(try OpenAI.ErrorBody(json: third.json()).type == "tokens")
        }
    }

    @Test func aRequestLargerThanTheLimitIsRefusedWithoutRetryAfter() async throws {
        try await withSimulator(Self.tight(openAI: (1000, 100))) { sim async throws in
            let response = try await sim.chat(chatBody(longText(tokens: 500)))
            #expect(response.status == 429)
            #expect(response.header("retry-after") == nil)
            #expect(try OpenAI.ErrorBody(json: response.json()).message.hasPrefix("Request too large for gpt-4o-mini"))
        }
    }

    @Test func limitsArePerKeyAndPerModel() async throws {
        try await withSimulator(Self.tight(openAI: (1, 100_000))) { sim async throws in
            #expect(try await sim.chat(chatBody()).status == 200)
            #expect(try await sim.chat(chatBody()).status == 429)
            #expect(try await sim.chat(chatBody(), key: "sk-sim-other-key").status == 200)
            #expect(try await sim.chat(chatBody(model: "gpt-4.1")).status == 200)
        }
    }

    @Test func anthropicOutputLimitsReserveMaxTokensAndReportTheSum() async throws {
        let clock = ManualClock()
        try await withSimulator(Self.tight(anthropic: (100, 10_000, 500)), now: clock.now) { sim async throws in
            let first = try await sim.messages(messagesBody(maxTokens: 400))
            #expect(first.status == 200)
            let output = try Anthropic.MessageResponse(json: first.json()).usage.outputTokens
            #expect(first.header("anthropic-ratelimit-output-tokens-remaining") == String(500 - output))
            let input = Int(first.header("anthropic-ratelimit-input-tokens-remaining")!)!
            #expect(first.header("anthropic-ratelimit-tokens-remaining") == String(input + 500 - output))
            let limited = try await sim.messages(messagesBody(maxTokens: 495))
            #expect(limited.status == 429)
            #expect(limited.header("x-should-retry") == "true")
            #expect(limited.header("retry-after").flatMap(Int.init) ?? 0 >= 1)
            let error = try Anthropic.ErrorBody(json: limited.json())
            #expect(error.error.type == "rate_limit_error")
            #expect(error.error.message.contains("of 500 output tokens per minute"))
        }
    }

    @Test func anthropicResetsAreRFC3339TimesWhenTheBucketIsFull() async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_755_780_000))
        try await withSimulator(Self.tight(window: .seconds(60), anthropic: (10, 100_000, 100_000)), now: clock.now) {
            sim async throws in
            let response = try await sim.messages(messagesBody())
            // One request of ten used, refilled at 10 per minute: full again in 6 s.
            #expect(response.header("anthropic-ratelimit-requests-reset") == "2025-08-21T12:40:06Z")
        }
    }

    @Test func exhaustedQuotaKeysGetInsufficientQuota() async throws {
        var configuration = SimulatorConfiguration.testing
        configuration.keys["sk-sim-broke"] = .init(quotaExhausted: true)
        try await withSimulator(configuration) { sim async throws in
            let response = try await sim.chat(chatBody(), key: "sk-sim-broke")
            #expect(response.status == 429)
            #expect(try OpenAI.ErrorBody(json: response.json()).code == "insufficient_quota")
            #expect(response.header("retry-after") == nil)
        }
    }
}
