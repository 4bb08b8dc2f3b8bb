import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

struct SimulatorPromptCacheTests {
    func cachedTokens(_ sim: SimulatorFixture, _ body: JSONValue, key: String = simKey) async throws -> (
        cached: Int, prompt: Int
    ) {
        let usage = try #require(try await OpenAI.ChatCompletion(json: sim.chat(body, key: key).json()).usage)
        return (usage.cachedTokens, usage.promptTokens)
    }

    func systemAndUser(_ system: String, _ user: String, extra: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = [
            "model": "gpt-4o-mini",
            "messages": [["role": "system", "content": .string(system)], ["role": "user", "content": .string(user)]],
        ]
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    @Test func openAICachesRepeatedPrefixesIn128TokenStepsFrom1024() async throws {
        let clock = ManualClock()
        try await withSimulator(now: clock.now) { sim async throws in
            let body = systemAndUser(longText(tokens: 1500), "What is the refund window?")
            let first = try await cachedTokens(sim, body)
            #expect(first.cached == 0)
            let second = try await cachedTokens(sim, body)
            #expect(second.cached == 1024 + 128 * ((second.prompt - 1024) / 128))
            #expect(second.cached % 128 == 0 && second.cached <= second.prompt)

            // A different question after the same long system prompt reuses the shared prefix.
            let other = try await cachedTokens(sim, systemAndUser(longText(tokens: 1500), "How do I cancel?"))
            #expect(other.cached == 1408)
        }
    }

    @Test func shortPromptsOtherKeysAndOtherCacheKeysDoNotHit() async throws {
        try await withSimulator { sim async throws in
            let short = systemAndUser(longText(tokens: 900), "q")
            _ = try await cachedTokens(sim, short)
            #expect(try await cachedTokens(sim, short).cached == 0)

            let long = systemAndUser(longText(tokens: 1300), "q")
            _ = try await cachedTokens(sim, long)
            #expect(try await cachedTokens(sim, long, key: "sk-sim-another-org").cached == 0)
            let keyed = systemAndUser(longText(tokens: 1300), "q", extra: ["prompt_cache_key": "tenant-b"])
            #expect(try await cachedTokens(sim, keyed).cached == 0)
            #expect(try await cachedTokens(sim, keyed).cached > 0)
        }
    }

    @Test func openAICachedPrefixesExpireAfterTheirTTL() async throws {
        let clock = ManualClock()
        try await withSimulator(now: clock.now) { sim async throws in
            let body = systemAndUser(longText(tokens: 1200), "q")
            _ = try await cachedTokens(sim, body)
            clock.advance(by: .seconds(299))
            #expect(try await cachedTokens(sim, body).cached > 0)
            clock.advance(by: .seconds(301))
            #expect(try await cachedTokens(sim, body).cached == 0)
        }
    }

    func anthropicBody(system: String, ttl: String? = nil, model: String = "claude-sonnet-4-5", stream: Bool = false)
        -> JSONValue
    {
        var cacheControl: JSONObject = ["type": "ephemeral"]
        if let ttl { cacheControl["ttl"] = .string(ttl) }
        return [
            "model": .string(model), "max_tokens": 100, "stream": .bool(stream),
            "system": [["type": "text", "text": .string(system), "cache_control": .object(cacheControl)]],
            "messages": [["role": "user", "content": "What is the refund window?"]],
        ]
    }

    @Test func anthropicBreakpointsWriteOnFirstUseAndReadWithinTheTTL() async throws {
        let clock = ManualClock()
        try await withSimulator(now: clock.now) { sim async throws in
            let system = longText(tokens: 2000)
            let systemTokens = TokenCounter.count("system: \(system)\n")
            let userTokens = TokenCounter.count("user: What is the refund window?\n")

            let first = try await Anthropic.MessageResponse(json: sim.messages(anthropicBody(system: system)).json())
                .usage
            #expect(first.cacheCreationInputTokens == systemTokens)
            #expect(
                first.cacheCreation
                    == Anthropic.CacheCreation(ephemeral5mInputTokens: systemTokens, ephemeral1hInputTokens: 0)
            )
            #expect(first.cacheReadInputTokens == 0)
            #expect(first.inputTokens == userTokens)

            clock.advance(by: .seconds(240))
            let second = try await Anthropic.MessageResponse(json: sim.messages(anthropicBody(system: system)).json())
                .usage
            #expect(second.cacheReadInputTokens == systemTokens)
            #expect(second.cacheCreationInputTokens == 0)
            #expect(second.inputTokens == userTokens)

            // Each hit refreshes the five minutes.
            clock.advance(by: .seconds(240))
            let third = try await Anthropic.MessageResponse(json: sim.messages(anthropicBody(system: system)).json())
                .usage
            #expect(third.cacheReadInputTokens == systemTokens)
            clock.advance(by: .seconds(301))
            let expired = try await Anthropic.MessageResponse(json: sim.messages(anthropicBody(system: system)).json())
                .usage
            #expect(expired.cacheReadInputTokens == 0)
            #expect(expired.cacheCreationInputTokens == systemTokens)
        }
    }

    @Test func oneHourBreakpointsAreBilledAsOneHourWrites() async throws {
        try await withSimulator { sim async throws in
            let system = longText(tokens: 1500)
            let usage = try await Anthropic.MessageResponse(
                json: sim.messages(anthropicBody(system: system, ttl: "1h")).json()
            ).usage
            let tokens = TokenCounter.count("system: \(system)\n")
            #expect(
                usage.cacheCreation
                    == Anthropic.CacheCreation(ephemeral5mInputTokens: 0, ephemeral1hInputTokens: tokens)
            )
        }
    }

    @Test func prefixesBelowTheModelsMinimumAreNotCached() async throws {
        try await withSimulator { sim async throws in
            let body = anthropicBody(system: longText(tokens: 2000), model: "claude-haiku-4-5")
            _ = try await sim.messages(body)
            let usage = try await Anthropic.MessageResponse(json: sim.messages(body).json()).usage
            #expect(usage.cacheReadInputTokens == 0)
            #expect(usage.cacheCreationInputTokens == 0)
        }
    }

    @Test func theStreamReportsCacheUsageInMessageStart() async throws {
        try await withSimulator { sim async throws in
            let system = longText(tokens: 1500)
            _ = try await sim.messages(anthropicBody(system: system))
            let events = try await sim.messages(anthropicBody(system: system, stream: true)).events()
            guard case .messageStart(let message) = try Anthropic.StreamEvent(json: JSONValue.parse(events[0].data))
            else {
                Issue.record("the stream should open with message_start")
                return
            }
            #expect(message.usage.cacheReadInputTokens == TokenCounter.count("system: \(system)\n"))
        }
    }

    @Test func moreThanFourBreakpointsAreRefusedAsAnthropicDoes() async throws {
        let block: JSONValue = ["type": "text", "text": "rule", "cache_control": ["type": "ephemeral"]]
        try await withSimulator { sim async throws in
            let response = try await sim.messages(messagesBody(extra: ["system": [block, block, block, block, block]]))
            #expect(response.status == 400)
            #expect(
                try Anthropic.ErrorBody(json: response.json()).error.message
                    == "A maximum of 4 blocks with cache_control may be provided. Found 5."
            )
        }
    }
}
