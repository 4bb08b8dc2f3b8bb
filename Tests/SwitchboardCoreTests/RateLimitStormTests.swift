import Foundation
import SwitchboardTesting
import Testing

/// The resilience core's must-show: 1,000 calls at once against a simulator whose 429s come from
/// its real, tight limits (100 requests and 8,000 tokens per one-second window) and that answers
/// 5 % of requests with a 5xx. Real time: the waits are the provider's windows.
@Suite(.serialized) struct RateLimitStormTests {
    @Test func withPacingEveryCallSucceedsWithFewAttemptsAndNoEarlyRetry() async throws {
        let report = try await RateLimitStorm().run(in: try temporaryDirectory())
        print("pacing on: \(report)")
        #expect(report.calls == 1_000)
        #expect(report.succeeded == 1_000, "failures: \(report.failures)")
        #expect(report.lateCalls == 0)
        #expect(report.earlyRetries == 0)
        #expect(report.earlyOnKey == 0)
        #expect(Double(report.attempts) <= 1.2 * Double(report.calls))
        #expect(report.rateLimitedShare <= 0.02)
        #expect(report.serverErrors > 0, "the injected 5xx reached the core")
    }

    @Test func withoutPacingThe429sMultiply() async throws {
        var storm = RateLimitStorm()
        storm.pacing = false
        let report = try await storm.run(in: try temporaryDirectory())
        print("pacing off: \(report)")
        #expect(report.calls == 1_000)
        #expect(report.earlyRetries == 0, "Retry-After is honoured with pacing off too")
        #expect(report.rateLimitedShare > 0.02)
    }
}
