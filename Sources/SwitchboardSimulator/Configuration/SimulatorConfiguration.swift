import SwitchboardConfigReader
import SwitchboardWire

/// How the simulated providers behave. Every setting has a default, so an empty file (or none)
/// gives a realistic, generous simulator; tests shorten windows and zero the latency.
public struct SimulatorConfiguration: Sendable {
    /// Address to listen on. The default is `127.0.0.1`.
    public var host = "127.0.0.1"
    /// Port to listen on; 0 picks a free one. The default is 8089.
    public var port = 8089
    /// Seed for content, faults and ids. The default is 42.
    public var seed: UInt64 = 42
    public var latency = Latency()
    /// Limits applied to every key unless `keys` overrides them.
    public var limits = ProviderLimits()
    /// Per-key settings, by exact key.
    public var keys: [String: KeySettings] = [:]
    /// Accept any key that begins with `sk-sim-`. The default is true.
    public var acceptAnySimulatorKey = true
    public var faults = Faults()
    /// Share of structured-output responses (`json_schema`, `json_object`, forced tools) that are
    /// deliberately invalid. The default is 0.
    public var invalidOutputRate = 0.0
    public var promptCache = PromptCache()
    /// Round Anthropic's `tokens-remaining` headers to the nearest thousand, as the API documents.
    /// The default is false (exact values).
    public var roundAnthropicTokenHeaders = false
    public var models = Models()
    /// Largest accepted request body. The default is 32 MiB, Anthropic's limit.
    public var maxBodyBytes = 32 << 20
    /// How long a `stall` fault holds a request before giving up. The default is 10 minutes.
    public var stallLimit: Duration = .seconds(600)

    public init() {}

    /// Streaming pace.
    public struct Latency: Sendable {
        /// Delay before the first byte of the answer. The default is 200 ms.
        public var timeToFirstToken: Duration = .milliseconds(200)
        /// Output speed; 0 sends everything at once. The default is 80.
        public var tokensPerSecond: Double = 80
        /// Delay between events of a `slow-stream` fault. The default is 2 s.
        public var slowStreamInterval: Duration = .seconds(2)

        public init() {}

        /// No delays at all: for tests and benchmarks.
        public static let none: Latency = {
            var latency = Latency()
            latency.timeToFirstToken = .zero
            latency.tokensPerSecond = 0
            return latency
        }()
    }

    /// The limits of one key on one model, per provider.
    public struct Limits: Sendable, Equatable {
        /// Length of the window the limits refill over. The default is 60 s.
        public var window: Duration = .seconds(60)
        public var requestsPerWindow: Int
        /// OpenAI: tokens (input + output ceiling).
        public var tokensPerWindow: Int
        /// Anthropic: input tokens.
        public var inputTokensPerWindow: Int
        /// Anthropic: output tokens.
        public var outputTokensPerWindow: Int

        public init(
            window: Duration = .seconds(60),
            requests: Int,
            tokens: Int = 0,
            inputTokens: Int = 0,
            outputTokens: Int = 0
        ) {
            self.window = window
            self.requestsPerWindow = requests
            self.tokensPerWindow = tokens
            self.inputTokensPerWindow = inputTokens
            self.outputTokensPerWindow = outputTokens
        }
    }

    public struct ProviderLimits: Sendable, Equatable {
        /// The default is 5,000 requests and 2,000,000 tokens per minute.
        public var openAI = Limits(requests: 5_000, tokens: 2_000_000)
        /// The default is 4,000 requests, 2,000,000 input and 400,000 output tokens per minute.
        public var anthropic = Limits(requests: 4_000, inputTokens: 2_000_000, outputTokens: 400_000)

        public init() {}

        public func limits(for provider: APIFormat) -> Limits {
            provider == .openAI ? openAI : anthropic
        }
    }

    /// Settings for one key.
    public struct KeySettings: Sendable, Equatable {
        /// Overrides the default limits for this key.
        public var limits: ProviderLimits?
        /// Answer every call with 429 `insufficient_quota` (OpenAI) or a spend-cap 429 (Anthropic).
        public var quotaExhausted = false
        /// Refuse the key with 401 (`disabled: true` in the file).
        public var rejected = false

        public init(limits: ProviderLimits? = nil, quotaExhausted: Bool = false, rejected: Bool = false) {
            self.limits = limits
            self.quotaExhausted = quotaExhausted
            self.rejected = rejected
        }
    }

    /// Faults served at random (seeded), and scheduled outages.
    public struct Faults: Sendable {
        /// Probability of each fault per request, e.g. `[.status(500): 0.02]`.
        public var rates: [(fault: Fault, rate: Double)] = []
        /// Periods when one provider answers every call with an error.
        public var outages: [Outage] = []

        public init() {}
    }

    /// One provider failing every call for a while, measured from the simulator's start.
    public struct Outage: Sendable, Equatable {
        public var provider: APIFormat
        /// The status served: 529 (Anthropic overloaded) or 503 by default.
        public var status: Int
        public var after: Duration
        public var duration: Duration

        public init(provider: APIFormat, status: Int, after: Duration, duration: Duration) {
            self.provider = provider
            self.status = status
            self.after = after
            self.duration = duration
        }
    }

    public struct PromptCache: Sendable {
        /// Emulate both providers' prompt caching. The default is true.
        public var enabled = true
        /// How long an OpenAI cached prefix lives after its last use. The default is 5 minutes.
        public var openAITTL: Duration = .seconds(300)

        public init() {}
    }

    /// The models each side serves; other names get the provider's 404.
    public struct Models: Sendable {
        /// The mainstream OpenAI chat models of the price reference, and the moderation models.
        public var openAI = [
            "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
            "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "gpt-5.2", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano",
            "gpt-5.5",
            "gpt-5.6", "gpt-6-sol", "gpt-6.1-sol", "omni-moderation-latest", "text-moderation-latest",
        ]
        /// Every Anthropic chat model of the price reference (aliases; dated snapshots are accepted too).
        public var anthropic = [
            "claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-sonnet-5", "claude-sonnet-5-5",
            "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5",
            "claude-opus-5-5",
            "claude-haiku-5-5", "claude-fable-5", "claude-fable-5-1", "claude-mythos-5", "claude-mythos-5-1",
            "claude-mythos-preview",
        ]

        public init() {}

        /// Whether `model` is served, allowing a dated snapshot of a listed alias
        /// (`gpt-4o-mini-2024-07-18`, `claude-haiku-4-5-20251001`).
        public func serves(_ model: String, provider: APIFormat) -> Bool {
            let names = provider == .openAI ? openAI : anthropic
            if names.contains(model) { return true }
            return names.contains { alias in
                guard model.hasPrefix(alias + "-") else { return false }
                let suffix = model.dropFirst(alias.count + 1)
                return suffix.allSatisfy { $0.isNumber || $0 == "-" } && suffix.count >= 8
            }
        }
    }
}

extension SimulatorConfiguration {
    /// Reads a simulator configuration file (YAML); absent keys keep their defaults.
    ///
    /// ```yaml
    /// port: 8089
    /// seed: 42
    /// latency: { ttft: 200ms, tokens_per_second: 80, slow_stream_interval: 2s }
    /// limits:
    ///   window: 60s
    ///   openai: { rpm: 5000, tpm: 2000000 }
    ///   anthropic: { rpm: 4000, input_tpm: 2000000, output_tpm: 400000 }
    /// keys:
    ///   sk-sim-tight: { openai: { rpm: 5, tpm: 2000 } }
    ///   sk-sim-broke: { quota_exhausted: true }
    /// accept_any_sim_key: true
    /// faults:
    ///   rates: { "500": 0.02, "529": 0.01, reset: 0.005 }
    ///   outages: [ { provider: anthropic, status: 529, after: 20s, for: 15s } ]
    /// structured_output: { invalid_rate: 0.1 }
    /// prompt_cache: { enabled: true, openai_ttl: 5m }
    /// anthropic: { round_token_headers: false }
    /// models: { openai: [gpt-4o-mini], anthropic: [claude-haiku-4-5] }
    /// max_body: 32MB
    /// stall_limit: 10m
    /// ```
    public init(yaml root: ConfigNode) throws(ConfigError) {
        self.init()
        try root.requireKnownKeys([
            "host", "port", "seed", "latency", "limits", "keys", "accept_any_sim_key", "faults", "structured_output",
            "prompt_cache", "anthropic", "models", "max_body", "stall_limit",
        ])
        if let node = try root.member("host") { host = try node.string() }
        if let node = try root.member("port") { port = try node.int() }
        if let node = try root.member("seed") { seed = UInt64(bitPattern: Int64(try node.int())) }
        if let node = try root.member("latency") {
            try node.requireKnownKeys(["ttft", "tokens_per_second", "slow_stream_interval"])
            if let value = try node.member("ttft") { latency.timeToFirstToken = try value.duration() }
            if let value = try node.member("tokens_per_second") { latency.tokensPerSecond = try value.double() }
            if let value = try node.member("slow_stream_interval") { latency.slowStreamInterval = try value.duration() }
        }
        if let node = try root.member("limits") {
            try node.requireKnownKeys(["window", "openai", "anthropic"])
            limits = try Self.providerLimits(node, base: ProviderLimits())
        }
        if let node = try root.member("keys") {
            for (key, settings) in try node.members() {
                try settings.requireKnownKeys(["openai", "anthropic", "window", "quota_exhausted", "disabled"])
                var entry = KeySettings()
                for name in ["openai", "anthropic", "window"] {
                    if try settings.member(name) != nil {
                        entry.limits = try Self.providerLimits(settings, base: limits)
                    }
                }
                if let value = try settings.member("quota_exhausted") { entry.quotaExhausted = try value.bool() }
                if let value = try settings.member("disabled") { entry.rejected = try value.bool() }
                keys[key] = entry
            }
        }
        if let node = try root.member("accept_any_sim_key") { acceptAnySimulatorKey = try node.bool() }
        if let node = try root.member("faults") {
            try node.requireKnownKeys(["rates", "outages"])
            if let rates = try node.member("rates") {
                for (name, value) in try rates.members() {
                    guard let fault = Fault(header: name) else {
                        throw value.error(
                            "unknown fault '\(name)'; expected one of: \(Fault.names.joined(separator: ", "))"
                        )
                    }
                    let rate = try value.double()
                    guard (0...1).contains(rate) else {
                        throw value.error("a rate must be between 0 and 1, got \(rate)")
                    }
                    faults.rates.append((fault, rate))
                }
            }
            if let outages = try node.member("outages") {
                for outage in try outages.elements() {
                    try outage.requireKnownKeys(["provider", "status", "after", "for"])
                    guard let providerNode = try outage.member("provider") else {
                        throw outage.error("an outage needs a provider")
                    }
                    let provider = APIFormat(rawValue: try providerNode.oneOf(["openai", "anthropic"]))!
                    faults.outages.append(
                        Outage(
                            provider: provider,
                            status: try outage.member("status")?.int() ?? (provider == .anthropic ? 529 : 503),
                            after: try outage.member("after")?.duration() ?? .zero,
                            duration: try outage.member("for")?.duration() ?? .seconds(15)
                        )
                    )
                }
            }
        }
        if let node = try root.member("structured_output") {
            try node.requireKnownKeys(["invalid_rate"])
            if let value = try node.member("invalid_rate") { invalidOutputRate = try value.double() }
        }
        if let node = try root.member("prompt_cache") {
            try node.requireKnownKeys(["enabled", "openai_ttl"])
            if let value = try node.member("enabled") { promptCache.enabled = try value.bool() }
            if let value = try node.member("openai_ttl") { promptCache.openAITTL = try value.duration() }
        }
        if let node = try root.member("anthropic") {
            try node.requireKnownKeys(["round_token_headers"])
            if let value = try node.member("round_token_headers") { roundAnthropicTokenHeaders = try value.bool() }
        }
        if let node = try root.member("models") {
            try node.requireKnownKeys(["openai", "anthropic"])
            if let value = try node.member("openai") { models.openAI = try Self.strings(value) }
            if let value = try node.member("anthropic") { models.anthropic = try Self.strings(value) }
        }
        if let node = try root.member("max_body") { maxBodyBytes = try node.byteSize() }
        if let node = try root.member("stall_limit") { stallLimit = try node.duration() }
    }

    private static func providerLimits(_ node: ConfigNode, base: ProviderLimits) throws(ConfigError) -> ProviderLimits {
        var result = base
        if let value = try node.member("window") {
            let window = try value.duration()
            guard window > .zero else { throw value.error("the window must be longer than zero") }
            result.openAI.window = window
            result.anthropic.window = window
        }
        if let openAI = try node.member("openai") {
            try openAI.requireKnownKeys(["rpm", "tpm"])
            if let value = try openAI.member("rpm") { result.openAI.requestsPerWindow = try positive(value) }
            if let value = try openAI.member("tpm") { result.openAI.tokensPerWindow = try positive(value) }
        }
        if let anthropic = try node.member("anthropic") {
            try anthropic.requireKnownKeys(["rpm", "input_tpm", "output_tpm"])
            if let value = try anthropic.member("rpm") { result.anthropic.requestsPerWindow = try positive(value) }
            if let value = try anthropic.member("input_tpm") {
                result.anthropic.inputTokensPerWindow = try positive(value)
            }
            if let value = try anthropic.member("output_tpm") {
                result.anthropic.outputTokensPerWindow = try positive(value)
            }
        }
        return result
    }

    private static func strings(_ node: ConfigNode) throws(ConfigError) -> [String] {
        var result: [String] = []
        for element in try node.elements() { result.append(try element.string()) }
        return result
    }

    private static func positive(_ node: ConfigNode) throws(ConfigError) -> Int {
        let value = try node.int()
        guard value > 0 else { throw node.error("must be a positive integer, got \(value)") }
        return value
    }
}
