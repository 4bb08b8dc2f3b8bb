import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import Testing

@testable import SwitchboardCore

struct PromptCachingTests {
    let longText = String(repeating: "Policy clause: refunds within thirty days of purchase. ", count: 100)  // ~5,600 characters

    func body(system: JSONValue? = nil, tools: [JSONValue]? = nil, extra: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = [
            "model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [["role": "user", "content": "Hi"]],
        ]
        if let system { object["system"] = system }
        if let tools { object["tools"] = .array(tools) }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    @Test func aLongSystemPromptGetsABreakpointAndAShortOneNone() {
        var long = body(system: .string(longText))
        #expect(PromptCaching.addAnthropicBreakpoints(&long, minimumTokens: 1_024, ttl: .seconds(300)) == 1)
        #expect(long["system"]?[0]?["text"]?.stringValue == longText)
        #expect(long["system"]?[0]?["cache_control"] == ["type": "ephemeral"])
        var short = body(system: "Be brief.")
        #expect(PromptCaching.addAnthropicBreakpoints(&short, minimumTokens: 1_024, ttl: .seconds(300)) == 0)
        #expect(short == body(system: "Be brief."))
    }

    @Test func toolsAndSystemEachGetOneWhenTheirPrefixIsLongEnough() {
        let bigTool: JSONValue = [
            "name": "lookup", "description": .string(longText), "input_schema": ["type": "object"],
        ]
        var both = body(system: [["type": "text", "text": "Short system."]], tools: [["name": "a"], bigTool])
        #expect(PromptCaching.addAnthropicBreakpoints(&both, minimumTokens: 1_024, ttl: .seconds(3600)) == 2)
        #expect(both["tools"]?[1]?["cache_control"] == ["type": "ephemeral", "ttl": "1h"])
        #expect(both["tools"]?[0]?["cache_control"] == nil)
        #expect(
            both["system"]?[0]?["cache_control"] == ["type": "ephemeral", "ttl": "1h"],
            "tools + system is the prefix"
        )
        // Short tools, long system: only the system prefix qualifies.
        var systemOnly = body(system: .string(longText), tools: [["name": "a"]])
        #expect(PromptCaching.addAnthropicBreakpoints(&systemOnly, minimumTokens: 1_024, ttl: .seconds(300)) == 1)
        #expect(systemOnly["tools"]?[0]?["cache_control"] == nil)
    }

    @Test func theCallersOwnBreakpointsAreNeverOverridden() {
        let mine = body(
            system: .string(longText),
            extra: [
                "messages": [
                    [
                        "role": "user",
                        "content": [["type": "text", "text": "Hi", "cache_control": ["type": "ephemeral"]]],
                    ]
                ]
            ]
        )
        var sent = mine
        #expect(PromptCaching.addAnthropicBreakpoints(&sent, minimumTokens: 1_024, ttl: .seconds(300)) == 0)
        #expect(sent == mine)
    }

    @Test func openAIRequestsOfOneTenantShareAPromptCacheKeyThatRevealsNothing() {
        func key(
            _ policy: SwitchboardConfiguration.Cache.Prompt.OpenAIKey,
            _ context: CallContext,
            _ body: JSONValue = ["model": "gpt-4o"]
        ) -> String? {
            var body = body
            PromptCaching.addOpenAIPromptCacheKey(&body, policy: policy, context: context)
            return body["prompt_cache_key"]?.stringValue
        }
        let acme = key(.perTenant, CallContext(userID: "a", tenantID: "acme"))
        #expect(acme == key(.perTenant, CallContext(userID: "b", tenantID: "acme")))
        #expect(acme != key(.perTenant, CallContext(tenantID: "globex")))
        #expect(acme?.hasPrefix("sb-") == true && acme?.contains("acme") == false)
        #expect(
            key(.perUser, CallContext(userID: "a", tenantID: "acme"))
                != key(.perUser, CallContext(userID: "b", tenantID: "acme"))
        )
        #expect(key(.off, CallContext(tenantID: "acme")) == nil)
        #expect(key(.perTenant, CallContext(tenantID: "acme"), ["prompt_cache_key": "mine"]) == "mine")
    }

    @Test func aRepeatedLongPromptIsReadFromTheProvidersCacheAndTheSavingRecorded() async throws {
        let system = longText
        let run = try await withPipeline { bench in
            var ids: [String] = []
            for _ in 0..<2 {
                var request = anthropicRequest("What is the refund window?", model: "anthropic/claude-sonnet-4-5")
                request.system = .text(system)
                let context = CallContext()
                _ = try await bench.pipeline.chat(request, context: context)
                ids.append(context.requestID)
            }
            return ids
        }
        let first = try #require(try run.journal.call(requestID: run.value[0])?.summary)
        let second = try #require(try run.journal.call(requestID: run.value[1])?.summary)
        #expect(first.tokens.cacheWrite5m > 1_000)
        #expect(first.savedNanoUSD == 0)
        #expect(second.tokens.cachedInput == first.tokens.cacheWrite5m)
        // Read at $0.30 instead of $3.00 per million: 2.70 per million saved.
        #expect(second.savedNanoUSD == (Int64(second.tokens.cachedInput) * 2_700_000_000 + 500_000) / 1_000_000)
        #expect(second.savedNanoUSD > 0)
    }
}

/// Digests as cache keys and ids: lower-case hex, two digits a byte.
@Suite struct HexTests {
    @Test func everyByteIsTwoLowerCaseDigits() {
        let bytes = (0...255).map(UInt8.init)
        #expect(bytes.hex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([0x00, 0x0F, 0xA5, 0xFF].hex == "000fa5ff")
        #expect([UInt8]().hex == "")
    }
}
