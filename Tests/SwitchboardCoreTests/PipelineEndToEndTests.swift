import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Testing

/// The pipeline against the simulator over loopback HTTP: what providers do at their worst, and
/// what the caller and the journal see.
@Suite struct PipelineEndToEndTests {
    @Test func aBurstOf5xxIsRetriedAndEveryAttemptIsJournaled() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.status(500), .status(503)], provider: .openAI)
            let context = CallContext(userID: "ada")
            let answer = try await clock.autoAdvancing {
                try await bench.pipeline.chat(openAIRequest(), context: context)
            }
            #expect(bench.simulator.stats.snapshot.requests == 3)
            return (answer, context.requestID)
        }
        let (answer, requestID) = run.value
        #expect(answer.choices.first?.message.content?.text.isEmpty == false)
        #expect(answer.model.hasPrefix("gpt-4o-mini"))

        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.outcome == "ok")
        #expect(detail.summary.attempts == 3)
        #expect(detail.summary.userID == "ada")
        #expect(detail.summary.route == "default")
        #expect(detail.attempts.map(\.httpStatus) == [500, 503, 200])
        #expect(detail.attempts.map(\.errorClass) == ["server_error", "server_error", nil])
        // Full jitter: each backoff lies within [0, min(cap, base·2ⁿ)].
        #expect(detail.attempts[1].backoffMilliseconds <= 200)
        #expect(detail.attempts[2].backoffMilliseconds <= 400)
        #expect(detail.summary.tokens.output > 0)
        #expect(
            detail.summary.costNanoUSD == (try PriceBook.bundled()).cost(detail.summary.tokens, model: "gpt-4o-mini")
        )
    }

    @Test func a429IsNeverRetriedBeforeItsRetryAfter() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.rateLimited(retryAfter: .seconds(3))], provider: .openAI)
            let context = CallContext()
            _ = try await clock.autoAdvancing { try await bench.pipeline.chat(openAIRequest(), context: context) }
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.attempts.map(\.httpStatus) == [429, 200])
        #expect(detail.attempts[0].rateLimitHeaders["retry-after"] == "3")
        #expect(detail.attempts[1].retryAfterMilliseconds == 3_000)
        let first = detail.attempts[0]
        let answeredAt = first.startedAt.addingTimeInterval((first.latencyMilliseconds ?? 0) / 1000)
        #expect(detail.attempts[1].startedAt.timeIntervalSince(answeredAt) >= 3)
        // The retry-after spread is at most 10 % (here 0.3 s).
        #expect(detail.attempts[1].startedAt.timeIntervalSince(answeredAt) <= 3.3 + 0.001)
    }

    @Test func aResetConnectionAndAMalformedAnswerAreRetried() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.reset, .malformed], provider: .openAI)
            let context = CallContext()
            _ = try await clock.autoAdvancing { try await bench.pipeline.chat(openAIRequest(), context: context) }
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.summary.outcome == "ok")
        #expect(detail.attempts.map(\.errorClass) == ["connection_reset", "invalid_response", nil])
    }

    @Test func aStallTimesOutAtTheFirstByteDeadlineAndIsRetried() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(
            clock: clock,
            configure: { $0.resilience.timeouts.firstByte = .seconds(1) }
        ) { bench in
            bench.simulator.enqueue([.stall], provider: .openAI)
            let context = CallContext()
            _ = try await clock.autoAdvancing { try await bench.pipeline.chat(openAIRequest(), context: context) }
            // The stalled request's connection was closed by the pipeline, not left hanging.
            try await poll("the stalled connection closed") { bench.simulator.stats.snapshot.inFlight == 0 }
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.summary.outcome == "ok")
        #expect(detail.attempts.first?.errorClass == "first_byte_timeout")
        #expect(detail.attempts.first?.errorMessage == "no answer within first_byte 1s")
        #expect(detail.attempts.last?.errorClass == nil)
    }

    @Test func aStreamThatBreaksBeforeItsFirstTokenIsRetriedInvisibly() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.malformed], provider: .openAI)
            let context = CallContext()
            let chunks = try await clock.autoAdvancing {
                try await collect(bench.pipeline.stream(openAIRequest(), context: context))
            }
            return (chunks, context.requestID)
        }
        // One clean stream: one role delta, text, one finish; no usage chunk, as none was asked for.
        let (chunks, requestID) = run.value
        #expect(chunks.filter { $0.choices.first?.delta.role != nil }.count == 1)
        #expect(chunks.filter { $0.choices.first?.finishReason != nil }.count == 1)
        #expect(chunks.allSatisfy { $0.usage == nil })
        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.stream)
        #expect(detail.attempts.map(\.errorClass) == ["invalid_response", nil])
        #expect(detail.summary.timeToFirstTokenMilliseconds != nil)
    }

    @Test func aStreamThatBreaksAfterItsFirstTokenEndsInAnErrorAndIsBilledForWhatCame() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.midStreamError], provider: .openAI)
            let context = CallContext()
            var text = ""
            var failure: (any Error)?
            do {
                for try await chunk in bench.pipeline.stream(openAIRequest(maxTokens: 60), context: context) {
                    text += chunk.choices.first?.delta.content ?? ""
                }
            } catch {
                failure = error
            }
            return (text, failure, context.requestID)
        }
        let (text, failure, requestID) = run.value
        #expect(!text.isEmpty)
        let error = try #require(failure as? SwitchboardError)
        #expect(error.code == .upstreamExhausted)
        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.outcome == "error")
        #expect(detail.summary.attempts == 1, "a stream whose events reached the caller is never retried")
        #expect(detail.summary.tokens.output > 0)
        #expect(detail.summary.tokens.input > 0)
        #expect((detail.summary.costNanoUSD ?? 0) > 0, "a stream cut by an error is billed for what was produced")
    }

    @Test(arguments: [false, true])
    func anOpenAICallerFallsBackToAnthropicAndStillSeesOpenAI(streaming: Bool) async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.startOutage(provider: .openAI, status: 503, duration: .seconds(3600))
            let context = CallContext()
            let text = try await clock.autoAdvancing {
                if streaming {
                    var request = openAIRequest()
                    request.streamOptions = OpenAI.StreamOptions(includeUsage: true)
                    let chunks = try await collect(bench.pipeline.stream(request, context: context))
                    #expect(chunks.last?.usage != nil)
                    #expect(
                        chunks.contains {
                            $0.choices.first?.finishReason == "stop" || $0.choices.first?.finishReason == "length"
                        }
                    )
                    return chunks.compactMap { $0.choices.first?.delta.content }.joined()
                }
                let answer = try await bench.pipeline.chat(openAIRequest(), context: context)
                #expect(answer.object == "chat.completion")
                #expect(answer.usage?.promptTokens ?? 0 > 0)
                return answer.choices.first?.message.content?.text ?? ""
            }
            return (text, context.requestID)
        }
        let (text, requestID) = run.value
        #expect(!text.isEmpty)
        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.fellBack)
        #expect(detail.summary.provider == "anthropic")
        #expect(detail.attempts.map(\.provider) == ["openai", "openai", "openai", "anthropic"])
        // Each attempt keeps the provider's own id of it (OpenAI's x-request-id, Anthropic's
        // request-id), not the gateway's, and none of the provider's other headers.
        let ids = detail.attempts.compactMap(\.providerRequestID)
        #expect(ids.count == 4 && Set(ids).count == 4 && !ids.contains(requestID))
        #expect(detail.attempts[0].rateLimitHeaders["x-request-id"] == ids[0])
        #expect(detail.attempts[3].rateLimitHeaders["request-id"] == ids[3])
        #expect(!detail.attempts.contains { $0.rateLimitHeaders.keys.contains { $0.contains("organization") } })
        let hop = try #require(detail.events.first { $0.kind == "fallback" })
        #expect(hop.detail?["from"]?.stringValue == "openai/gpt-4o-mini")
        #expect(hop.detail?["to"]?.stringValue == "anthropic/claude-haiku-4-5")
    }

    @Test(arguments: [false, true])
    func anAnthropicCallerFallsBackToOpenAIAndStillSeesAnthropic(streaming: Bool) async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.startOutage(provider: .anthropic, status: 529, duration: .seconds(3600))
            let context = CallContext()
            let text = try await clock.autoAdvancing {
                if streaming {
                    let events = try await collect(bench.pipeline.stream(anthropicRequest(), context: context))
                    #expect(events.first?.name == "message_start")
                    #expect(events.last?.name == "message_stop")
                    return events.compactMap { event -> String? in
                        if case .contentBlockDelta(_, let delta) = event { return delta.text }
                        return nil
                    }.joined()
                }
                let answer = try await bench.pipeline.chat(anthropicRequest(), context: context)
                #expect(answer.type == "message")
                #expect(answer.usage.inputTokens > 0)
                return answer.text
            }
            return (text, context.requestID)
        }
        let (text, requestID) = run.value
        #expect(!text.isEmpty)
        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.fellBack)
        #expect(detail.summary.provider == "openai")
        #expect(detail.attempts.map(\.httpStatus) == [529, 529, 529, 200])
    }

    @Test func aKeyTheProviderRefusesIsPassedOverForAnotherOfThePool() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.keys["sk-sim-revoked-0001"] = .init(rejected: true)
        let run = try await withPipeline(
            simulator: simulator,
            configure: {
                $0.providers["openai"]?.apiKeys = ["sk-sim-revoked-0001", "sk-sim-working-0002"].map {
                    Secret(value: $0, source: "test")
                }
            }
        ) { bench in
            var ids: [String] = []
            for _ in 0..<2 {
                let context = CallContext()
                _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: context)
                ids.append(context.requestID)
            }
            return ids
        }
        let first = try #require(try run.journal.call(requestID: run.value[0]))
        #expect(first.attempts.map(\.httpStatus) == [401, 200])
        #expect(first.attempts.map(\.keyFingerprint) == ["sk-…0001", "sk-…0002"])
        let message = try #require(first.attempts[0].errorMessage)
        #expect(!message.contains("sk-sim-revoked-0001"), "a key never reaches the journal")
        // The refused key is passed over at once from then on.
        let second = try #require(try run.journal.call(requestID: run.value[1]))
        #expect(second.attempts.map(\.keyFingerprint) == ["sk-…0002"])
    }

    @Test func aClientErrorIsNotRetriedAndComesBackInTheCallersFormat() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(clock: clock) { bench in
            bench.simulator.enqueue([.status(400)], provider: .openAI)
            do {
                _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"))
                return nil as UpstreamError?
            } catch let error as UpstreamError {
                #expect(bench.simulator.stats.snapshot.requests == 1)
                return error
            }
        }
        let error = try #require(run.value)
        #expect(error.status == 400)
        let body = error.body(.anthropic, requestID: "req_1")
        #expect(body["type"]?.stringValue == "error")
        #expect(body["error"]?["type"]?.stringValue == "invalid_request_error")
    }

    /// A provider bills what it accepted: an answer cut short is billed for what came, a refusal
    /// with an error status (4xx, 5xx) for nothing, however many attempts there were.
    @Test(arguments: [false, true])
    func attemptsTheProviderRefusedCostNothing(streaming: Bool) async throws {
        let clock = ManualClock()
        let run = try await withPipeline(
            clock: clock,
            configure: {
                $0.resilience.retry.maxAttempts = 2
                $0.routes["default"]?.targets.removeLast()
            }
        ) { bench in
            bench.simulator.enqueue([.status(503), .status(429)], provider: .openAI)
            let context = CallContext(userID: "ada")
            await #expect(throws: (any Error).self) {
                try await clock.autoAdvancing {
                    if streaming {
                        for try await _ in bench.pipeline.stream(openAIRequest(), context: context) {}
                    } else {
                        _ = try await bench.pipeline.chat(openAIRequest(), context: context)
                    }
                }
            }
            #expect(bench.simulator.stats.snapshot.requests == 2)
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.attempts.map(\.httpStatus) == [503, 429])
        #expect(detail.summary.tokens == TokenCounts())
        #expect(detail.summary.costNanoUSD == 0)
    }

    @Test func aModelNoRouteOrProviderServesIsRefusedBeforeAnyProviderIsCalled() async throws {
        let run = try await withPipeline { bench in
            do {
                _ = try await bench.pipeline.chat(openAIRequest(model: "mistral-large"))
                return nil as SwitchboardError?
            } catch let error as SwitchboardError {
                #expect(bench.simulator.stats.snapshot.requests == 0)
                return error
            }
        }
        let error = try #require(run.value)
        #expect(error.code == .unknownModel)
        #expect(error.message.contains("routes: claude-first, default"))
    }

    @Test func aModelTheProviderDoesNotServeComesBackAsTheProviders404() async throws {
        let run = try await withPipeline { bench in
            do {
                _ = try await bench.pipeline.chat(openAIRequest(model: "gpt-17-turbo"))
                return nil as UpstreamError?
            } catch let error as UpstreamError {
                #expect(bench.simulator.stats.snapshot.requests == 1)
                return error
            }
        }
        let error = try #require(run.value)
        #expect(error.status == 404)
        #expect(error.message.contains("gpt-17-turbo"))
    }

    @Test func cancellingAStreamClosesTheUpstreamConnectionAndJournalsThePartialUsage() async throws {
        let run = try await withPipeline { bench in
            bench.simulator.enqueue([.slowStream(interval: .milliseconds(200))], provider: .openAI)
            let context = CallContext()
            let consumer = Task {
                var received = 0
                for try await chunk in bench.pipeline.stream(openAIRequest(maxTokens: 200), context: context)
                where chunk.choices.first?.delta.content != nil {
                    received += 1
                    if received == 2 { break }
                }
                return received
            }
            #expect(try await consumer.value == 2)
            // Leaving the loop ends the stream: the upstream connection is closed, not drained (and
            // never completed, below). The bound is for a loaded machine — the whole suite at once
            // on two cores took over 5 s once; `bench pipeline` measures the close (under 3 ms).
            try await poll("the simulator saw the client leave", timeout: .seconds(30), interval: .milliseconds(2)) {
                bench.simulator.stats.snapshot.cancelledConnections == 1
            }
            #expect(bench.simulator.stats.snapshot.streamsCompleted == 0)
            try await poll("the cancelled call journaled") {
                (try? bench.reader().call(requestID: context.requestID)) != nil
            }

            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.summary.outcome == "error")
        #expect(detail.summary.errorClass == "cancelled")
        #expect(detail.summary.tokens.output >= 2, "what was produced is recorded")
        #expect(detail.summary.tokens.input > 0)
        let cost = try #require(detail.summary.costNanoUSD)
        let billed = try PriceBook.bundled().cost(detail.summary.tokens, model: "gpt-4o-mini")
        #expect(cost > 0 && cost == billed, "and billed")
    }

    @Test func twoPipelinesShareHeadroomThroughTheSQLiteStore() async throws {
        let clock = ManualClock()
        let directory = try temporaryDirectory()
        var simulator = SimulatorConfiguration.testing
        simulator.limits.openAI = .init(window: .seconds(60), requests: 3, tokens: 1_000_000)
        let statePath = "\(directory)/state.sqlite"
        try await withSimulator(simulator, now: { clock.now() }) { fixture in
            let configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
            let first = try Pipeline(
                configuration: configuration,
                store: try SQLiteStateStore(path: statePath),
                clock: clock,
                random: SeededRandom(seed: 1),
                logger: quietLogger
            )
            let second = try Pipeline(
                configuration: configuration,
                store: try SQLiteStateStore(path: statePath),
                clock: clock,
                random: SeededRandom(seed: 2),
                logger: quietLogger
            )
            let request = openAIRequest(model: "openai/gpt-4o-mini")
            for _ in 0..<3 { _ = try await first.chat(request) }
            // The first pipeline used the key's three requests; the second knows it without asking.
            let start = clock.now()
            let waiting = Task { try await second.chat(request) }
            await clock.sleepers(atLeast: 1)
            #expect(fixture.simulator.stats.snapshot.requests == 3)
            let wake = try #require(clock.sleeperDeadlines.first)
            #expect(wake.timeIntervalSince(start) > 1, "it waits for the window's reset")
            clock.advanceToNextSleeper()
            _ = try await waiting.value
            #expect(fixture.simulator.stats.snapshot.rateLimited == 0)
            #expect(fixture.simulator.stats.snapshot.requests == 4)
        }
    }

    @Test func twoHundredConcurrentCallsAgainstARemainingOfFiftySendFiftyBeforeTheReset() async throws {
        let clock = ManualClock()
        var simulator = SimulatorConfiguration.testing
        simulator.limits.openAI = .init(window: .seconds(60), requests: 51, tokens: 10_000_000)
        _ = try await withPipeline(
            simulator: simulator,
            clock: clock,
            configure: { $0.resilience.timeouts.total = .seconds(600) }
        ) { bench in
            let request = openAIRequest(model: "openai/gpt-4o-mini", maxTokens: 5)
            _ = try await bench.pipeline.chat(request)  // learns: 50 requests remain until the reset
            let calls = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<200 { group.addTask { _ = try await bench.pipeline.chat(request) } }
                    try await group.waitForAll()
                }
            }
            await clock.sleepers(atLeast: 150)
            try await poll("fifty calls answered") { bench.simulator.stats.snapshot.requests == 51 }
            #expect(clock.sleeperCount == 150)
            // Past each reset the next fifty go out, until all are answered (four windows).
            try await clock.autoAdvancing { try await calls.value }
            #expect(bench.simulator.stats.snapshot.rateLimited == 0)
            #expect(bench.simulator.stats.snapshot.requests == 201)
        }
    }

    @Test func anOpenCircuitIsSkippedAndItsTransitionsJournaled() async throws {
        let clock = ManualClock()
        let run = try await withPipeline(
            clock: clock,
            configure: {
                $0.resilience.breaker.minCalls = 4
                $0.resilience.breaker.failureRatio = 0.5
                $0.resilience.retry.maxAttempts = 2
                $0.resilience.retryBudget.minPerSecond = 100
            }
        ) { bench in
            bench.simulator.startOutage(provider: .openAI, status: 500, duration: .seconds(3600))
            var ids: [String] = []
            for _ in 0..<3 {
                let context = CallContext()
                _ = try await clock.autoAdvancing { try await bench.pipeline.chat(openAIRequest(), context: context) }
                ids.append(context.requestID)
            }
            return ids
        }
        let requestIDs = run.value
        let reader = run.journal
        let first = try #require(try reader.call(requestID: requestIDs[0]))
        let second = try #require(try reader.call(requestID: requestIDs[1]))
        let third = try #require(try reader.call(requestID: requestIDs[2]))
        #expect(first.attempts.map(\.provider) == ["openai", "openai", "anthropic"])
        // The fourth failure opens the circuit; the third call goes straight to Anthropic.
        let opened = try #require(
            second.events.first { $0.kind == "breaker" && $0.detail?["to"]?.stringValue == "open" }
        )
        // It says when it lets a probe through: `open_for` (15 s) after it opened, to the second.
        let probeAt = try #require(opened.detail?["probe_at"]?.stringValue.flatMap(RFC3339.parse))
        #expect(abs(probeAt.timeIntervalSince(opened.at) - 15) < 1)
        #expect(opened.detail?["failures"]?.intValue == 4)
        #expect(third.attempts.map(\.provider) == ["anthropic"])
        #expect(third.summary.provider == "anthropic")
    }
}
