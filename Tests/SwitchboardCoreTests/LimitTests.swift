import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Synchronization
import Testing

struct GCRATests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func aBurstOfTheWholeLimitThenOneEveryInterval() {
        var limiter = GCRA()
        for index in 0..<60 {
            let decision = limiter.take(1, limit: 60, period: .seconds(60), now: start)
            #expect(decision.allowed)
            #expect(decision.remaining == 59 - index)
        }
        let refused = limiter.take(1, limit: 60, period: .seconds(60), now: start)
        #expect(!refused.allowed)
        #expect(refused.remaining == 0)
        #expect(refused.retryAfter == .seconds(1))
        #expect(refused.resetAfter == .seconds(60))
        // One interval later exactly one more fits.
        let later = start.addingTimeInterval(1)
        #expect(limiter.take(1, limit: 60, period: .seconds(60), now: later).allowed)
        #expect(!limiter.take(1, limit: 60, period: .seconds(60), now: later).allowed)
        // After a whole period of quiet the whole burst is back.
        let quiet = start.addingTimeInterval(121)
        #expect(limiter.take(60, limit: 60, period: .seconds(60), now: quiet).allowed)
    }

    @Test func tokensAreUnitsAndRefundsGiveThemBack() {
        var limiter = GCRA()
        #expect(limiter.take(800, limit: 1_000, period: .seconds(60), now: start).remaining == 200)
        let refused = limiter.take(300, limit: 1_000, period: .seconds(60), now: start)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == .seconds(6), "100 tokens short at 1,000 per minute")
        limiter.adjust(by: 500, limit: 1_000, period: .seconds(60), now: start)  // the call used 300
        #expect(limiter.take(300, limit: 1_000, period: .seconds(60), now: start).allowed)
        let tooBig = limiter.take(1_001, limit: 1_000, period: .seconds(60), now: start.addingTimeInterval(3600))
        #expect(!tooBig.allowed && tooBig.retryAfter == nil, "never fits")
    }
}

struct LimitPipelineTests {
    @Test func aUserOverTheRequestLimitIsRefusedWithRetryAfterAndLaterServed() async throws {
        let clock = ManualClock()
        let statuses = Mutex<[LimitStatus]>([])
        let run = try await withPipeline(
            clock: clock,
            configure: { $0.limits.users["ada"] = .init(rpm: 3, tpm: 100_000) }
        ) {
            bench in
            let context = CallContext(userID: "ada", onLimits: { status in statuses.withLock { $0.append(status) } })
            for _ in 0..<3 {
                _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: context)
            }
            var refused = context
            refused.requestID = CallContext.newRequestID()
            let error = await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: refused)
            }
            #expect(bench.simulator.stats.snapshot.requests == 3)
            clock.advance(by: .seconds(20))
            var later = context
            later.requestID = CallContext.newRequestID()
            _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: later)
            return (error, refused.requestID)
        }
        let error = try #require(run.value.0)
        #expect(error.code == .rateLimited)
        #expect(error.retryAfter == .seconds(20))
        #expect(error.message == "user ada is over its limit of 3 requests per minute; retry after 20s")
        #expect(error.headers(.openAI).contains { $0.name == "retry-after" && $0.value == "20" })
        let call = try #require(try run.journal.call(requestID: run.value.1)?.summary)
        #expect(call.outcome == "rate_limited" && call.attempts == 0)
        let seen = statuses.withLock { $0 }
        #expect(seen.map(\.requests.remaining) == [2, 1, 0, 0, 0])
        #expect(seen.map(\.allowed) == [true, true, true, false, true])
    }

    @Test func aCallOverTheWholeTokenLimitIsRefusedAsTokenLimited() async throws {
        let run = try await withPipeline(configure: { $0.limits.defaultUser = .init(rpm: 60, tpm: 50) }) { bench in
            await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(openAIRequest(maxTokens: 100), context: CallContext(userID: "bo"))
            }
        }
        let error = try #require(run.value)
        #expect(error.code == .tokenLimited)
        #expect(error.retryAfter == nil)
        #expect(error.message.contains("over user bo's whole limit of 50 tokens per minute"))
    }

    @Test func shadowModeCountsButNeverRefuses() async throws {
        let run = try await withPipeline(configure: {
            $0.limits.shadow = true
            $0.limits.defaultUser = .init(rpm: 1, tpm: 100_000)
        }) { bench in
            var ids: [String] = []
            for _ in 0..<2 {
                let context = CallContext(userID: "cy")
                _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: context)
                ids.append(context.requestID)
            }
            return ids
        }
        let second = try #require(try run.journal.call(requestID: run.value[1]))
        #expect(second.summary.outcome == "ok")
        #expect(second.events.contains { $0.kind == "limit_shadow" && $0.scope == "user cy" })
        let first = try #require(try run.journal.call(requestID: run.value[0]))
        #expect(!first.events.contains { $0.kind == "limit_shadow" })
    }

    @Test func anonymousCallersAreLimitedByAddress() async throws {
        let run = try await withPipeline(configure: { $0.limits.anonymous = .init(rpm: 1, tpm: 10_000) }) { bench in
            let request = openAIRequest(model: "openai/gpt-4o-mini")
            _ = try await bench.pipeline.chat(request, context: CallContext(clientAddress: "203.0.113.7"))
            _ = try await bench.pipeline.chat(request, context: CallContext(clientAddress: "203.0.113.8"))
            let error = await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(request, context: CallContext(clientAddress: "203.0.113.7"))
            }
            // A library call without user or address is not limited.
            _ = try await bench.pipeline.chat(request)
            _ = try await bench.pipeline.chat(request)
            return error?.message
        }
        #expect(run.value?.hasPrefix("ip 203.0.113.7 is over its limit of 1 requests per minute") == true)
    }

    @Test(arguments: [SwitchboardConfiguration.Limits.OverCap.clamp, .refuse])
    func aRequestOverTheOutputCapIsClampedOrRefused(_ policy: SwitchboardConfiguration.Limits.OverCap) async throws {
        let run = try await withPipeline(configure: {
            $0.limits.overOutputCap = policy
            $0.limits.defaultUser.maxOutputTokens = 5
        }) { bench in
            do {
                let answer = try await bench.pipeline.chat(
                    anthropicRequest("Write a long essay.", model: "anthropic/claude-haiku-4-5", maxTokens: 4_000),
                    context: CallContext(userID: "dee")
                )
                return (answer.usage.outputTokens, nil as SwitchboardError?)
            } catch let error as SwitchboardError {
                #expect(bench.simulator.stats.snapshot.requests == 0)
                return (0, error)
            }
        }
        switch policy {
        case .clamp:
            #expect(run.value.0 > 0 && run.value.0 <= 5)
        case .refuse:
            let error = try #require(run.value.1)
            #expect(error.code == .badRequest)
            #expect(error.message.hasPrefix("max_tokens 4000 is over this caller's cap of 5 output tokens per request"))
        }
    }

    @Test func twoPipelinesOnOneSQLiteStoreShareTheLimits() async throws {
        let directory = try temporaryDirectory()
        let statePath = "\(directory)/state.sqlite"
        let outcomes = try await withSimulator { fixture in
            var configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
            configuration.limits.users["eve"] = .init(rpm: 4, tpm: 100_000)
            // A clock that stands still: however slow the machine, no request refills meanwhile.
            let clock = ManualClock(start: Date())
            let pipelines = try (0..<2).map { _ in
                try Pipeline(
                    configuration: configuration,
                    store: try SQLiteStateStore(path: statePath),
                    clock: clock,
                    logger: quietLogger
                )
            }
            var outcomes: [Bool] = []
            for index in 0..<6 {
                do {
                    _ = try await pipelines[index % 2].chat(
                        openAIRequest(model: "openai/gpt-4o-mini"),
                        context: CallContext(userID: "eve")
                    )
                    outcomes.append(true)
                } catch {
                    outcomes.append(false)
                }
            }
            return outcomes
        }
        #expect(outcomes == [true, true, true, true, false, false])
    }
}

struct VirtualKeyContextTests {
    @Test func aCallWithAVirtualKeyIsLimitedAndBudgetedByTheKey() async throws {
        let store = try VirtualKeyStore(path: "\(try temporaryDirectory())/state.sqlite")
        let (limited, limitedSecret) = try store.create(userID: "fay", tenantID: "acme", rpm: 1)
        let (_, brokeSecret) = try store.create(userID: "gus", budgetNanoUSD: 0)
        let run = try await withPipeline { bench in
            var context = CallContext()
            context.use(
                try #require(try store.authenticate(limitedSecret)),
                configuration: bench.pipeline.configuration
            )
            #expect(context.userID == "fay" && context.tenantID == "acme" && context.keyID == limited.id)
            #expect(context.limits?.rpm == 1 && context.limits?.tpm == 100_000, "the rest from the configuration")
            _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: context)
            context.requestID = CallContext.newRequestID()
            let limitedError = await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: context)
            }
            var brokeContext = CallContext()
            brokeContext.use(
                try #require(try store.authenticate(brokeSecret)),
                configuration: bench.pipeline.configuration
            )
            let budgetError = await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-4o-mini"), context: brokeContext)
            }
            return (limitedError?.code, budgetError?.code, context.requestID)
        }
        #expect(run.value.0 == .rateLimited)
        #expect(run.value.1 == .budgetExceeded)
        #expect(try run.journal.call(requestID: run.value.2)?.summary.outcome == "rate_limited")
    }
}
