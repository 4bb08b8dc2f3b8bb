import Foundation
import SwitchboardWire
import Synchronization

/// A fake OpenAI and Anthropic that behaves like the real ones on the wire: keys, per-key limits
/// with the providers' header families, latency, faults, prompt caching, moderation and
/// deterministic content from a seed.
///
/// `Simulator` decides what each request gets (``reply(to:)``); ``SimulatorServer`` serves it over
/// HTTP. The clock is injected so that limits and caches can be driven by a manual clock in tests.
public final class Simulator: Sendable {
    public enum Endpoint: String, Sendable, CaseIterable {
        case chatCompletions = "chat.completions"
        case messages
        case moderations
        case models
    }

    /// A request as the HTTP layer hands it over.
    public struct Request: Sendable {
        public var endpoint: Endpoint
        /// Header names are matched case-insensitively.
        public var headers: [HeaderField]
        public var body: [UInt8]

        public init(endpoint: Endpoint, headers: [HeaderField], body: [UInt8]) {
            self.endpoint = endpoint
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? {
            headers.value(of: name)
        }

        /// The bearer token of `Authorization`, if any.
        var bearerToken: String? {
            guard let value = header("authorization") else { return nil }
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
    }

    public let configuration: SimulatorConfiguration
    public let stats = SimulatorStats()
    let now: @Sendable () -> Date
    let startedAt: Date
    let state: Mutex<State>

    struct State: Sendable {
        var limiters: [LimiterKey: KeyLimiter] = [:]
        var faults: FaultPlan
        var promptCache = PromptCacheEmulator()
        var random: SplitMix64
    }

    struct LimiterKey: Hashable, Sendable {
        var provider: APIFormat
        var key: String
        var model: String
    }

    /// - Parameters:
    ///   - configuration: how the providers behave.
    ///   - now: the clock for limits, caches, outages and timestamps; the default is the system clock.
    public init(configuration: SimulatorConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.now = now
        self.startedAt = now()
        self.state = Mutex(
            State(faults: FaultPlan(configuration: configuration), random: SplitMix64(seed: configuration.seed))
        )
    }

    /// Decides the reply to one request and counts it.
    public func reply(to request: Request) -> SimulatedReply {
        stats.update {
            $0.requests += 1
            $0.byEndpoint[request.endpoint.rawValue, default: 0] += 1
        }
        let reply: SimulatedReply
        switch request.endpoint {
        case .chatCompletions: reply = chatCompletions(request)
        case .messages: reply = messages(request)
        case .moderations: reply = moderations(request)
        case .models: reply = models(request)
        }
        if let status = reply.status { stats.update { $0.byStatus[status, default: 0] += 1 } }
        return reply
    }

    /// Forgets limits, caches and queued faults, and zeroes the counters.
    public func reset() {
        state.withLock { state in
            state.limiters.removeAll()
            state.promptCache = PromptCacheEmulator()
            state.faults.queue.removeAll()
        }
        stats.reset()
    }

    /// Queues faults for upcoming requests that match the filters (`POST /sim/faults`).
    public func enqueue(_ faults: [Fault], key: String? = nil, model: String? = nil, provider: APIFormat? = nil) {
        state.withLock { state in
            state.faults.queue += faults.map {
                FaultPlan.Scripted(fault: $0, key: key, model: model, provider: provider)
            }
        }
    }

    /// The faults still queued.
    public var queuedFaults: [Fault] { state.withLock { $0.faults.queue.map(\.fault) } }

    /// Starts an outage of `provider` now, for `duration` (`POST /sim/outage`).
    public func startOutage(provider: APIFormat, status: Int, duration: Duration) {
        let elapsed = Duration.seconds(now().timeIntervalSince(startedAt))
        state.withLock { state in
            state.faults.outages.append(.init(provider: provider, status: status, after: elapsed, duration: duration))
        }
    }

    // MARK: - Shared helpers

    /// Whether a key is accepted, and its settings.
    func keySettings(_ key: String) -> SimulatorConfiguration.KeySettings? {
        if let settings = configuration.keys[key] { return settings.rejected ? nil : settings }
        if configuration.acceptAnySimulatorKey, key.hasPrefix("sk-sim-"), key.count > 7 {
            return SimulatorConfiguration.KeySettings()
        }
        return nil
    }

    func limits(for key: String, provider: APIFormat) -> SimulatorConfiguration.Limits {
        (configuration.keys[key]?.limits ?? configuration.limits).limits(for: provider)
    }

    /// A key as providers show it in errors: `sk-sim-a*****1234`.
    static func mask(_ key: String) -> String {
        guard key.count > 12 else { return String(repeating: "*", count: key.count) }
        return key.prefix(8) + "*****" + key.suffix(4)
    }

    /// A random identifier from the seeded generator (call with the state locked).
    static func identifier(_ random: inout SplitMix64, prefix: String, length: Int, hex: Bool = false) -> String {
        let alphabet = Array(
            hex ? "0123456789abcdef" : "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        )
        var text = prefix
        for _ in 0..<length { text.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
        return text
    }

    func newRequestID(_ provider: APIFormat) -> String {
        state.withLock { state in
            provider == .openAI
                ? Self.identifier(&state.random, prefix: "req_", length: 32, hex: true)
                : Self.identifier(&state.random, prefix: "req_011C", length: 20)
        }
    }

    /// A draw in [0, 1) from the seeded generator.
    static func uniform(_ random: inout SplitMix64) -> Double {
        Double(random.next() >> 11) / Double(1 << 53)
    }

    var elapsed: Duration { .seconds(now().timeIntervalSince(startedAt)) }

    static func json(_ status: Int, _ headers: [HeaderField], _ body: JSONValue) -> SimulatedReply {
        .complete(
            status: status,
            headers: headers + [HeaderField("content-type", "application/json")],
            body: body.serializedBytes()
        )
    }

    /// Splits text into pieces of four characters: the output tokens of JSON answers.
    static func tokenPieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count == 4 {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// The stream plan for `frames`, paced by the latency settings and shaped by a stream fault:
    /// `slow-stream` spaces every frame, `mid-stream-error` cuts halfway with `errorFrame`,
    /// `malformed` replaces the second frame with `malformedFrame`.
    func streamPlan(_ frames: [StreamPlan.Frame], fault: Fault?, errorFrame: [UInt8], malformedFrame: [UInt8])
        -> StreamPlan
    {
        var plan = StreamPlan(
            frames: frames,
            timeToFirstToken: configuration.latency.timeToFirstToken,
            interTokenDelay: interTokenDelay
        )
        switch fault {
        case .slowStream(let interval): plan.slowInterval = interval ?? configuration.latency.slowStreamInterval
        case .midStreamError:
            plan.cutAfter = max(1, frames.count / 2)
            plan.errorFrame = errorFrame
        case .malformed: plan.malformedFrame = malformedFrame
        default: break
        }
        return plan
    }

    /// Stream pacing from the latency settings.
    var interTokenDelay: Duration {
        configuration.latency.tokensPerSecond > 0 ? .seconds(1 / configuration.latency.tokensPerSecond) : .zero
    }

    func countFault(_ fault: Fault) {
        stats.update { $0.faults[fault.description, default: 0] += 1 }
    }

    /// Whether structured output should come out invalid this time.
    func drawInvalidOutput(_ fault: Fault?) -> Bool {
        if fault == .invalidOutput { return true }
        guard configuration.invalidOutputRate > 0 else { return false }
        return state.withLock { Self.uniform(&$0.random) } < configuration.invalidOutputRate
    }

    /// The schema-generation seed for a prompt.
    func contentSeed(model: String, prompt: String, index: Int = 0) -> UInt64 {
        configuration.seed ^ StableHash.of(model, prompt, String(index))
    }

    /// Whether a model spends reasoning tokens (o-series, GPT-5).
    static func isReasoningModel(_ model: String) -> Bool {
        model.hasPrefix("gpt-5") || (model.first == "o" && model.dropFirst().first?.isNumber == true)
    }

    /// Headers every reply of a provider carries.
    func baseHeaders(_ provider: APIFormat, requestID: String) -> [HeaderField] {
        switch provider {
        case .openAI:
            [
                HeaderField("x-request-id", requestID), HeaderField("openai-organization", "org-sim"),
                HeaderField("openai-version", "2020-10-01"), HeaderField("openai-processing-ms", "1"),
            ]
        case .anthropic:
            [
                HeaderField("request-id", requestID),
                HeaderField("anthropic-organization-id", "00000000-0000-4000-a000-000000000001"),
            ]
        }
    }

    /// The rate-limit headers of a limiter, in the provider's family.
    func rateLimitHeaders(_ limiter: KeyLimiter, provider: APIFormat) -> [HeaderField] {
        let now = now()
        var snapshot = limiter.snapshot(now: now)
        switch provider {
        case .openAI:
            return RateLimitHeaders.openAIFields(snapshot)
        case .anthropic:
            if configuration.roundAnthropicTokenHeaders {
                for keyPath in [\RateLimitSnapshot.tokens, \.inputTokens, \.outputTokens] {
                    if let remaining = snapshot[keyPath: keyPath]?.remaining {
                        snapshot[keyPath: keyPath]?.remaining = Int((Double(remaining) / 1000).rounded()) * 1000
                    }
                }
            }
            return RateLimitHeaders.anthropicFields(snapshot, now: now)
        }
    }
}
