import Foundation
import SwitchboardWire

/// A misbehaviour the simulator can serve, by its `x-sim-fault` name.
///
/// | name | what the client sees |
/// |---|---|
/// | `500`, `502`, `503`, `529` (or any 4xx/5xx) | that status with the provider's error body (`529` on the OpenAI side is its 503 "overloaded") |
/// | `429` | a rate-limit 429 with `retry-after` (`429;retry-after=2.5`, default 1 s) |
/// | `insufficient-quota` | OpenAI's quota 429 / Anthropic's spend-cap 429 (no `retry-after`) |
/// | `reset` | the TCP connection is reset before any response byte |
/// | `stall` | the request is accepted and never answered, until the client gives up |
/// | `malformed` | 200 with a truncated JSON body (streams: a `data:` line that is not JSON) |
/// | `slow-stream` | a stream whose events come `slow_stream_interval` apart (`slow-stream;interval=500ms`) |
/// | `mid-stream-error` | a stream that stops halfway with the provider's error event (non-streaming: a reset) |
/// | `invalid-output` | structured output that does not satisfy the requested schema |
/// | `ok` | no fault (for scripted sequences) |
public enum Fault: Sendable, Hashable, CustomStringConvertible {
    case status(Int)
    case rateLimited(retryAfter: Duration)
    case insufficientQuota
    case reset
    case stall
    case malformed
    case slowStream(interval: Duration?)
    case midStreamError
    case invalidOutput
    /// No fault: a step of a scripted sequence that succeeds.
    case ok

    public static let names = [
        "500", "502", "503", "529", "429", "insufficient-quota", "reset", "stall", "malformed", "slow-stream",
        "mid-stream-error", "invalid-output", "ok",
    ]

    /// Parses an `x-sim-fault` value: a name, optionally with `;key=value` parameters.
    public init?(header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let name = parts.first?.lowercased() else { return nil }
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { return nil }
            parameters[pair[0].lowercased()] = pair[1]
        }
        func duration(_ key: String) -> Duration? {
            guard let text = parameters[key] else { return nil }
            if let seconds = Double(text) { return .seconds(seconds) }
            return GoDuration.parse(text)
        }
        switch name {
        case "429":
            self = .rateLimited(retryAfter: duration("retry-after") ?? .seconds(1))
        case "insufficient-quota", "insufficient_quota":
            self = .insufficientQuota
        case "reset": self = .reset
        case "stall": self = .stall
        case "malformed": self = .malformed
        case "slow-stream": self = .slowStream(interval: duration("interval"))
        case "mid-stream-error": self = .midStreamError
        case "invalid-output": self = .invalidOutput
        case "ok", "none": self = .ok
        default:
            guard let status = Int(name), (400...599).contains(status) else { return nil }
            self = .status(status)
        }
    }

    public var description: String {
        switch self {
        case .status(let status): String(status)
        case .rateLimited: "429"
        case .insufficientQuota: "insufficient-quota"
        case .reset: "reset"
        case .stall: "stall"
        case .malformed: "malformed"
        case .slowStream: "slow-stream"
        case .midStreamError: "mid-stream-error"
        case .invalidOutput: "invalid-output"
        case .ok: "ok"
        }
    }
}

/// Which faults a request gets: the `x-sim-fault` header first, then the scripted queue
/// (`POST /sim/faults`), then a scheduled outage, then the configured random rates.
struct FaultPlan: Sendable {
    /// A fault queued for upcoming requests, optionally only for one key, model or provider.
    struct Scripted: Sendable, Equatable {
        var fault: Fault
        var key: String?
        var model: String?
        var provider: APIFormat?

        func matches(key: String, model: String, provider: APIFormat) -> Bool {
            (self.key == nil || self.key == key) && (self.model == nil || self.model == model)
                && (self.provider == nil || self.provider == provider)
        }
    }

    let rates: [(fault: Fault, rate: Double)]
    var outages: [SimulatorConfiguration.Outage]
    var queue: [Scripted] = []
    private var random: SplitMix64

    init(configuration: SimulatorConfiguration) {
        rates = configuration.faults.rates
        outages = configuration.faults.outages
        random = SplitMix64(seed: configuration.seed ^ 0xFA17)
    }

    /// The scripted fault for a request, if any: the header's, else the first matching queued one.
    mutating func scripted(header: String?, key: String, model: String, provider: APIFormat) -> Fault? {
        if let header, let fault = Fault(header: header) { return fault }
        if let index = queue.firstIndex(where: { $0.matches(key: key, model: model, provider: provider) }) {
            return queue.remove(at: index).fault
        }
        return nil
    }

    /// The fault a scheduled outage or the random rates give a request that was admitted.
    mutating func unscripted(provider: APIFormat, elapsed: Duration) -> Fault? {
        for outage in outages where outage.provider == provider {
            if elapsed >= outage.after, elapsed < outage.after + outage.duration { return .status(outage.status) }
        }
        guard !rates.isEmpty else { return nil }
        let draw = Double(random.next() >> 11) / Double(1 << 53)
        var cumulative = 0.0
        for (fault, rate) in rates {
            cumulative += rate
            if draw < cumulative { return fault }
        }
        return nil
    }
}
