import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Synchronization
import Testing

/// Costs by hand: each expected figure is worked out in USD per million tokens in the comment,
/// then written in nano-dollars (1 USD = 10⁹).
struct CostTests {
    let book: PriceBook

    init() throws {
        book = try PriceBook.bundled()
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var model: String
        var tokens: TokenCounts
        var nanoUSD: Int64
        var why: String
        var testDescription: String { "\(model): \(why)" }
    }

    static let cases: [Case] = [
        // OpenAI: prompt 1,000 of which 400 cached (journaled as 600 + 400), 200 out.
        // 600 × 0.15 + 400 × 0.075 + 200 × 0.60 = 90 + 30 + 120 = 240 per M → $0.00024.
        Case(
            model: "gpt-4o-mini",
            tokens: TokenCounts(input: 600, cachedInput: 400, output: 200),
            nanoUSD: 240_000,
            why: "cached tokens are part of prompt_tokens, charged once at the cached price"
        ),
        // The dated snapshot the API answers with costs what its alias costs.
        Case(
            model: "gpt-4o-mini-2024-07-18",
            tokens: TokenCounts(input: 600, cachedInput: 400, output: 200),
            nanoUSD: 240_000,
            why: "a dated snapshot"
        ),
        // o3: 500 in × 2.00 + 1,500 out (1,200 of them reasoning) × 8.00 = 1,000 + 12,000 = 13,000 per M.
        Case(
            model: "o3",
            tokens: TokenCounts(input: 500, output: 1_500, reasoning: 1_200),
            nanoUSD: 13_000_000,
            why: "reasoning tokens are output tokens, not charged twice"
        ),
        // Anthropic: 300 × 1.00 + 1,000 read × 0.10 + 2,000 written 5m × 1.25 + 500 written 1h × 2.00
        // + 100 out × 5.00 = 300 + 100 + 2,500 + 1,000 + 500 = 4,400 per M → $0.0044.
        Case(
            model: "claude-haiku-4-5",
            tokens: TokenCounts(input: 300, cachedInput: 1_000, cacheWrite5m: 2_000, cacheWrite1h: 500, output: 100),
            nanoUSD: 4_400_000,
            why: "input_tokens exclude cache reads and writes, each at its own price"
        ),
        // Sonnet 4.5 at exactly 200,000 input: standard. 200,000 × 3 + 1,000 × 15 = 615,000 per M.
        Case(
            model: "claude-sonnet-4-5",
            tokens: TokenCounts(input: 200_000, output: 1_000),
            nanoUSD: 615_000_000,
            why: "200k input is still the standard tier"
        ),
        // Above 200k every token is at the long-context price: 250,000 × 6 + 1,000 × 22.50 = 1,522,500 per M.
        Case(
            model: "claude-sonnet-4-5",
            tokens: TokenCounts(input: 250_000, output: 1_000),
            nanoUSD: 1_522_500_000,
            why: "long-context tier"
        ),
        // Cache reads count toward the threshold: 60,000 × 6 + 150,000 × 0.60 = 360,000 + 90,000 per M.
        Case(
            model: "claude-sonnet-4-5-20250929",
            tokens: TokenCounts(input: 60_000, cachedInput: 150_000),
            nanoUSD: 450_000_000,
            why: "cache reads count toward the long-context threshold"
        ),
        // gpt-5.6 above 272k: 300,000 × 8 + 10,000 written × 10 + 2,000 out × 30 = 2,400,000 + 100,000 + 60,000.
        Case(
            model: "gpt-5.6",
            tokens: TokenCounts(input: 300_000, cacheWrite5m: 10_000, output: 2_000),
            nanoUSD: 2_560_000_000,
            why: "OpenAI long-context tier with cache writes"
        ),
        Case(
            model: "omni-moderation-latest",
            tokens: TokenCounts(input: 5_000),
            nanoUSD: 0,
            why: "moderation is free"
        ),
        // 1 token at $0.10 per M is 100 nano-dollars exactly.
        Case(model: "gpt-4.1-nano", tokens: TokenCounts(input: 1), nanoUSD: 100, why: "one token"),
    ]

    @Test(arguments: cases)
    func theCostIsExact(_ example: Case) throws {
        #expect(book.cost(example.tokens, model: example.model) == example.nanoUSD)
    }

    @Test func anUnknownModelHasNoCostRatherThanZero() {
        #expect(book.cost(TokenCounts(input: 10, output: 10), model: "gpt-17-turbo") == nil)
        #expect(book.prices(for: "claude-haiku-4-5-20251001")?.provider == .anthropic)
        #expect(book.prices(for: "claude-sonnet-4-6-20260101") == book.prices(for: "claude-sonnet-4-6"))
        #expect(book.prices(for: "gpt-4.1-2026-01-31") == book.prices(for: "gpt-4.1"))
        #expect(book.prices(for: "gpt-4.1-2026-01") == nil)
    }

    @Test func thePublishedPricesOfTheWireFactsAreWhatTheBookHolds() throws {
        // provider-wire-facts.md §8, USD per million tokens → nano-dollars per million.
        let haiku = try #require(book.prices(for: "claude-haiku-4-5"))
        #expect(
            haiku.standard
                == TokenPrices(
                    input: 1_000_000_000,
                    cachedInput: 100_000_000,
                    cacheWrite5m: 1_250_000_000,
                    cacheWrite1h: 2_000_000_000,
                    output: 5_000_000_000
                )
        )
        let mini = try #require(book.prices(for: "gpt-4o-mini"))
        #expect(mini.standard == TokenPrices(input: 150_000_000, cachedInput: 75_000_000, output: 600_000_000))
        #expect(book.prices(for: "claude-sonnet-4-5")?.longContext?.aboveInputTokens == 200_000)
    }

    @Test func anOverrideFileAddsAndReplacesModelsAndRoundsHalfUp() throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/prices.yaml"
        try """
        models:
          acme-finetune: { provider: openai, input: 0.0000015, output: 2 }
          gpt-4o-mini: { input: 0.20, cached_input: 0.10, output: 0.80 }
          claude-custom: { provider: anthropic, input: 4, output: 20 }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let book = try PriceBook.load(overridesFile: path)
        // 500 × 0.0000015 = 0.00075 per M = 0.75 nano → 1; 333 × 0.0000015 = 0.4995 nano → 0.
        #expect(book.cost(TokenCounts(input: 500), model: "acme-finetune") == 1)
        #expect(book.cost(TokenCounts(input: 333), model: "acme-finetune") == 0)
        #expect(book.cost(TokenCounts(input: 1_000_000), model: "gpt-4o-mini") == 200_000_000)
        // Anthropic without write prices: 1.25 × and 2 × input. 1,000 × 5 + 1,000 × 8 = 13,000 per M.
        #expect(book.cost(TokenCounts(cacheWrite5m: 1_000, cacheWrite1h: 1_000), model: "claude-custom") == 13_000_000)
        #expect(book.cost(TokenCounts(input: 1_000_000), model: "gpt-4o") == 2_500_000_000, "others stay as shipped")
    }

    @Test func aBadOverrideFileNamesTheFileLineAndKey() throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/prices.yaml"
        try """
        models:
          acme-finetune:
            provider: openai
            input: cheap
            output: 2
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: PriceBookError.self) { try PriceBook.load(overridesFile: path) }
        #expect(error?.message.contains("prices.yaml:4:") == true)
        #expect(error?.message.contains("models.acme-finetune.input") == true)
        #expect(error?.message.contains("expected a price in USD per million tokens") == true)
        let missing = #expect(throws: PriceBookError.self) {
            try PriceBook.load(overridesFile: "\(directory)/none.yaml")
        }
        #expect(missing?.message.contains("none.yaml") == true)
    }
}

/// Costs through the pipeline: whole, streamed, cut short, unknown.
struct PipelineCostTests {
    @Test func streamedAndWholeAnswersCostWhatTheirUsageCosts() async throws {
        let run = try await withPipeline { bench in
            var ids: [String] = []
            for streaming in [false, true] {
                let context = CallContext()
                let request = openAIRequest("Name three rivers of Europe.", model: "openai/gpt-4o-mini", maxTokens: 60)
                if streaming {
                    _ = try await collect(bench.pipeline.stream(request, context: context))
                } else {
                    _ = try await bench.pipeline.chat(request, context: context)
                }
                ids.append(context.requestID)
            }
            return ids
        }
        let book = try PriceBook.bundled()
        let whole = try #require(try run.journal.call(requestID: run.value[0])?.summary)
        let streamed = try #require(try run.journal.call(requestID: run.value[1])?.summary)
        #expect(whole.tokens == streamed.tokens, "the simulator answers the same prompt alike")
        #expect(whole.costNanoUSD == book.cost(whole.tokens, model: "gpt-4o-mini"))
        #expect(streamed.costNanoUSD == whole.costNanoUSD)
        #expect((whole.costNanoUSD ?? 0) > 0)
    }

    @Test func theCostReachesTheCallerBeforeTheAnswer() async throws {
        let run = try await withPipeline { bench in
            let seen = Mutex<Int64?>(nil as Int64?)
            let context = CallContext(onRecord: { record in seen.withLock { $0 = record.costNanoUSD } })
            _ = try await bench.pipeline.chat(anthropicRequest(model: "anthropic/claude-haiku-4-5"), context: context)
            return (seen.withLock { $0 }, context.requestID)
        }
        let journaled = try #require(try run.journal.call(requestID: run.value.1)?.summary.costNanoUSD)
        #expect(run.value.0 == journaled)
    }

    @Test func aModelWithoutAPriceIsJournaledAsUnknownCost() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.models.openAI.append("gpt-experimental")
        let run = try await withPipeline(simulator: simulator) { bench in
            let context = CallContext()
            _ = try await bench.pipeline.chat(openAIRequest(model: "openai/gpt-experimental"), context: context)
            return context.requestID
        }
        let call = try #require(try run.journal.call(requestID: run.value)?.summary)
        #expect(call.outcome == "ok")
        #expect(call.costNanoUSD == nil)
        #expect(call.tokens.output > 0)
    }
}
