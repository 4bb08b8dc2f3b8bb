import CoreMetrics
import Foundation
import Prometheus
import SwitchboardCore
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardWire
import Synchronization

/// The gateway's Prometheus metrics, recorded through swift-metrics into a registry of its own
/// (so that several gateways in one process, as in tests, do not mix), served at `GET /metrics`.
///
/// | metric | labels | what |
/// |---|---|---|
/// | `switchboard_http_requests_total` | endpoint, status | requests answered |
/// | `switchboard_http_request_duration_seconds` | endpoint | time to answer (to the first byte for streams) |
/// | `switchboard_calls_total` | outcome, provider, model | calls by journal outcome |
/// | `switchboard_call_duration_seconds` | provider, model | a call's latency, retries included |
/// | `switchboard_time_to_first_token_seconds` | provider, model | streams |
/// | `switchboard_tokens_total` | kind, provider, model | input, cached_input, cache_write, output, reasoning |
/// | `switchboard_cost_nano_usd_total` / `switchboard_saved_nano_usd_total` | provider, model | spend, and what caching saved |
/// | `switchboard_cache_total` | outcome | exact cache: hit, miss, bypass, joined |
/// | `switchboard_limiter_rejections_total` | limit | per-user limits refusing: requests, tokens |
/// | `switchboard_upstream_attempts_total` | provider, model, status | attempts and their HTTP status |
/// | `switchboard_breaker_state` | target | 0 closed, 1 half-open, 2 open (as of the last transition seen) |
/// | `switchboard_headroom_remaining` / `switchboard_headroom_limit` | provider, model, key, window | provider rate-limit headroom per key fingerprint |
/// | `switchboard_redis_up` / `switchboard_redis_outages` / `switchboard_redis_failed_commands` | — | with `state.backend: redis`: whether it answers, outages since start, commands they failed |
public final class GatewayMetrics: Sendable {
    public enum Endpoint: String, Sendable {
        case chatCompletions = "chat_completions"
        case messages
        case moderations
        case models
        case other
    }

    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The handles made so far, by metric and label values: making one goes through the
    /// factory's name and label checks and the registry's lock, ten times a call otherwise.
    private let handles = Mutex(Handles())

    private struct HandleKey: Hashable {
        let label: String
        let values: [String]
    }

    private struct Handles {
        var counters: [HandleKey: CoreMetrics.Counter] = [:]
        var timers: [HandleKey: CoreMetrics.Timer] = [:]
        var gauges: [HandleKey: CoreMetrics.Gauge] = [:]
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        factory.defaultDurationHistogramBuckets = latency
        self.factory = factory
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    func request(endpoint: Endpoint, status: Int, duration: Duration) {
        counter("switchboard_http_requests_total", [("endpoint", endpoint.rawValue), ("status", String(status))])
            .increment()
        timer("switchboard_http_request_duration_seconds", [("endpoint", endpoint.rawValue)]).recordNanoseconds(
            duration.nanoseconds
        )
    }

    func limiterRejected(_ status: LimitStatus) {
        for (limit, decision) in [("requests", status.requests), ("tokens", status.tokens)] where !decision.allowed {
            counter("switchboard_limiter_rejections_total", [("limit", limit)])
                .increment()
        }
    }

    /// Everything a finished call's record says: outcome, latency, tokens, cost, cache, attempts,
    /// breaker transitions and the headroom providers reported.
    func call(_ record: CallRecord) {
        let model: [(String, String)] = [
            ("provider", record.provider ?? "none"), ("model", record.modelUsed ?? "none"),
        ]
        counter("switchboard_calls_total", [("outcome", record.outcome.rawValue)] + model).increment()
        if let latency = record.latencyMilliseconds {
            timer("switchboard_call_duration_seconds", model)
                .recordNanoseconds(Int64(latency * 1_000_000))
        }
        if let ttft = record.timeToFirstTokenMilliseconds {
            timer("switchboard_time_to_first_token_seconds", model)
                .recordNanoseconds(Int64(ttft * 1_000_000))
        }
        let tokens = record.tokens
        for (kind, count) in [
            ("input", tokens.input), ("cached_input", tokens.cachedInput),
            ("cache_write", tokens.cacheWrite5m + tokens.cacheWrite1h), ("output", tokens.output),
            ("reasoning", tokens.reasoning),
        ] where count > 0 {
            counter("switchboard_tokens_total", [("kind", kind)] + model)
                .increment(by: count)
        }
        if let cost = record.costNanoUSD, cost > 0 {
            counter("switchboard_cost_nano_usd_total", model)
                .increment(by: Int(cost))
        }
        if record.savedNanoUSD > 0 {
            counter("switchboard_saved_nano_usd_total", model)
                .increment(by: Int(record.savedNanoUSD))
        }
        if let cache = record.cache {
            counter("switchboard_cache_total", [("outcome", cache.rawValue)])
                .increment()
        }
        for attempt in record.attempts {
            counter(
                "switchboard_upstream_attempts_total",
                [
                    ("provider", attempt.provider), ("model", attempt.model),
                    ("status", attempt.httpStatus.map(String.init) ?? attempt.errorClass ?? "none"),
                ]
            ).increment()
            headroom(attempt)
        }
        for event in record.events where event.kind == "breaker" {
            guard let state = event.detail?["to"]?.stringValue else { continue }
            let value: Double =
                switch state {
                case "open": 2
                case "half_open", "half-open": 1
                default: 0
                }
            gauge("switchboard_breaker_state", [("target", event.scope)])
                .record(value)
        }
    }

    /// The headers of a record that came without the pipeline's reading of them.
    private static func parse(_ headers: [String: String], at now: Date) -> RateLimitSnapshot {
        let lookup: RateLimitHeaders.Lookup = { name in
            headers.first { HeaderField.sameName($0.key, name) }?.value
        }
        let anthropic = headers.keys.contains { HeaderField.name($0, hasPrefix: "anthropic-ratelimit-") }
        return anthropic
            ? RateLimitHeaders.parseAnthropic(lookup, now: now)
            : RateLimitHeaders.parseOpenAI(lookup, now: now)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        handle(\.counters, label, dimensions) {
            CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        handle(\.timers, label, dimensions) {
            CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory)
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Gauge {
        handle(\.gauges, label, dimensions) {
            CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory)
        }
    }

    /// The handle of a metric with these label values, made once. (A metric's label names are
    /// always the same, so its values alone tell its series apart.)
    private func handle<Handle: Sendable>(
        _ kind: WritableKeyPath<Handles, [HandleKey: Handle]>,
        _ label: String,
        _ dimensions: [(String, String)],
        make: () -> Handle
    ) -> Handle {
        let key = HandleKey(label: label, values: dimensions.map(\.1))
        if let handle = handles.withLock({ $0[keyPath: kind][key] }) { return handle }
        let handle = make()
        handles.withLock { $0[keyPath: kind][key] = handle }
        return handle
    }

    /// Whether Redis answers (as of the scrape), its outages and the commands they failed.
    func redis(_ health: RedisClient.Health) {
        gauge("switchboard_redis_up", []).record(health.up ? 1 : 0)
        gauge("switchboard_redis_outages", []).record(Double(health.outages))
        gauge("switchboard_redis_failed_commands", []).record(Double(health.failedCommands))
    }

    /// The provider's rate-limit headers of one attempt, as gauges per key fingerprint.
    private func headroom(_ attempt: AttemptRecord) {
        guard !attempt.rateLimitHeaders.isEmpty else { return }
        let snapshot = attempt.rateLimits ?? Self.parse(attempt.rateLimitHeaders, at: attempt.startedAt)
        let windows = [
            ("requests", snapshot.requests), ("tokens", snapshot.tokens), ("input_tokens", snapshot.inputTokens),
            ("output_tokens", snapshot.outputTokens),
        ]
        for (name, window) in windows {
            guard let window else { continue }
            let dimensions = [
                ("provider", attempt.provider), ("model", attempt.model), ("key", attempt.keyFingerprint ?? "none"),
                ("window", name),
            ]
            if let remaining = window.remaining {
                gauge("switchboard_headroom_remaining", dimensions)
                    .record(Double(remaining))
            }
            if let limit = window.limit {
                gauge("switchboard_headroom_limit", dimensions)
                    .record(Double(limit))
            }
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
