import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardConfigReader
import SwitchboardSimulator
import SwitchboardWire

/// `switchboard sim`: a faithful OpenAI + Anthropic simulator on a local port.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract:
            "Run the provider simulator: OpenAI- and Anthropic-compatible endpoints with real limits, latency and faults.",
        discussion: """
            Accepts any key that begins with sk-sim- (as Authorization: Bearer or x-api-key). \
            Flags override the configuration file; the README documents its keys and the x-sim-fault header.
            """
    )

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port (default 8089).")
    var port: Int?

    @Option(help: "Simulator configuration file (YAML).")
    var config: String?

    @Option(help: "Seed for content, faults and ids (default 42).")
    var seed: Int?

    @Option(help: "Time to first token, e.g. 200ms (default 200ms).")
    var ttft: String?

    @Option(help: "Output speed in tokens per second; 0 sends at once (default 80).")
    var tokensPerSecond: Double?

    @Flag(help: "No latency at all (for benchmarks).")
    var noLatency = false

    @Option(help: "Length of the rate-limit window, e.g. 60s or 5s (default 60s).")
    var window: String?

    @Option(help: "OpenAI requests per window for every key.")
    var openaiRpm: Int?

    @Option(help: "OpenAI tokens per window for every key.")
    var openaiTpm: Int?

    @Option(help: "Anthropic requests per window for every key.")
    var anthropicRpm: Int?

    @Option(help: "Anthropic input tokens per window for every key.")
    var anthropicInputTpm: Int?

    @Option(help: "Anthropic output tokens per window for every key.")
    var anthropicOutputTpm: Int?

    @Option(name: .customLong("fault"), help: "A random fault rate, e.g. --fault 500=0.02 (repeatable).")
    var faults: [String] = []

    @Option(help: "Share of structured outputs that are invalid, 0-1 (default 0).")
    var invalidOutputRate: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        var configuration: SimulatorConfiguration
        do {
            configuration =
                try config.map { path throws(ConfigError) in
                    try SimulatorConfiguration(yaml: ConfigNode.load(path: path))
                }
                ?? SimulatorConfiguration()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        try apply(to: &configuration)

        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning or error")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchboard.sim")
        let simulator = Simulator(configuration: configuration)
        let host = configuration.host
        let app = SimulatorServer.makeApplication(simulator: simulator, logger: logger) { port in
            Self.printBanner(host: host, port: port)
        }
        try await app.runService()
    }

    private func apply(to configuration: inout SimulatorConfiguration) throws {
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let seed { configuration.seed = UInt64(bitPattern: Int64(seed)) }
        if let ttft {
            guard let duration = GoDuration.parse(ttft) else {
                throw ValidationError("--ttft: expected a duration such as 200ms, got '\(ttft)'")
            }
            configuration.latency.timeToFirstToken = duration
        }
        if let tokensPerSecond { configuration.latency.tokensPerSecond = tokensPerSecond }
        if noLatency { configuration.latency = .none }
        if let window {
            guard let duration = GoDuration.parse(window), duration > .zero else {
                throw ValidationError("--window: expected a duration such as 60s, got '\(window)'")
            }
            configuration.limits.openAI.window = duration
            configuration.limits.anthropic.window = duration
        }
        if let openaiRpm { configuration.limits.openAI.requestsPerWindow = openaiRpm }
        if let openaiTpm { configuration.limits.openAI.tokensPerWindow = openaiTpm }
        if let anthropicRpm { configuration.limits.anthropic.requestsPerWindow = anthropicRpm }
        if let anthropicInputTpm { configuration.limits.anthropic.inputTokensPerWindow = anthropicInputTpm }
        if let anthropicOutputTpm { configuration.limits.anthropic.outputTokensPerWindow = anthropicOutputTpm }
        for item in faults {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let fault = Fault(header: parts[0]), let rate = Double(parts[1]),
                (0...1).contains(rate)
            else {
                throw ValidationError(
                    "--fault: expected NAME=RATE with a rate between 0 and 1 (e.g. 500=0.02), got '\(item)'"
                )
            }
            configuration.faults.rates.append((fault, rate))
        }
        if let invalidOutputRate { configuration.invalidOutputRate = invalidOutputRate }
    }

    private static func printBanner(host: String, port: Int) {
        let base = "http://\(host):\(port)"
        let banner = """
            switchboard sim listening on \(base)
              keys: any key that begins with sk-sim- (e.g. sk-sim-demo), as Authorization: Bearer or x-api-key
              curl:      curl -s \(base)/v1/chat/completions -H 'Authorization: Bearer sk-sim-demo' \\
                           -H 'content-type: application/json' \\
                           -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
              openai:    OpenAI(base_url="\(base)/v1", api_key="sk-sim-demo")
              anthropic: Anthropic(base_url="\(base)", api_key="sk-sim-demo")
              stats:     curl -s \(base)/sim/stats
              faults:    add -H 'x-sim-fault: 529' (or 429, 500, reset, stall, malformed, slow-stream, mid-stream-error)

            """
        printNow(banner)
    }
}
