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

    /// Calls of one long prompt 10 minutes apart, with `ttl` 5m or auto.
    func callsTenMinutesApart(ttl: String) async throws -> [CallSummary] {
        let system = longText
        let clock = ManualClock()
        let run = try await withPipeline(
            clock: clock,
            configure: {
                $0.cache.prompt.ttlAuto = ttl == "auto"
            }
        ) { bench in
            var ids: [String] = []
            for index in 0..<4 {
                if index > 0 { clock.advance(by: .seconds(600)) }
                var request = anthropicRequest("Question \(index)?", model: "anthropic/claude-sonnet-4-5")
                request.system = .text(system)
                let context = CallContext()
                _ = try await clock.autoAdvancing { try await bench.pipeline.chat(request, context: context) }
                ids.append(context.requestID)
            }
            return ids
        }
        return try run.value.map { try #require(try run.journal.call(requestID: $0)?.summary) }
    }

    @Test func withTTLAutoAPromptBackEveryTenMinutesIsCachedForAnHour() async throws {
        // Five-minute entries are gone when the prompt comes back: it is written four times.
        let fixed = try await callsTenMinutesApart(ttl: "5m")
        #expect(fixed.allSatisfy { $0.tokens.cacheWrite5m > 1_000 && $0.tokens.cachedInput == 0 })
        // Auto: the second call sees it came back after its entry went, and writes it for an hour;
        // the others read it.
        let auto = try await callsTenMinutesApart(ttl: "auto")
        #expect(auto[0].tokens.cacheWrite5m > 1_000 && auto[0].tokens.cacheWrite1h == 0)
        #expect(auto[1].tokens.cacheWrite1h > 1_000 && auto[1].tokens.cacheWrite5m == 0)
        #expect(auto[2...].allSatisfy { $0.tokens.cachedInput > 1_000 && $0.tokens.cacheWrite1h == 0 })
        let cost = { (calls: [CallSummary]) in calls.reduce(Int64(0)) { $0 + ($1.costNanoUSD ?? 0) } }
        #expect(cost(auto) < cost(fixed))
        // The figures the README quotes.
        let dollars = { (nano: Int64) in String(format: "$%.5f", Double(nano) / 1e9) }
        print("prompt cache ttl, four calls 10 minutes apart: 5m \(dollars(cost(fixed))), auto \(dollars(cost(auto)))")
    }
}

/// Key affinity: with a pool of keys (each organisation with a prompt cache of its own), a long
/// prefix goes back to the key that holds it cached.
@Suite struct WarmKeyTests {
    let longText = String(repeating: "Policy clause: refunds within thirty days of purchase. ", count: 100)
    let keys = ["sk-sim-first-0001", "sk-sim-other-0002"]

    @Test func aLongPrefixHasAnIdentityItsQuestionsShareAndAShortOneNone() {
        func identity(_ system: String, _ question: String, kind: APIFormat = .anthropic, extra: JSONObject = [:])
            -> String?
        {
            var object: JSONObject =
                kind == .anthropic
                ? ["system": .string(system), "messages": [["role": "user", "content": .string(question)]]]
                : [
                    "messages": [
                        ["role": "system", "content": .string(system)], ["role": "user", "content": .string(question)],
                    ]
                ]
            for (key, value) in extra { object[key] = value }
            return PromptCaching.prefixIdentity(.object(object), kind: kind, minimumTokens: 1_024)
        }
        let long = identity(longText, "When?")
        #expect(long != nil)
        #expect(identity(longText, "Where?") == long)
        #expect(identity(longText + "!", "When?") != long)
        #expect(identity("Be brief.", "When?") == nil)
        let openAI = identity(longText, "When?", kind: .openAI)
        #expect(openAI != nil && identity(longText, "Where?", kind: .openAI) == openAI)
        #expect(identity(longText, "When?", kind: .openAI, extra: ["prompt_cache_key": "sb-1"]) != openAI)
    }

    @Test func theRecordsOfAModelKeepThePrefixesOfTheHourUpToTheirCapacity() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        var records = PrefixRecords()
        records.set("old", PrefixRecord(key: "a", lastUsed: now, lifetime: 300), now: now)
        let later = now.addingTimeInterval(PrefixRecords.retention)
        for index in 0..<PrefixRecords.capacity + 5 {
            let used = later.addingTimeInterval(Double(index))
            records.set("p\(index)", PrefixRecord(key: "a", lastUsed: used, lifetime: 300), now: used)
        }
        #expect(records.entries.count == PrefixRecords.capacity)
        #expect(records.entries["old"] == nil, "unused for an hour")
        #expect(
            records.entries["p0"] == nil && records.entries["p4"] == nil && records.entries["p5"] != nil,
            "the least recently used go"
        )
    }

    func calls(_ count: Int, affinity: Bool, simulator: SimulatorConfiguration = .testing) async throws -> [CallDetail]
    {
        let keys = keys
        let system = longText
        // A clock that stands still: no key's headroom refills between the calls.
        let clock = ManualClock()
        let run = try await withPipeline(
            simulator: simulator,
            clock: clock,
            configure: {
                $0.providers["openai"]?.apiKeys = keys.map { Secret(value: $0, source: "test") }
                $0.cache.prompt.keyAffinity = affinity
            }
        ) { bench in
            var ids: [String] = []
            for index in 0..<count {
                var request = openAIRequest("Question \(index): is a refund possible?", model: "openai/gpt-4o-mini")
                request.messages.insert(.system(system), at: 0)
                let context = CallContext(tenantID: "acme")
                _ = try await clock.autoAdvancing { try await bench.pipeline.chat(request, context: context) }
                ids.append(context.requestID)
            }
            return ids
        }
        return try run.value.map { try #require(try run.journal.call(requestID: $0)) }
    }

    @Test func aLongPrefixStaysOnTheKeyThatHoldsItCached() async throws {
        let sticky = try await calls(4, affinity: true)
        #expect(Set(sticky.flatMap(\.attempts).compactMap(\.keyFingerprint)) == ["sk-…0001"])
        #expect(sticky.dropFirst().allSatisfy { $0.summary.tokens.cachedInput > 1_000 }, "read from the cache")
        // Without affinity the pool spreads the calls by headroom, and a key without the prefix
        // writes it again at full price.
        let spread = try await calls(4, affinity: false)
        #expect(Set(spread.flatMap(\.attempts).compactMap(\.keyFingerprint)) == ["sk-…0001", "sk-…0002"])
        #expect(spread.dropFirst().contains { $0.summary.tokens.cachedInput == 0 })
        // The figures the README quotes.
        let cached = { (calls: [CallDetail]) in calls.map { "\($0.summary.tokens.cachedInput)" }.joined(separator: ", ")
        }
        print("key affinity, cached input tokens of four calls: on \(cached(sticky)); off \(cached(spread))")
    }

    @Test func aWarmKeyLowOnHeadroomIsPassedOverAndTheMoveJournaled() async throws {
        var simulator = SimulatorConfiguration.testing
        var small = SimulatorConfiguration.ProviderLimits()
        small.openAI = .init(requests: 10, tokens: 2_000_000)
        simulator.keys[keys[0]] = .init(limits: small)
        let details = try await calls(10, affinity: true, simulator: simulator)
        let used = details.map { $0.attempts.first?.keyFingerprint }
        // The warm key is kept down to a fifth of its requests left (the floor), then passed over.
        #expect(used == Array(repeating: "sk-…0001", count: 9) + ["sk-…0002"])
        let move = try #require(details[9].events.first { $0.kind == "warm_key" })
        #expect(move.detail?["from"]?.stringValue == "sk-…0001" && move.detail?["to"]?.stringValue == "sk-…0002")
        #expect(details.dropLast().allSatisfy { !$0.events.contains { $0.kind == "warm_key" } })
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
