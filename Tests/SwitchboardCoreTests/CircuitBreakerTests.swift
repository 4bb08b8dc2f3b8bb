import Foundation
import SwitchboardCore
import SwitchboardTesting
import Testing

struct CircuitBreakerTests {
    let settings = CircuitBreaker.Settings(window: .seconds(30), minCalls: 10, failureRatio: 0.5, openFor: .seconds(15))
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func itStaysClosedBelowTheMinimumThroughput() {
        var breaker = CircuitBreaker()
        for second in 0..<9 {
            #expect(
                breaker.record(failed: true, now: start.addingTimeInterval(Double(second)), settings: settings) == nil
            )
        }
        #expect(breaker.phase == .closed)
    }

    @Test func itOpensAtTheFailureRatioAndSkipsCallsUntilOpenForPasses() {
        var breaker = CircuitBreaker()
        var transition: CircuitBreaker.Transition?
        for index in 0..<10 {
            transition = breaker.record(
                failed: index % 2 == 0,
                now: start.addingTimeInterval(Double(index)),
                settings: settings
            )
        }
        let opened = start.addingTimeInterval(9)
        #expect(
            transition
                == CircuitBreaker.Transition(
                    from: .closed,
                    to: .open,
                    calls: 10,
                    failures: 5,
                    probeAt: opened.addingTimeInterval(15)
                )
        )
        #expect(breaker.permit(now: opened.addingTimeInterval(14.9), settings: settings).allowed == false)
        #expect(breaker.retryAfter(now: opened.addingTimeInterval(5)) == .seconds(10))
        let probe = breaker.permit(now: opened.addingTimeInterval(15), settings: settings)
        #expect(probe.allowed)
        #expect(probe.transition?.to == .halfOpen)
        // One probe at a time.
        #expect(breaker.permit(now: opened.addingTimeInterval(16), settings: settings).allowed == false)
    }

    @Test func aSuccessfulProbeClosesItAndAFailedOneReopensIt() {
        var breaker = CircuitBreaker()
        for index in 0..<10 {
            _ = breaker.record(failed: true, now: start.addingTimeInterval(Double(index) / 10), settings: settings)
        }
        #expect(breaker.phase == .open)
        _ = breaker.permit(now: start.addingTimeInterval(20), settings: settings)
        let reopened = breaker.record(failed: true, now: start.addingTimeInterval(21), settings: settings)
        #expect(reopened?.to == .open && reopened?.probeAt == start.addingTimeInterval(36))
        #expect(breaker.permit(now: start.addingTimeInterval(35), settings: settings).allowed == false)
        #expect(breaker.permit(now: start.addingTimeInterval(36), settings: settings).allowed)
        #expect(
            breaker.record(failed: false, now: start.addingTimeInterval(37), settings: settings)
                == CircuitBreaker.Transition(from: .halfOpen, to: .closed, calls: 1, failures: 0)
        )
        #expect(breaker.phase == .closed)
        #expect(breaker.counts == (0, 0))
    }

    @Test func aLostProbeIsReplacedAfterOpenFor() {
        var breaker = CircuitBreaker()
        for index in 0..<10 {
            _ = breaker.record(failed: true, now: start.addingTimeInterval(Double(index) / 10), settings: settings)
        }
        #expect(breaker.permit(now: start.addingTimeInterval(16), settings: settings).allowed)
        #expect(breaker.permit(now: start.addingTimeInterval(30), settings: settings).allowed == false)
        #expect(breaker.permit(now: start.addingTimeInterval(31), settings: settings).allowed)
    }

    @Test func oldOutcomesLeaveTheWindow() {
        var breaker = CircuitBreaker()
        for index in 0..<9 {
            _ = breaker.record(failed: true, now: start.addingTimeInterval(Double(index)), settings: settings)
        }
        // 40 s later the nine failures are out of the 30 s window: ten successes keep it closed.
        for index in 0..<10 {
            #expect(
                breaker.record(
                    failed: index == 0,
                    now: start.addingTimeInterval(40 + Double(index)),
                    settings: settings
                ) == nil
            )
        }
        #expect(breaker.counts == (10, 1))
    }

    @Test func rateLimitsAndBadRequestsDoNotCountAgainstTheProvider() {
        #expect(!AttemptFailure.status(429, errorType: nil, retryAfter: nil, shouldRetry: nil).countsAgainstProvider)
        #expect(!AttemptFailure.status(400, errorType: nil, retryAfter: nil, shouldRetry: nil).countsAgainstProvider)
        #expect(AttemptFailure.status(529, errorType: nil, retryAfter: nil, shouldRetry: nil).countsAgainstProvider)
        #expect(AttemptFailure.transport(.firstByteTimeout).countsAgainstProvider)
        #expect(!AttemptFailure.transport(.cancelled).countsAgainstProvider)
    }
}
