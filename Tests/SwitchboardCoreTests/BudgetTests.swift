import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Synchronization
import Testing

struct BudgetAccountTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 UTC

    @Test func aReservationPastTheLimitIsRefusedAndSettlingBooksTheRealCost() {
        var account = BudgetAccount()
        var granted = false
        granted = account.reserve(600, limit: 1_000, now: start)
        #expect(granted)
        granted = account.reserve(600, limit: 1_000, now: start)
        #expect(!granted, "600 reserved + 600 > 1,000")
        granted = account.reserve(400, limit: 1_000, now: start)
        #expect(granted)
        let (before, after) = account.settle(reserved: 600, reservedAt: start, cost: 250)
        #expect(before == 0 && after == 250)
        #expect(account.reservedNanoUSD(now: start) == 400)
        granted = account.reserve(350, limit: 1_000, now: start)
        #expect(granted, "250 spent + 400 reserved + 350 = 1,000")
        granted = account.reserve(1, limit: 1_000, now: start)
        #expect(!granted)
    }

    @Test func aReservationThatIsNeverSettledEndsWithItsLease() {
        var account = BudgetAccount()
        var granted = false
        granted = account.reserve(1_000, limit: 1_000, now: start)
        #expect(granted)
        granted = account.reserve(1, limit: 1_000, now: start.addingTimeInterval(60))
        #expect(!granted)
        let later = start.adding(BudgetAccount.reservationLease).addingTimeInterval(10)
        granted = account.reserve(1_000, limit: 1_000, now: later)
        #expect(granted)
    }

    @Test(arguments: [
        (SwitchboardConfiguration.Budgets.Period.month, "2026-11", "2026-12-01T00:00:00Z"),
        (.week, "2026-W47", "2026-11-23T00:00:00Z"),
        (.day, "2026-11-18", "2026-11-19T00:00:00Z"),
    ])
    func periodsAreUTC(period: SwitchboardConfiguration.Budgets.Period, name: String, renews: String) {
        let (found, next) = period.period(containing: start)
        #expect(found == name)
        #expect(next == ISO8601DateFormatter().date(from: renews))
    }

    /// The answer is kept until the period renews, and not trusted outside it: moving forward,
    /// back, and forward again gives each moment its own period.
    @Test(arguments: SwitchboardConfiguration.Budgets.Period.allCases)
    func aKeptPeriodIsNotUsedOutsideItself(period: SwitchboardConfiguration.Budgets.Period) {
        let (name, renews) = period.period(containing: start)
        let next = period.period(containing: renews)
        #expect(next.name != name && next.renews > renews)
        #expect(period.period(containing: renews.addingTimeInterval(-0.001)) == (name, renews))
        #expect(period.period(containing: start) == (name, renews))
        #expect(period.period(containing: renews.addingTimeInterval(1)) == next)
        let earlier = period.period(containing: start.addingTimeInterval(-40 * 86_400))
        #expect(earlier.name != name && earlier.renews < renews)
    }
}

struct BudgetPipelineTests {
    /// $0.001: about forty calls of gpt-4o-mini with 40 output tokens.
    static let tight = SwitchboardConfiguration.Budgets.Limit(hardNanoUSD: 1_000_000, softNanoUSD: 500_000)

    @Test func aHundredConcurrentCallsAgainstABudgetNeverOvershootIt() async throws {
        let store = MemoryStateStore()
        let run = try await withPipeline(
            store: store,
            configure: {
                $0.budgets.users["ada"] = Self.tight
                $0.limits.users["ada"] = .init(rpm: 1_000, tpm: 1_000_000)
            }
        ) { bench in
            let outcomes = await withTaskGroup(of: String.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        do {
                            _ = try await bench.pipeline.chat(
                                openAIRequest("Question \(index % 7)?", model: "openai/gpt-4o-mini"),
                                context: CallContext(userID: "ada")
                            )
                            return "ok"
                        } catch let error as SwitchboardError {
                            return error.code.name
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }
            // Unrelated users are not held up by ada's spent budget.
            _ = try await bench.pipeline.chat(
                openAIRequest(model: "openai/gpt-4o-mini"),
                context: CallContext(userID: "bob")
            )
            return outcomes
        }
        let outcomes = run.value
        #expect(outcomes["ok", default: 0] > 10)
        #expect(outcomes["budget_exceeded", default: 0] > 10)
        #expect(outcomes.keys.sorted() == ["budget_exceeded", "ok"])
        let calls = try run.journal.calls(matching: CallFilter(userID: "ada"), after: 0, limit: 1_000)
        let total = calls.compactMap(\.costNanoUSD).reduce(0, +)
        #expect(total <= Self.tight.hardNanoUSD, "reservations hold the worst case: no overshoot")
        #expect(calls.filter { $0.outcome == "budget" }.count == outcomes["budget_exceeded"])
        #expect(calls.filter { $0.outcome == "budget" }.allSatisfy { $0.attempts == 0 && $0.costNanoUSD == 0 })
        // The soft limit was crossed exactly once, by one call.
        var softEvents = 0
        for call in calls {
            softEvents +=
                try run.journal.call(requestID: call.requestID)?.events.filter { $0.kind == "budget_soft" }.count ?? 0
        }
        #expect(softEvents == 1)
    }

    @Test func twoPipelinesOnOneSQLiteStoreShareTheBudget() async throws {
        let directory = try temporaryDirectory()
        let statePath = "\(directory)/state.sqlite"
        let ok = try await withSimulator { fixture in
            var configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
            configuration.budgets.users["ada"] = Self.tight
            configuration.limits.users["ada"] = .init(rpm: 1_000, tpm: 1_000_000)
            let pipelines = try (0..<2).map { index in
                try Pipeline(
                    configuration: configuration,
                    store: try SQLiteStateStore(path: statePath),
                    random: SeededRandom(seed: UInt64(index)),
                    logger: quietLogger
                )
            }
            return await withTaskGroup(of: Int64?.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let cost = Mutex<Int64?>(nil as Int64?)
                        let observed = CallContext(
                            userID: "ada",
                            onRecord: { record in cost.withLock { $0 = record.costNanoUSD } }
                        )
                        do {
                            _ = try await pipelines[index % 2].chat(
                                openAIRequest("Question \(index % 5)?", model: "openai/gpt-4o-mini"),
                                context: observed
                            )
                            return cost.withLock { $0 }
                        } catch {
                            return nil
                        }
                    }
                }
                return await group.reduce(into: [Int64]()) { if let cost = $1 { $0.append(cost) } }
            }
        }
        #expect(ok.count > 10 && ok.count < 100)
        #expect(ok.reduce(0, +) <= Self.tight.hardNanoUSD)
        let account = try await SQLiteStateStore(path: statePath).values(
            ["budget/user/ada/\(SwitchboardConfiguration.Budgets.Period.month.period(containing: Date()).name)"],
            as: BudgetAccount.self
        ).values.first
        #expect(account?.spentNanoUSD == ok.reduce(0, +))
        #expect(account?.reservedNanoUSD(now: Date()) == 0)
    }

    @Test(arguments: [
        (SwitchboardConfiguration.Budgets.Period.month, "monthly"), (.week, "weekly"), (.day, "daily"),
    ])
    func aSpentBudgetIsRefusedInTheCallersFormatAndTheSDKsDoNotRetryIt(
        period: SwitchboardConfiguration.Budgets.Period,
        adjective: String
    ) async throws {
        let run = try await withPipeline(configure: {
            $0.budgets.period = period
            $0.budgets.tenants["acme"] = .init(hardNanoUSD: 0, softNanoUSD: 0)
        }) { bench in
            do {
                _ = try await bench.pipeline.chat(
                    anthropicRequest(),
                    context: CallContext(userID: "cy", tenantID: "acme")
                )
                return nil as SwitchboardError?
            } catch let error as SwitchboardError {
                #expect(bench.simulator.stats.snapshot.requests == 0)
                return error
            }
        }
        let error = try #require(run.value)
        #expect(error.code == .budgetExceeded)
        #expect(
            error.message.hasPrefix("the \(adjective) budget of tenant acme is spent: $0.00 of $0.00 spent or reserved")
        )
        #expect(error.message.contains("renews at"))
        #expect(error.body(.anthropic, requestID: "req_1")["error"]?["type"]?.stringValue == "billing_error")
        #expect(error.headers(.openAI).contains { $0.name == "x-should-retry" && $0.value == "false" })
    }
}
