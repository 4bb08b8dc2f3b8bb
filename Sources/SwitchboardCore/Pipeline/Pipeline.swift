import Foundation
import Logging
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardValidation
import SwitchboardWire
import Synchronization

/// The resilience core: every call from the gateway, the console's playground and Swift apps
/// goes through one of these.
///
/// Built from a ``SwitchboardConfiguration``: routes name targets (provider models) tried in
/// order; each attempt takes the key with the most headroom, waits for headroom instead of earning
/// a 429, skips circuits that are open, retries with full-jitter backoff that honours
/// `Retry-After` inside a per-process retry budget and the call's deadline, falls back to the next
/// target (translating between OpenAI and Anthropic formats), and journals the call with every
/// attempt and event.
///
/// ```swift
/// let pipeline = try Pipeline(configuration: try .load(path: "switchboard.yaml"), journal: writer)
/// let answer = try await pipeline.chat(request, context: CallContext(userID: "u-42"))
/// for try await chunk in pipeline.stream(request) { … }
/// ```
public final class Pipeline: Sendable {
    public let configuration: SwitchboardConfiguration
    let transport: any ProviderTransport
    let store: any StateStore
    let clock: any WallClock
    let random: LockedRandom
    let journal: JournalWriter?
    let retryPolicy: RetryPolicy
    let retryBudget: SharedRetryBudget
    let pacer: Pacer
    let breakers: Breakers
    let budgets: BudgetLedger
    let limiter: any RateLimiting
    /// The Redis client when `state.backend` is `redis`: its health is what `/metrics` reports.
    public let redis: RedisClient?
    /// The exact-match cache; `nil` when `cache.exact.enabled` is false.
    public let cache: ExactCache?
    let logger: Logger
    let keys: [String: [PoolKey]]
    /// What calls cost: the shipped price book with `pricing.overrides_file` applied.
    public let prices: PriceBook
    /// Output validation prepared: routes' checks, custom validators, compiled request schemas.
    let outputChecks: OutputChecks
    /// When each (provider, key, model)'s headroom was last journaled, to journal it at most once a second.
    private let headroomJournaled = Mutex<[String: Date]>([:])

    /// - Parameters:
    ///   - journal: where calls are recorded; `nil` records nothing.
    ///   - store: the state store; the default is the configuration's (`state.backend`).
    ///   - transport: the default is the process-wide HTTP transport (AsyncHTTPClient) for the
    ///     configured connect timeout, its timeouts measured in real time; it needs no shutdown.
    ///   - clock: what backoff, pacing, deadlines and the journal's times use; the default is the
    ///     system clock; tests pass a manual one.
    ///   - random: jitter's source; tests pass a seeded one.
    ///   - prices: the default is the shipped price book with `pricing.overrides_file` applied.
    ///   - validators: custom output checks, which routes name in `validate.custom`.
    /// - Throws: ``StateStoreError`` when the state store cannot be opened, ``PriceBookError`` when
    ///   the price override file cannot be used, ``ValidationSetupError`` when a route's schema
    ///   file, knowledge directory or custom validator is not usable.
    public init(
        configuration: SwitchboardConfiguration,
        journal: JournalWriter? = nil,
        store: (any StateStore)? = nil,
        transport: (any ProviderTransport)? = nil,
        clock: any WallClock = SystemWallClock(),
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        prices: PriceBook? = nil,
        validators: [any OutputValidator] = [],
        logger: Logger = Logger(label: "switchboard.pipeline")
    ) throws {
        self.prices = try prices ?? PriceBook.load(overridesFile: configuration.pricing.overridesFile)
        self.outputChecks = try OutputChecks(configuration: configuration, custom: validators)
        self.configuration = configuration
        self.journal = journal
        self.clock = clock
        self.random = LockedRandom(random)
        self.logger = logger
        let state = configuration.state
        var redis: RedisClient? = nil
        if let store {
            self.store = store
        } else {
            switch state.backend {
            case .memory: self.store = MemoryStateStore()
            case .sqlite: self.store = try SQLiteStateStore(path: state.sqlitePath)
            case .redis:
                let url: RedisURL
                do {
                    url = try RedisURL(state.redisURL)
                } catch {
                    throw StateStoreError("state.redis_url: \(error.description)")
                }
                let down = state.onRedisDown
                redis = RedisClient(
                    url: url,
                    connectTimeout: max(.seconds(1), state.redisTimeout),
                    commandTimeout: state.redisTimeout,
                    outagePolicy:
                        "the cache fails open, limits fail \(down.limits.rawValue), budgets fail \(down.budgets.rawValue) (state.on_redis_down), headroom and circuits are not shared",
                    logger: logger
                )
                self.store = RedisStateStore(client: redis!, prefix: state.redisPrefix)
            }
        }
        self.redis = redis
        self.transport =
            transport ?? HTTPProviderTransport.shared(connectTimeout: configuration.resilience.timeouts.connect)
        let resilience = configuration.resilience
        retryPolicy = RetryPolicy(resilience.retry)
        retryBudget = SharedRetryBudget(
            RetryBudget(ratio: resilience.retryBudget.ratio, minPerSecond: resilience.retryBudget.minPerSecond)
        )
        pacer = Pacer(store: self.store, enabled: resilience.pacing.enabled)
        breakers = Breakers(store: self.store, settings: CircuitBreaker.Settings(resilience.breaker))
        budgets = BudgetLedger(store: self.store, settings: configuration.budgets)
        let exact = configuration.cache.exact
        var shared: (any SharedCacheTier)? = nil
        if let redis {
            limiter = RedisRateLimiter(client: redis, prefix: state.redisPrefix)
            shared = RedisCacheTier(client: redis, prefix: state.redisPrefix)
        } else {
            limiter = RateLimiter(store: self.store)
            if store == nil, state.backend == .sqlite, exact.enabled {
                shared = try SQLiteCacheTier(path: state.sqlitePath)
            }
        }
        cache = exact.enabled ? ExactCache(maxMemory: exact.maxMemory, shared: shared) : nil
        keys = configuration.providers.mapValues { $0.apiKeys.map(PoolKey.init) }
    }

    /// Closes the Redis connections, if any; the pipeline must not be used after.
    public func close() async {
        await redis?.close()
    }

    // MARK: - OpenAI format

    /// Sends an OpenAI-format request and returns the whole answer, in OpenAI format whichever
    /// provider answered. `stream` in the request is ignored.
    /// - Throws: ``SwitchboardError`` or ``UpstreamError``, to render in OpenAI format.
    public func chat(_ request: OpenAI.ChatCompletionRequest, context: CallContext = CallContext()) async throws
        -> OpenAI.ChatCompletion
    {
        var request = request
        request.stream = nil
        request.streamOptions = nil
        return try await run(OpenAIDialect.self, request, context: context, sink: nil)!
    }

    /// Sends an OpenAI-format request and streams the answer as OpenAI chunks (without the final
    /// `[DONE]` line, which the writer adds). Stopping the iteration cancels the call upstream.
    /// - Throws (from the iteration): ``SwitchboardError`` or ``UpstreamError``; after chunks have
    ///   been delivered, the stream's error event should carry it.
    public func stream(_ request: OpenAI.ChatCompletionRequest, context: CallContext = CallContext())
        -> PipelineStream<OpenAI.ChatCompletionChunk>
    {
        var request = request
        request.stream = true
        return startStream(OpenAIDialect.self, request, context: context)
    }

    // MARK: - Anthropic format

    /// Sends an Anthropic-format request and returns the whole answer, in Anthropic format
    /// whichever provider answered. `stream` in the request is ignored.
    public func chat(_ request: Anthropic.MessagesRequest, context: CallContext = CallContext()) async throws
        -> Anthropic.MessageResponse
    {
        var request = request
        request.stream = nil
        return try await run(AnthropicDialect.self, request, context: context, sink: nil)!
    }

    /// Sends an Anthropic-format request and streams the answer as Anthropic events, ending with
    /// `message_stop`. Stopping the iteration cancels the call upstream.
    public func stream(_ request: Anthropic.MessagesRequest, context: CallContext = CallContext())
        -> PipelineStream<Anthropic.StreamEvent>
    {
        var request = request
        request.stream = true
        return startStream(AnthropicDialect.self, request, context: context)
    }

    private func startStream<D: Dialect>(_ dialect: D.Type, _ request: D.Request, context: CallContext)
        -> PipelineStream<D.Event>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: D.Event.self)
        let demand = StreamDemand()
        // The producer is owned by the stream: it ends with it, and is cancelled (closing the
        // upstream connection) when the consumer goes away.
        let producer = Task {
            do {
                _ = try await self.run(
                    dialect,
                    request,
                    context: context,
                    sink: StreamSink(continuation: continuation, demand: demand)
                )
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { producer.cancel() }
        }
        return PipelineStream(base: stream, demand: demand)
    }

    // MARK: - Journal

    /// Journals a provider's reported headroom, at most once a second per (provider, key, model).
    func journalHeadroom(provider: String, key: PoolKey, model: String, snapshot: RateLimitSnapshot, now: Date) async {
        guard let journal, snapshot.requests != nil || snapshot.tokens != nil || snapshot.inputTokens != nil else {
            return
        }
        let id = "\(provider)/\(key.id)/\(model)"
        let due = headroomJournaled.withLock { last -> Bool in
            if let previous = last[id], now.timeIntervalSince(previous) < 1 { return false }
            last[id] = now
            return true
        }
        guard due else { return }
        await journal.submit(
            .headroom(
                HeadroomRecord(
                    provider: provider,
                    keyFingerprint: key.secret.fingerprint,
                    model: model,
                    updatedAt: now,
                    snapshot: snapshot
                )
            )
        )
    }
}

/// Where a streaming call's events go.
struct StreamSink<Event: Sendable>: Sendable {
    let continuation: AsyncThrowingStream<Event, any Error>.Continuation
    let demand: StreamDemand

    func yield(_ events: [Event]) {
        demand.produced(events.count)
        for event in events { continuation.yield(event) }
    }

    /// Waits while the consumer is ``StreamDemand/limit`` events behind.
    func waitForRoom() async {
        await demand.waitForRoom()
    }
}

/// A random number generator behind a lock, shared by every call of a pipeline.
final class LockedRandom: Sendable {
    struct Generator: RandomNumberGenerator {
        var base: any RandomNumberGenerator & Sendable
        mutating func next() -> UInt64 { base.next() }
    }

    private let generator: Mutex<Generator>

    init(_ generator: some RandomNumberGenerator & Sendable) {
        self.generator = Mutex(Generator(base: generator))
    }

    func withGenerator<Result>(_ body: (inout Generator) -> Result) -> Result {
        generator.withLock { body(&$0) }
    }

    /// Uniform in `0...upper` seconds.
    func duration(upTo upper: Duration) -> Duration {
        guard upper > .zero else { return .zero }
        return withGenerator { .seconds(Double.random(in: 0...upper.secondsDouble, using: &$0)) }
    }
}
