import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Synchronization
import Testing

struct CacheKeyTests {
    func key(_ body: String, format: APIFormat = .openAI, tenant: String? = nil) throws -> String {
        CacheKey.make(format: format, body: try JSONValue.parse(body), tenant: tenant)
    }

    let base = #"{"model":"default","temperature":0,"messages":[{"role":"user","content":"Hi"}],"max_tokens":20}"#

    @Test func keyOrderWhitespaceNumberFormsAndDeliveryDoNotSplitTheKey() throws {
        let reference = try key(base)
        #expect(reference.count == 64)
        #expect(
            try key(
                #"{ "messages": [ { "content": "Hi", "role": "user" } ], "max_tokens": 20, "temperature": 0.0, "model": "default" }"#
            ) == reference
        )
        #expect(
            try key(
                #"{"model":"default","temperature":0e0,"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":2e1}"#
            ) == reference
        )
        #expect(
            try key(
                #"{"model":"default","temperature":0,"messages":[{"role":"user","content":"Hi"}],"max_tokens":20,"stream":true,"stream_options":{"include_usage":true},"user":"u-1"}"#
            ) == reference
        )
    }

    @Test func tenantModelTemperatureFormatAndContentSplitTheKey() throws {
        let reference = try key(base)
        #expect(try key(base, tenant: "acme") != reference)
        #expect(try key(base, tenant: "acme") != (try key(base, tenant: "globex")))
        #expect(try key(base.replacingOccurrences(of: "default", with: "premium")) != reference)
        #expect(try key(base.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":0.2"#)) != reference)
        #expect(try key(base.replacingOccurrences(of: "Hi", with: "Hi ")) != reference)
        #expect(try key(base, format: .anthropic) != reference)
    }

    static let headers: [(String, CacheControl)] = [
        ("ttl=600", .ttl(.seconds(600))), ("TTL=10m", .ttl(.seconds(600))), ("no-store", .noStore),
        ("no-cache", .noCache), ("max-age=30", .ttl(.seconds(30))),
    ]

    @Test func theCacheControlHeaderReads() {
        for (header, control) in Self.headers { #expect(CacheControl(header: header) == control, "\(header)") }
    }

    @Test func aBadCacheControlHeaderIsNotRead() {
        #expect(CacheControl(header: "ttl=-5") == nil)
        #expect(CacheControl(header: "forever") == nil)
    }
}

struct ExactCacheTests {
    static func deterministic(_ text: String = "What is the capital of France?") -> OpenAI.ChatCompletionRequest {
        var request = openAIRequest(text, model: "openai/gpt-4o-mini")
        request.temperature = 0
        return request
    }

    @Test func anIdenticalDeterministicQuestionIsAnsweredFromTheCacheForNothing() async throws {
        let run = try await withPipeline { bench in
            var ids: [String] = []
            var texts: [String] = []
            for _ in 0..<2 {
                let context = CallContext(userID: "ada")
                let answer = try await bench.pipeline.chat(Self.deterministic(), context: context)
                texts.append(answer.choices.first?.message.content?.text ?? "")
                ids.append(context.requestID)
            }
            #expect(bench.simulator.stats.snapshot.requests == 1)
            return (ids, texts)
        }
        let (ids, texts) = run.value
        #expect(texts[0] == texts[1] && !texts[0].isEmpty)
        let first = try #require(try run.journal.call(requestID: ids[0])?.summary)
        let second = try #require(try run.journal.call(requestID: ids[1])?.summary)
        #expect(first.cache == "miss" && first.outcome == "ok")
        #expect(second.cache == "hit" && second.outcome == "cached")
        #expect(second.costNanoUSD == 0 && second.attempts == 0)
        #expect(second.savedNanoUSD == first.costNanoUSD && second.savedNanoUSD > 0)
        // A whole answer has no first token, from the provider or from the cache (else the
        // cache's microseconds would pass for the model's time to first token).
        #expect(first.timeToFirstTokenMilliseconds == nil && second.timeToFirstTokenMilliseconds == nil)
    }

    @Test func aSamplingQuestionBypassesTheCacheUnlessTheCallerOptsIn() async throws {
        let run = try await withPipeline { bench in
            let request = openAIRequest(model: "openai/gpt-4o-mini")  // no temperature: not deterministic
            let plain = CallContext()
            _ = try await bench.pipeline.chat(request, context: plain)
            _ = try await bench.pipeline.chat(request)
            #expect(bench.simulator.stats.snapshot.requests == 2)
            let opted = CallContext(cacheControl: .ttl(.seconds(600)))
            _ = try await bench.pipeline.chat(request, context: opted)
            var again = opted
            again.requestID = CallContext.newRequestID()
            _ = try await bench.pipeline.chat(request, context: again)
            #expect(bench.simulator.stats.snapshot.requests == 3)
            // no-store neither reads nor writes; no-cache asks the provider and refreshes the entry.
            _ = try await bench.pipeline.chat(request, context: CallContext(cacheControl: .noStore))
            _ = try await bench.pipeline.chat(request, context: CallContext(cacheControl: .noCache))
            #expect(bench.simulator.stats.snapshot.requests == 5)
            return [plain.requestID, again.requestID]
        }
        #expect(try run.journal.call(requestID: run.value[0])?.summary.cache == "bypass")
        #expect(try run.journal.call(requestID: run.value[1])?.summary.cache == "hit")
    }

    @Test func anEntryExpiresWithItsTTL() async throws {
        let clock = ManualClock()
        _ = try await withPipeline(clock: clock, configure: { $0.cache.exact.defaultTTL = .seconds(60) }) { bench in
            _ = try await bench.pipeline.chat(Self.deterministic())
            clock.advance(by: .seconds(59))
            _ = try await bench.pipeline.chat(Self.deterministic())
            #expect(bench.simulator.stats.snapshot.requests == 1)
            clock.advance(by: .seconds(2))
            _ = try await bench.pipeline.chat(Self.deterministic())
            #expect(bench.simulator.stats.snapshot.requests == 2)
        }
    }

    @Test func tenantsNeverShareAnEntry() async throws {
        _ = try await withPipeline { bench in
            _ = try await bench.pipeline.chat(Self.deterministic(), context: CallContext(tenantID: "acme"))
            _ = try await bench.pipeline.chat(Self.deterministic(), context: CallContext(tenantID: "globex"))
            _ = try await bench.pipeline.chat(Self.deterministic(), context: CallContext(tenantID: "acme"))
            #expect(bench.simulator.stats.snapshot.requests == 2)
        }
    }

    @Test func aStreamAndAWholeAnswerShareOneEntry() async throws {
        let run = try await withPipeline { bench in
            // A whole answer first, then a stream of it.
            let whole = try await bench.pipeline.chat(Self.deterministic("Name a river."))
            var streamRequest = Self.deterministic("Name a river.")
            streamRequest.streamOptions = OpenAI.StreamOptions(includeUsage: true)
            let chunks = try await collect(bench.pipeline.stream(streamRequest))
            #expect(bench.simulator.stats.snapshot.requests == 1)
            let streamed = chunks.compactMap { $0.choices.first?.delta.content }.joined()
            #expect(streamed == whole.choices.first?.message.content?.text)
            #expect(chunks.first?.choices.first?.delta.role == "assistant")
            #expect(chunks.contains { $0.choices.first?.finishReason != nil })
            #expect(chunks.last?.usage != nil)
            // A stream first (Anthropic format), then a whole answer of it.
            var anthropic = anthropicRequest("Name a mountain.", model: "anthropic/claude-haiku-4-5")
            anthropic.temperature = 0
            let events = try await collect(bench.pipeline.stream(anthropic))
            let context = CallContext()
            let answer = try await bench.pipeline.chat(anthropic, context: context)
            #expect(bench.simulator.stats.snapshot.requests == 2)
            let text = events.compactMap { event -> String? in
                if case .contentBlockDelta(_, let delta) = event { return delta.text }
                return nil
            }.joined()
            #expect(answer.text == text && !text.isEmpty)
            // And the stream of a stream: the events a provider would send.
            let replayed = try await collect(bench.pipeline.stream(anthropic))
            #expect(replayed.map(\.name).first == "message_start")
            #expect(replayed.map(\.name).last == "message_stop")
            #expect(bench.simulator.stats.snapshot.requests == 2)
            return context.requestID
        }
        let hit = try #require(try run.journal.call(requestID: run.value)?.summary)
        #expect(hit.cache == "hit" && hit.timeToFirstTokenMilliseconds == nil)
    }

    @Test func aStreamingHitCanKeepTheOriginalPace() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock, configure: { $0.cache.exact.replayPacing = true }) { bench in
            var request = Self.deterministic("Tell me about rivers.")
            request.stream = true
            let text = String(repeating: "Rivers run to the sea and back as rain. ", count: 6)
            let answer: JSONValue = [
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                "choices": [
                    ["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop"]
                ],
                "usage": ["prompt_tokens": 10, "completion_tokens": 60, "total_tokens": 70],
            ]
            let now = clock.now()
            await bench.pipeline.cache?.finish(
                CacheKey.make(format: .openAI, body: request.json, tenant: nil),
                with: CacheEntry(
                    response: answer,
                    costNanoUSD: 37_500,
                    storedAt: now,
                    expiresAt: now.addingTimeInterval(60),
                    timeToFirstToken: .milliseconds(200),
                    duration: .milliseconds(1_200)
                )
            )
            let context = CallContext()
            let chunks = try await clock.autoAdvancing {
                try await collect(bench.pipeline.stream(request, context: context))
            }
            #expect(chunks.compactMap { $0.choices.first?.delta.content }.joined() == text)
            #expect(abs(clock.now().timeIntervalSince(now) - 1.2) < 0.001, "the original 1.2 s")
            #expect(bench.simulator.stats.snapshot.requests == 0)
            return context.requestID
        }
        let call = try #require(try run.journal.call(requestID: run.value)?.summary)
        #expect(call.cache == "hit" && call.savedNanoUSD == 37_500)
        #expect(abs((call.timeToFirstTokenMilliseconds ?? 0) - 200) < 1)
    }

    @Test func fiftyIdenticalConcurrentQuestionsReachTheProviderOnce() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.latency.timeToFirstToken = .milliseconds(300)
        let run = try await withPipeline(simulator: simulator) { bench in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let context = CallContext()
                        _ = try await bench.pipeline.chat(Self.deterministic("A popular question"), context: context)
                        return context.requestID
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(bench.simulator.stats.snapshot.requests == 1)
            return ids
        }
        let outcomes = try run.value.map { try run.journal.call(requestID: $0)?.summary.cache ?? "-" }
        #expect(outcomes.count == 50)
        #expect(outcomes.filter { $0 == "miss" }.count == 1)
        #expect(outcomes.filter { $0 == "joined" }.count > 25)
        #expect(Set(outcomes).isSubset(of: ["miss", "joined", "hit"]))
    }

    @Test func processesOnTheHostShareEntriesThroughTheSQLiteStore() async throws {
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            var configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
            configuration.state.backend = .sqlite
            configuration.state.sqlitePath = "\(directory)/state.sqlite"
            let first = try Pipeline(configuration: configuration, logger: quietLogger)
            _ = try await first.chat(Self.deterministic())
            // A second pipeline has an empty memory cache; the entry comes from the shared file.
            let second = try Pipeline(configuration: configuration, logger: quietLogger)
            let records = Mutex<[String]>([])
            _ = try await second.chat(
                Self.deterministic(),
                context: CallContext(onRecord: { record in records.withLock { $0.append(record.cache?.rawValue ?? "-") }
                })
            )
            #expect(records.withLock { $0 } == ["hit"])
            #expect(fixture.simulator.stats.snapshot.requests == 1)
        }
    }
}
