import Foundation
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Testing

struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 6, base: .milliseconds(500), cap: .seconds(8), retryAfterCap: .seconds(60))

    @Test(arguments: [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (30, 8.0)])
    func backoffCeilingsDoubleUpToTheCap(retry: Int, seconds: Double) {
        #expect(policy.ceiling(retry: retry) == .seconds(seconds))
    }

    @Test(arguments: 1...5)
    func fullJitterStaysWithinZeroAndTheCeiling(attempt: Int) {
        var random = SeededRandom(seed: UInt64(attempt))
        var delays: [Duration] = []
        for _ in 0..<500 {
            guard
                case .retry(let delay) = policy.decide(
                    after: .status(503, errorType: nil, retryAfter: nil, shouldRetry: nil),
                    attempt: attempt,
                    timeLeft: .seconds(120),
                    random: &random
                )
            else {
                Issue.record("a 503 was not retried")
                return
            }
            delays.append(delay)
        }
        let ceiling = policy.ceiling(retry: attempt)
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
        // Full jitter spreads over the whole range, not just near the ceiling.
        #expect(delays.min()! < ceiling * 0.1)
        #expect(delays.max()! > ceiling * 0.9)
    }

    @Test(arguments: [Duration.milliseconds(1), .milliseconds(750), .seconds(3), .seconds(59)])
    func anAdvertisedRetryAfterIsNeverUndercut(retryAfter: Duration) {
        var random = SeededRandom(seed: 1)
        for attempt in 1...5 {
            let decision = policy.decide(
                after: .status(429, errorType: "rate_limit_exceeded", retryAfter: retryAfter, shouldRetry: nil),
                attempt: attempt,
                timeLeft: .seconds(120),
                random: &random
            )
            guard case .retry(let delay) = decision else {
                Issue.record("\(decision)")
                return
            }
            #expect(delay >= retryAfter)
            #expect(delay <= retryAfter + min(retryAfter * 0.1, .seconds(1)))
        }
    }

    @Test func aRetryAfterOverTheCapMovesToTheNextTarget() {
        var random = SeededRandom(seed: 1)
        let decision = policy.decide(
            after: .status(429, errorType: nil, retryAfter: .seconds(61), shouldRetry: nil),
            attempt: 1,
            timeLeft: .seconds(300),
            random: &random
        )
        guard case .nextTarget(let reason) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(reason.contains("1m1s"))
    }

    @Test func aRetryThatWouldPassTheDeadlineMovesOn() {
        var random = SeededRandom(seed: 1)
        let decision = policy.decide(
            after: .status(429, errorType: nil, retryAfter: .seconds(5), shouldRetry: nil),
            attempt: 1,
            timeLeft: .seconds(4),
            random: &random
        )
        guard case .nextTarget = decision else {
            Issue.record("\(decision)")
            return
        }
    }

    @Test(
        arguments: [
            // status, error type, x-should-retry, expected: "retry" | "next" | "stop"
            (408, nil, nil, "retry"), (409, nil, nil, "retry"), (429, "rate_limit_exceeded", nil, "retry"),
            (500, nil, nil, "retry"),
            (502, nil, nil, "retry"), (503, nil, nil, "retry"), (529, "overloaded_error", nil, "retry"),
            (400, "invalid_request_error", nil, "stop"), (413, nil, nil, "stop"), (422, nil, nil, "stop"),
            (401, "authentication_error", nil, "next"), (403, nil, nil, "next"), (404, nil, nil, "next"),
            (429, "insufficient_quota", nil, "next"), (429, "insufficient_quota", true, "next"),
            (400, nil, true, "retry"), (503, nil, false, "next"), (429, nil, false, "next"), (409, nil, false, "stop"),
        ] as [(Int, String?, Bool?, String)]
    )
    func statusesAreClassifiedAsTheSDKsDo(status: Int, type: String?, shouldRetry: Bool?, expected: String) {
        var random = SeededRandom(seed: 3)
        let decision = policy.decide(
            after: .status(status, errorType: type, retryAfter: nil, shouldRetry: shouldRetry),
            attempt: 1,
            timeLeft: .seconds(120),
            random: &random
        )
        switch decision {
        case .retry: #expect(expected == "retry")
        case .nextTarget: #expect(expected == "next")
        case .stop: #expect(expected == "stop")
        }
    }

    @Test func transportFailuresAreRetriedAndCancellationIsNot() {
        var random = SeededRandom(seed: 3)
        for failure in [TransportFailure.connect, .reset, .firstByteTimeout, .idleTimeout, .invalidResponse] {
            guard
                case .retry = policy.decide(
                    after: .transport(failure),
                    attempt: 1,
                    timeLeft: .seconds(60),
                    random: &random
                )
            else {
                Issue.record("\(failure) not retried")
                continue
            }
        }
        guard
            case .stop = policy.decide(
                after: .transport(.cancelled),
                attempt: 1,
                timeLeft: .seconds(60),
                random: &random
            )
        else {
            Issue.record("a cancelled call was retried")
            return
        }
    }

    @Test func attemptsIncludeTheFirstCall() {
        let policy = RetryPolicy(maxAttempts: 3)
        var random = SeededRandom(seed: 3)
        let failure = AttemptFailure.status(500, errorType: nil, retryAfter: nil, shouldRetry: nil)
        guard case .retry = policy.decide(after: failure, attempt: 2, timeLeft: .seconds(60), random: &random) else {
            Issue.record("the third attempt was refused")
            return
        }
        guard
            case .nextTarget(let reason) = policy.decide(
                after: failure,
                attempt: 3,
                timeLeft: .seconds(60),
                random: &random
            )
        else {
            Issue.record("a fourth attempt was allowed")
            return
        }
        #expect(reason.contains("3 attempts failed"))
    }
}

struct RetryBudgetTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func theFloorAllowsRetriesWithoutTraffic() {
        var budget = RetryBudget(ratio: 0.1, minPerSecond: 1, window: .seconds(10))
        var allowed = 0
        for _ in 0..<50 where budget.tryRetry(now: start) { allowed += 1 }
        #expect(allowed == 10)
    }

    @Test func retriesAreHeldToTheRatioOfRequests() {
        var budget = RetryBudget(ratio: 0.1, minPerSecond: 0, window: .seconds(10))
        for _ in 0..<1000 { budget.recordRequest(now: start) }
        var allowed = 0
        for _ in 0..<1000 where budget.tryRetry(now: start.addingTimeInterval(1)) { allowed += 1 }
        #expect(allowed == 100)
    }

    @Test func theWindowSlides() {
        var budget = RetryBudget(ratio: 0, minPerSecond: 1, window: .seconds(10))
        while budget.tryRetry(now: start) {}
        let late = budget.tryRetry(now: start.addingTimeInterval(9))
        #expect(!late)
        // Ten seconds later the first second's retries have left the window.
        let later = budget.tryRetry(now: start.addingTimeInterval(10))
        #expect(later)
        #expect(budget.available(now: start.addingTimeInterval(30)) == 10)
    }
}
