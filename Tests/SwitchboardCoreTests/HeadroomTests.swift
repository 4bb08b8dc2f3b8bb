import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import Testing

@testable import SwitchboardCore

struct HeadroomTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)
    let small = TokenEstimate(input: 100, output: 100)

    func reported(requests: Int, limit: Int = 1000, tokens: Int = 1_000_000, reset: Duration = .seconds(30)) -> Headroom
    {
        var headroom = Headroom()
        headroom.report(
            RateLimitSnapshot(
                requests: RateLimitWindow(limit: limit, remaining: requests, resetAfter: reset),
                tokens: RateLimitWindow(limit: 2_000_000, remaining: tokens, resetAfter: .seconds(5))
            ),
            status: 200,
            receivedAt: start
        )
        return headroom
    }

    @Test func twoHundredCallsAgainstFiftyRemainingSendFiftyBeforeTheReset() {
        var headroom = reported(requests: 50)
        var sent = 0
        var waits: Set<Date> = []
        for _ in 0..<200 {
            switch headroom.reserve(estimate: small, now: start.addingTimeInterval(1)) {
            case .send: sent += 1
            case .wait(let until, let reason):
                waits.insert(until)
                #expect(reason.contains("requests: 0 left, 1 needed"))
            }
        }
        #expect(sent == 50)
        #expect(waits == [start.addingTimeInterval(30)])
        // Answers release their reservations, but the provider's report still says what is left.
        for _ in 0..<50 { headroom.release(small, reservedAt: start.addingTimeInterval(1)) }
        headroom.report(
            RateLimitSnapshot(requests: RateLimitWindow(limit: 1000, remaining: 0, resetAfter: .seconds(28))),
            status: 200,
            receivedAt: start.addingTimeInterval(2)
        )
        guard case .wait = headroom.reserve(estimate: small, now: start.addingTimeInterval(3)) else {
            Issue.record("sent with nothing left")
            return
        }
        // At the reset the window is full again.
        var after = 0
        for _ in 0..<1200
        where headroom.reserve(estimate: small, now: start.addingTimeInterval(30)) == .send { after += 1 }
        #expect(after == 1000)
    }

    @Test func anOlderAnswerArrivingLateDoesNotRaiseWhatIsLeft() {
        var headroom = reported(requests: 10, limit: 60, reset: .seconds(50))
        // Admitted before the report above (more left, full sooner), answered after it.
        headroom.report(
            RateLimitSnapshot(requests: RateLimitWindow(limit: 60, remaining: 12, resetAfter: .seconds(48))),
            status: 200,
            receivedAt: start.addingTimeInterval(0.5)
        )
        #expect(headroom.available(.requests, now: start.addingTimeInterval(1)) == 10)
        // A newer answer (less left) is taken; so is one whose window has truly refilled.
        headroom.report(
            RateLimitSnapshot(requests: RateLimitWindow(limit: 60, remaining: 9, resetAfter: .seconds(51))),
            status: 200,
            receivedAt: start.addingTimeInterval(1)
        )
        #expect(headroom.available(.requests, now: start.addingTimeInterval(1)) == 9)
        headroom.report(
            RateLimitSnapshot(requests: RateLimitWindow(limit: 60, remaining: 59, resetAfter: .seconds(1))),
            status: 200,
            receivedAt: start.addingTimeInterval(53)
        )
        #expect(headroom.available(.requests, now: start.addingTimeInterval(53)) == 59)
    }

    @Test func aThousandCallsInFlightKeepTheStateSmall() throws {
        var headroom = reported(requests: 5_000)
        let estimate = TokenEstimate(input: 10, output: 20)
        for call in 0..<1_000 {
            #expect(headroom.reserve(estimate: estimate, now: start.addingTimeInterval(Double(call) / 100)) == .send)
        }
        #expect(headroom.inFlight == 1_000)
        #expect(headroom.available(.requests, now: start.addingTimeInterval(10)) == 4_000)
        #expect(try JSONEncoder().encode(headroom).count < 1_000)
        for call in 0..<1_000 { headroom.release(estimate, reservedAt: start.addingTimeInterval(Double(call) / 100)) }
        #expect(headroom.inFlight == 0)
        #expect(headroom.available(.requests, now: start.addingTimeInterval(10)) == 5_000)
    }

    @Test func aReservationNeverReleasedEndsWithItsLease() {
        var headroom = reported(requests: 10, reset: .seconds(3600))
        #expect(headroom.reserve(estimate: small, now: start) == .send)  // its process dies
        #expect(headroom.available(.requests, now: start.addingTimeInterval(60)) == 9)
        let end = Headroom.leaseEnd(reservedAt: start)
        #expect(end.timeIntervalSince(start) >= 300 && end.timeIntervalSince(start) < 310)
        #expect(headroom.available(.requests, now: end) == 10)
        #expect(headroom.reserve(estimate: small, now: end) == .send)
        #expect(headroom.inFlight == 1)
    }

    @Test func aRefusedKeyIsPassedOverUntilItsPauseEnds() {
        var headroom = reported(requests: 100)
        headroom.refuse("401 invalid_api_key", now: start)
        guard case .wait(let until, let reason) = headroom.reserve(estimate: small, now: start.addingTimeInterval(1))
        else {
            Issue.record("a refused key was used")
            return
        }
        #expect(until == start.adding(Headroom.refusalPause))
        #expect(reason == "the provider refused this key (401 invalid_api_key)")
        #expect(headroom.reserve(estimate: small, now: until) == .send)
    }

    @Test func tokensInFlightAreSubtractedFromWhatIsLeft() {
        var headroom = reported(requests: 100, tokens: 1000)
        #expect(headroom.reserve(estimate: TokenEstimate(input: 300, output: 300), now: start) == .send)
        #expect(headroom.available(.tokens, now: start) == 400)
        guard
            case .wait(let until, let reason) = headroom.reserve(
                estimate: TokenEstimate(input: 300, output: 300),
                now: start
            )
        else {
            Issue.record("over-sent tokens")
            return
        }
        #expect(until == start.addingTimeInterval(5))
        #expect(reason == "tokens: 400 left, 600 needed")
        headroom.release(TokenEstimate(input: 300, output: 300), reservedAt: start)
        #expect(headroom.reserve(estimate: TokenEstimate(input: 300, output: 300), now: start) == .send)
    }

    @Test func aCallLargerThanTheWholeWindowIsLeftToTheProvider() {
        var headroom = reported(requests: 100, tokens: 10)
        #expect(headroom.reserve(estimate: TokenEstimate(input: 3_000_000, output: 0), now: start) == .send)
    }

    @Test func theFirstCallOnAKeyLearnsItsLimitsAlone() {
        var headroom = Headroom()
        #expect(headroom.reserve(estimate: small, now: start) == .send)
        guard case .wait(let until, _) = headroom.reserve(estimate: small, now: start) else {
            Issue.record("sent blind")
            return
        }
        #expect(until == start.adding(Headroom.recheckInterval))
    }

    @Test func answersWithoutRateLimitHeadersTurnPacingOff() {
        var headroom = Headroom()
        _ = headroom.reserve(estimate: small, now: start)
        headroom.report(RateLimitSnapshot(), status: 200, receivedAt: start)
        #expect(headroom.silent)
        for _ in 0..<100 { #expect(headroom.reserve(estimate: small, now: start) == .send) }
    }

    @Test func a429RetryAfterBlocksTheKeyAndModel() {
        var headroom = reported(requests: 500)
        headroom.report(RateLimitSnapshot(retryAfter: .seconds(7)), status: 429, receivedAt: start)
        guard case .wait(let until, _) = headroom.reserve(estimate: small, now: start.addingTimeInterval(1)) else {
            Issue.record("sent during a retry-after")
            return
        }
        #expect(until == start.addingTimeInterval(7))
        #expect(headroom.reserve(estimate: small, now: start.addingTimeInterval(7)) == .send)
    }

    @Test func anthropicInputAndOutputWindowsArePacedSeparately() {
        var headroom = Headroom()
        headroom.report(
            RateLimitSnapshot(
                requests: RateLimitWindow(limit: 50, remaining: 50, resetAfter: .seconds(1)),
                tokens: RateLimitWindow(limit: 10_000, remaining: 9_000, resetAfter: .seconds(1)),
                inputTokens: RateLimitWindow(limit: 8_000, remaining: 8_000, resetAfter: .seconds(1)),
                outputTokens: RateLimitWindow(limit: 2_000, remaining: 1_000, resetAfter: .seconds(3))
            ),
            status: 200,
            receivedAt: start
        )
        #expect(headroom.available(.tokens, now: start) == nil)
        #expect(headroom.reserve(estimate: TokenEstimate(input: 100, output: 800), now: start) == .send)
        guard
            case .wait(let until, let reason) = headroom.reserve(
                estimate: TokenEstimate(input: 100, output: 800),
                now: start
            )
        else {
            Issue.record("output tokens over-sent")
            return
        }
        #expect(until == start.addingTimeInterval(3))
        #expect(reason == "output_tokens: 200 left, 800 needed")
    }

    @Test func pacingOffSendsEverythingButCountsItInFlight() {
        var headroom = reported(requests: 1)
        for _ in 0..<10 { #expect(headroom.reserve(estimate: small, now: start, paced: false) == .send) }
        #expect(headroom.inFlight == 10)
    }

    @Test func theEstimatorIsCharactersOverFourPlusTheOutputCeiling() {
        let request = OpenAI.ChatCompletionRequest(
            model: "gpt-4o-mini",
            messages: [.system(String(repeating: "s", count: 40)), .user(String(repeating: "u", count: 81))],
            maxCompletionTokens: 256
        )
        #expect(TokenEstimate(request, defaultMaxOutput: 4096) == TokenEstimate(input: 31, output: 256))
        let anthropic = Anthropic.MessagesRequest(
            model: "claude-haiku-4-5",
            maxTokens: 100,
            messages: [Anthropic.Message(role: "user", content: .text("abcd"))],
            system: .text("abcdefgh")
        )
        #expect(TokenEstimate(anthropic) == TokenEstimate(input: 3, output: 100))
        #expect(
            TokenEstimate(OpenAI.ChatCompletionRequest(model: "m", messages: [.user("hi")]), defaultMaxOutput: 4096)
                .output == 4096
        )
    }
}

struct KeyPoolTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func eachCallTakesTheKeyWithTheMostHeadroom() async throws {
        let store = MemoryStateStore()
        let keys = ["sk-sim-aaaa-0001", "sk-sim-bbbb-0002", "sk-sim-cccc-0003"].map {
            PoolKey(Secret(value: $0, source: "test"))
        }
        let remaining = [10, 80, 40]
        for (key, left) in zip(keys, remaining) {
            try await store.update("headroom/openai/\(key.id)/gpt-4o-mini", as: Headroom.self) { state in
                var headroom = Headroom()
                headroom.report(
                    RateLimitSnapshot(requests: RateLimitWindow(limit: 100, remaining: left, resetAfter: .seconds(60))),
                    status: 200,
                    receivedAt: Date(timeIntervalSince1970: 1_795_000_000)
                )
                state = headroom
            }
        }
        let pacer = Pacer(store: store, enabled: true)
        var chosen: [String] = []
        for _ in 0..<50 {
            let acquisition = try await pacer.acquire(
                provider: "openai",
                keys: keys,
                model: "gpt-4o-mini",
                estimate: TokenEstimate(input: 10, output: 10),
                now: start
            )
            guard case .send(let key, _) = acquisition else {
                Issue.record("no key had headroom")
                return
            }
            chosen.append(key.secret.value)
        }
        // The fullest key first; as reservations drain it, the others take their turn.
        #expect(chosen.first == "sk-sim-bbbb-0002")
        #expect(chosen.filter { $0 == "sk-sim-bbbb-0002" }.count == 45)
        #expect(chosen.filter { $0 == "sk-sim-cccc-0003" }.count == 5)
        #expect(!chosen.contains("sk-sim-aaaa-0001"))
        #expect(keys[0].id != keys[1].id && keys[0].id.hasPrefix("sk-…0001#"))
    }
}
