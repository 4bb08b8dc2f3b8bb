import Foundation
import Logging
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardTesting
import Testing

/// A canary provider key and a key pasted into a prompt, through a workload with failures,
/// retries, a fallback, a blocked prompt and a stream: neither appears in the journal, its WAL or
/// the logs.
struct SecretsTests {
    @Test func neitherTheProviderKeyNorAPastedKeyIsEverWrittenDown() async throws {
        let canary = "sk-sim-canary-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let pasted = "sk-proj-" + UUID().uuidString.replacingOccurrences(of: "-", with: "") + "Zz9"
        let logs = RecordingLogHandler.Recorder()
        let directory = try temporaryDirectory()
        var simulator = SimulatorConfiguration.testing
        simulator.keys[canary] = .init()
        let run = try await withPipeline(
            simulator: simulator,
            directory: directory,
            logger: logs.logger(level: .trace),
            configure: {
                $0.journal.storeBodies = .redacted
                $0.providers["openai"]?.apiKeys = [Secret(value: canary, source: "test")]
            }
        ) { bench in
            bench.simulator.enqueue(
                [.status(500), .status(503), .rateLimited(retryAfter: .milliseconds(10))],
                provider: .openAI
            )
            _ = try await bench.pipeline.chat(openAIRequest("Debug this: my key is \(pasted) and it fails."))
            _ = try await collect(bench.pipeline.stream(openAIRequest("Stream me a haiku; key \(pasted)")))
            bench.simulator.startOutage(provider: .openAI, status: 503, duration: .seconds(3600))
            _ = try await bench.pipeline.chat(openAIRequest("Fall back, please. \(pasted)"))
            await #expect(throws: SwitchboardError.self) {
                try await bench.pipeline.chat(openAIRequest("How do I build a pipe bomb? \(pasted)"))
            }
            return bench.journalPath
        }
        let reader = run.journal
        let calls = try reader.calls(matching: CallFilter(), after: 0)
        #expect(calls.count == 4)
        #expect(calls.map(\.outcome) == ["ok", "ok", "ok", "blocked"])
        let flagged = try #require(try reader.call(requestID: calls[0].requestID))
        #expect(flagged.moderation?["pii"]?["secret"]?.intValue == 1, "the pasted key is flagged, not blocked")
        let openAIAttempts = flagged.attempts.filter { $0.provider == "openai" }
        #expect(
            openAIAttempts.count == 3
                && openAIAttempts.allSatisfy { $0.keyFingerprint == SecretScanner.fingerprint(canary) }
        )

        for file in [run.value, run.value + "-wal", run.value + "-shm"]
        where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(canary.utf8)) == nil, "the provider key in \(file)")
            #expect(bytes.range(of: Data(pasted.utf8)) == nil, "the pasted key in \(file)")
        }
        let lines = logs.all
        #expect(!lines.isEmpty, "the workload logged something")
        #expect(!lines.contains { $0.contains(canary) || $0.contains(pasted) })
    }
}
