import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardWire
import Synchronization

/// The request context of the gateway's routes: the default one plus the caller's address, which
/// anonymous callers are limited by.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The OpenAI- and Anthropic-compatible front door: every request through the ``Pipeline``.
///
/// Endpoints: `POST /v1/chat/completions` (OpenAI format), `POST /v1/messages` (Anthropic format),
/// both streamed and not; `GET /v1/models`; `POST /v1/moderations`; `GET /healthz`, `GET /readyz`,
/// `GET /metrics` (Prometheus text).
///
/// To callers it looks like a provider: their own limits come back in the provider's rate-limit
/// header family, errors come from the error table in the caller's format, and a 429 carries
/// `Retry-After` when waiting clears it, so the official SDKs' own retries behave.
public final class Gateway: Sendable {
    public let pipeline: Pipeline
    /// Caller keys; `nil` serves anonymous callers only (when `gateway.allow_anonymous`).
    let keys: VirtualKeyStore?
    let keyCache: KeyCache
    public let metrics: GatewayMetrics
    let logger: Logger
    /// Set when graceful shutdown starts: requests that still arrive get `shutting_down`.
    private let draining = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)

    var configuration: SwitchboardConfiguration.Gateway { pipeline.configuration.gateway }

    /// - Parameters:
    ///   - keys: where caller keys are checked; the gateway normally opens the state database's.
    ///   - keyCacheTTL: how long an authenticated (or refused) key is remembered, so a request
    ///     does not read the key table each time; a revoked key stops working within this time.
    public init(
        pipeline: Pipeline,
        keys: VirtualKeyStore?,
        metrics: GatewayMetrics = GatewayMetrics(),
        keyCacheTTL: Duration = .seconds(5),
        logger: Logger = Logger(label: "switchboard.gateway")
    ) {
        self.pipeline = pipeline
        self.keys = keys
        self.keyCache = KeyCache(ttl: keyCacheTTL)
        self.metrics = metrics
        self.logger = logger
    }

    /// Requests being answered now.
    public var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// From now on, new requests are refused with `shutting_down` (503, `Retry-After`).
    public func beginDrain() {
        draining.store(true, ordering: .relaxed)
    }

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// The router with every endpoint; `makeApplication` serves it, tests call it in process.
    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.post("/v1/chat/completions") { request, context in
            await self.tracked(.chatCompletions) { await self.chat(.openAI, request: request, context: context) }
        }
        router.post("/v1/messages") { request, context in
            await self.tracked(.messages) { await self.chat(.anthropic, request: request, context: context) }
        }
        router.post("/v1/moderations") { request, context in
            await self.tracked(.moderations) { await self.moderations(request: request, context: context) }
        }
        router.get("/v1/models") { request, context in
            await self.tracked(.models) { await self.models(request: request, context: context) }
        }
        router.get("/healthz") { _, _ in Self.json(200, ["status": "ok"]) }
        router.get("/readyz") { _, _ in
            self.isDraining
                ? Self.json(503, ["status": "draining"])
                : Self.json(200, ["status": "ready", "in_flight": .integer(self.requestsInFlight)])
        }
        router.get("/metrics") { _, _ in
            guard self.configuration.metrics else {
                return Self.json(
                    404,
                    SwitchboardError(.notFound, "metrics are off (gateway.metrics: false)").openAIBody.json
                )
            }
            if let redis = self.pipeline.redis { self.metrics.redis(redis.health) }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.render()))
            )
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head, .options] {
            router.on("**", method: method) { request, _ in
                await self.tracked(.other) { self.notFound(request) }
            }
        }
        return router
    }

    /// The HTTP server (Hummingbird, HTTP/1.1). Run it with ``GatewayService`` so graceful
    /// shutdown drains it.
    /// - Parameters:
    ///   - host, port: where to listen; the default is the configuration's `gateway.listen`.
    ///   - onServerRunning: called with the bound port once listening (useful with port 0).
    public func makeApplication(
        host: String? = nil,
        port: Int? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let listen = try Self.listenAddress(configuration.listen)
        let port = port ?? listen.port
        return Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(host ?? listen.host, port: port),
                serverName: "switchboard"
            ),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// `127.0.0.1:8080`, `[::1]:8080` or `:8080` (all interfaces).
    public static func listenAddress(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw SwitchboardError(
                .badRequest,
                "gateway.listen must be HOST:PORT such as 127.0.0.1:8080, not '\(text)'"
            )
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Counts the request in flight and in the metrics.
    private func tracked(_ endpoint: GatewayMetrics.Endpoint, _ body: () async -> Response) async -> Response {
        inFlight.add(1, ordering: .relaxed)
        let start = ContinuousClock.now
        let response = await body()
        inFlight.subtract(1, ordering: .relaxed)
        metrics.request(endpoint: endpoint, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    private func notFound(_ request: Request) -> Response {
        let format: APIFormat = request.headers[values: HTTPField.Name("x-api-key")!].isEmpty ? .openAI : .anthropic
        let error = SwitchboardError(
            .notFound,
            "no endpoint \(request.method) \(request.uri.path); this gateway serves POST /v1/chat/completions, POST /v1/messages, POST /v1/moderations and GET /v1/models"
        )
        return errorResponse(error, format: format, requestID: CallContext.newRequestID())
    }

    // MARK: - Responses

    static func json(_ status: Int, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(
            status: .init(code: status),
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serializedBytes()))
        )
    }

    /// Any error as the caller's provider would send it: the error table's row for Switchboard's
    /// own errors, the provider's answer (keys masked) for upstream refusals.
    func errorResponse(_ error: any Error, format: APIFormat, requestID: String, headers: HTTPFields = [:])
        -> Response
    {
        let failure = Self.callerError(error)
        var fields = headers
        fields.append(contentsOf: Self.fields(failure.headers(format)))
        fields.append(contentsOf: Self.requestIDFields(requestID, format: format))
        return Self.json(failure.status, failure.body(format, requestID), headers: fields)
    }

    struct CallerError {
        var status: Int
        var headers: (APIFormat) -> [HeaderField]
        var body: (APIFormat, String) -> JSONValue
    }

    static func callerError(_ error: any Error) -> CallerError {
        switch error {
        case let error as SwitchboardError:
            return CallerError(
                status: error.httpStatus,
                headers: { error.headers($0) },
                body: { error.body($0, requestID: $1) }
            )
        case let error as UpstreamError:
            return CallerError(
                status: error.status,
                headers: { _ in error.headers },
                body: { error.body($0, requestID: $1) }
            )
        case let error as JournalError:
            return callerError(
                SwitchboardError(
                    .journalUnavailable,
                    "the call journal cannot be written (\(error.message)); retry shortly",
                    retryAfter: .seconds(1)
                )
            )
        default:
            return callerError(
                SwitchboardError(
                    .upstreamExhausted,
                    "the call failed: \(SecretScanner.redact(String(describing: error)))",
                    cause: error
                )
            )
        }
    }

    static func requestIDFields(_ requestID: String, format: APIFormat) -> HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("x-request-id")!] = requestID
        if format == .anthropic { fields[HTTPField.Name("request-id")!] = requestID }
        return fields
    }

    static func fields(_ headers: [HeaderField]) -> HTTPFields {
        var fields = HTTPFields()
        for header in headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return fields
    }
}

/// Runs the gateway's HTTP server; graceful shutdown (SIGTERM, SIGINT, or the service group's)
/// refuses new requests with `shutting_down`, stops accepting connections and lets in-flight
/// requests finish. Put the journal writer before it in the `ServiceGroup`: services stop in
/// reverse order, so the journal is flushed after the last request has been answered.
public struct GatewayService<App: ApplicationProtocol>: Service {
    let gateway: Gateway
    let application: App

    public init(gateway: Gateway, application: App) {
        self.gateway = gateway
        self.application = application
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            gateway.beginDrain()
        }
    }
}
