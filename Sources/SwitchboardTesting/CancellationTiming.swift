import Foundation
import Logging
import SwitchboardCore
import SwitchboardSimulator

/// How long after a caller stops reading a stream the provider sees its connection closed:
/// `switchboard bench pipeline` measures it against the simulator's connection counters.
public enum CancellationTiming {
    /// Runs `runs` streamed calls, each abandoned after its first token, and returns for each the
    /// time from leaving the loop to the simulator counting the connection cancelled.
    public static func measure(runs: Int) async throws -> [Duration] {
        var simulator = SimulatorConfiguration.testing
        simulator.faults.rates = [(.slowStream(interval: .milliseconds(50)), 1)]
        return try await withSimulator(simulator) { fixture in
            var configuration = SwitchboardConfiguration()
            configuration.state.backend = .memory
            configuration.providers = [
                "openai": .init(
                    kind: .openAI,
                    baseURL: fixture.baseURL,
                    apiKeys: [Secret(value: "sk-sim-cancel-key", source: "bench")]
                )
            ]
            var logger = Logger(label: "switchboard.bench.cancel")
            logger.logLevel = .critical
            let pipeline = try Pipeline(configuration: configuration, logger: logger)
            let clock = ContinuousClock()
            var timings: [Duration] = []
            for run in 0..<runs {
                var request = OpenAI.ChatCompletionRequest(
                    model: "openai/gpt-4o-mini",
                    messages: [.user("Tell me a long story, number \(run).")]
                )
                request.maxCompletionTokens = 400
                let before = fixture.simulator.stats.snapshot.cancelledConnections
                for try await chunk in pipeline.stream(request) where chunk.choices.first?.delta.content != nil {
                    break
                }
                let left = clock.now
                try await poll(
                    "the simulator saw the connection closed",
                    timeout: .seconds(5),
                    interval: .microseconds(200)
                ) {
                    fixture.simulator.stats.snapshot.cancelledConnections > before
                }
                timings.append(clock.now - left)
            }
            return timings
        }
    }
}
