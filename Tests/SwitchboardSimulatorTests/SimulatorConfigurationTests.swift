import SwitchboardConfigReader
import SwitchboardSimulator
import SwitchboardWire
import Testing

struct SimulatorConfigurationTests {
    @Test func anEmptyFileGivesTheDocumentedDefaults() throws {
        let configuration = try SimulatorConfiguration(yaml: ConfigNode.parse(yaml: ""))
        #expect(configuration.port == 8089)
        #expect(configuration.limits.openAI == .init(requests: 5_000, tokens: 2_000_000))
        #expect(configuration.latency.timeToFirstToken == .milliseconds(200))
        #expect(configuration.acceptAnySimulatorKey)
    }

    @Test func everyKeyOfTheDocumentedFileIsRead() throws {
        let yaml = """
            host: 0.0.0.0
            port: 9000
            seed: 5
            latency: { ttft: 50ms, tokens_per_second: 200, slow_stream_interval: 1s }
            limits:
              window: 5s
              openai: { rpm: 10, tpm: 5000 }
              anthropic: { rpm: 20, input_tpm: 6000, output_tpm: 700 }
            keys:
              sk-sim-tight: { openai: { rpm: 2 } }
              sk-sim-broke: { quota_exhausted: true }
              sk-sim-off: { disabled: true }
            accept_any_sim_key: false
            faults:
              rates: { "500": 0.02, reset: 0.01 }
              outages: [ { provider: anthropic, after: 20s, for: 15s } ]
            structured_output: { invalid_rate: 0.1 }
            prompt_cache: { enabled: false, openai_ttl: 10m }
            anthropic: { round_token_headers: true }
            models: { openai: [gpt-4o-mini], anthropic: [claude-haiku-4-5] }
            max_body: 1MB
            stall_limit: 30s
            """
        let configuration = try SimulatorConfiguration(yaml: ConfigNode.parse(yaml: yaml, file: "sim.yaml"))
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9000)
        #expect(configuration.seed == 5)
        #expect(configuration.latency.tokensPerSecond == 200)
        #expect(configuration.limits.openAI == .init(window: .seconds(5), requests: 10, tokens: 5000))
        #expect(
            configuration.limits.anthropic
                == .init(window: .seconds(5), requests: 20, inputTokens: 6000, outputTokens: 700)
        )
        #expect(
            configuration.keys["sk-sim-tight"]?.limits?.openAI == .init(window: .seconds(5), requests: 2, tokens: 5000)
        )
        #expect(configuration.keys["sk-sim-broke"]?.quotaExhausted == true)
        #expect(configuration.keys["sk-sim-off"]?.rejected == true)
        #expect(!configuration.acceptAnySimulatorKey)
        #expect(configuration.faults.rates.map(\.fault) == [.status(500), .reset])
        #expect(
            configuration.faults.outages == [
                .init(provider: .anthropic, status: 529, after: .seconds(20), duration: .seconds(15))
            ]
        )
        #expect(configuration.invalidOutputRate == 0.1)
        #expect(!configuration.promptCache.enabled)
        #expect(configuration.promptCache.openAITTL == .seconds(600))
        #expect(configuration.roundAnthropicTokenHeaders)
        #expect(configuration.models.openAI == ["gpt-4o-mini"])
        #expect(configuration.maxBodyBytes == 1 << 20)
        #expect(configuration.stallLimit == .seconds(30))
    }

    @Test(arguments: [
        ("limits:\n  openai: { rmp: 5 }\n", "sim.yaml:2:13: limits.openai.rmp: unknown key 'rmp'; did you mean 'rpm'?"),
        (
            "latency:\n  ttft: soon\n",
            "sim.yaml:2:9: latency.ttft: expected a duration such as 500ms, 10s, 1m30s or 1h, got 'soon'"
        ),
        (
            "faults:\n  rates: { explode: 0.1 }\n",
            "sim.yaml:2:21: faults.rates.explode: unknown fault 'explode'; expected one of: 500, 502, 503, 529, 429, insufficient-quota, reset, stall, malformed, slow-stream, mid-stream-error, invalid-output, ok"
        ),
        ("limits:\n  openai: { rpm: -3 }\n", "sim.yaml:2:18: limits.openai.rpm: must be a positive integer, got -3"),
        ("port: [1, 2]\n", "sim.yaml:1:7: port: expected a text value, got a list"),
    ])
    func mistakesAreReportedWithFileLineAndKey(yaml: String, message: String) {
        do {
            _ = try SimulatorConfiguration(yaml: ConfigNode.parse(yaml: yaml, file: "sim.yaml"))
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(arguments: [
        ("gpt-4o-mini", true), ("gpt-4o-mini-2024-07-18", true), ("gpt-4o-mini-preview", false), ("gpt-5", true),
        ("gpt-9", false),
    ])
    func servedModelsIncludeDatedSnapshots(model: String, served: Bool) {
        #expect(SimulatorConfiguration.Models().serves(model, provider: .openAI) == served)
    }

    @Test(arguments: [
        ("500", Fault.status(500)), ("429;retry-after=2.5", .rateLimited(retryAfter: .seconds(2.5))),
        ("429", .rateLimited(retryAfter: .seconds(1))),
        ("slow-stream; interval=200ms", .slowStream(interval: .milliseconds(200))),
        ("insufficient-quota", .insufficientQuota), ("ok", .ok),
    ])
    func faultHeadersParse(text: String, fault: Fault) {
        #expect(Fault(header: text) == fault)
    }

    @Test(arguments: ["", "200", "teapot", "429;retry-after"])
    func unknownFaultHeadersAreIgnored(text: String) {
        #expect(Fault(header: text) == nil)
    }
}
