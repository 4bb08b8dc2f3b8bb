import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SwitchboardWire
import Synchronization

/// The request context of the simulator's routes: the default one plus the connection, which the
/// `reset` and `stall` faults act on.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

/// Serves a ``Simulator`` over HTTP/1.1 (Hummingbird).
///
/// Provider endpoints: `POST /v1/chat/completions`, `POST /v1/messages`, `POST /v1/moderations`,
/// `GET /v1/models`. Control endpoints for tests and demos: `GET /sim/stats`, `POST /sim/reset`,
/// `GET|POST|DELETE /sim/faults` (queue faults for upcoming requests), `POST /sim/outage`, and
/// `GET /healthz`.
public enum SimulatorServer {
    /// Builds the server application. Run it with `runService()` (signals end it gracefully) or
    /// inside a `ServiceGroup`.
    /// - Parameters:
    ///   - simulator: the behaviour to serve.
    ///   - logger: where request logs go.
    ///   - onServerRunning: called with the bound port once listening (useful with port 0).
    public static func makeApplication(
        simulator: Simulator,
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: SimulatorRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
        for (path, endpoint) in [
            ("/v1/chat/completions", Simulator.Endpoint.chatCompletions), ("/v1/messages", .messages),
            ("/v1/moderations", .moderations),
        ] {
            router.post(RouterPath(path)) { request, context in
                try await serve(endpoint, request: request, context: context, simulator: simulator)
            }
        }
        router.get("/v1/models") { request, context in
            try await serve(.models, request: request, context: context, simulator: simulator)
        }
        router.get("/healthz") { _, _ in jsonResponse(200, ["status": "ok"]) }
        router.get("/sim/stats") { _, _ in jsonResponse(200, simulator.stats.snapshot.json) }
        router.post("/sim/reset") { _, _ in
            simulator.reset()
            return jsonResponse(200, ["status": "reset"])
        }
        router.get("/sim/faults") { _, _ in
            jsonResponse(200, ["queued": .array(simulator.queuedFaults.map { .string($0.description) })])
        }
        router.delete("/sim/faults") { _, _ in
            simulator.state.withLock { $0.faults.queue.removeAll() }
            return jsonResponse(200, ["queued": []])
        }
        router.post("/sim/faults") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return enqueueFaults(Array(buffer: body), simulator: simulator)
        }
        router.post("/sim/outage") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return startOutage(Array(buffer: body), simulator: simulator)
        }
        let configuration = simulator.configuration
        return Application(
            router: router,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [ConnectionTracker(stats: simulator.stats)])
            ),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "switchboard-sim"
            ),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }

    static func serve(
        _ endpoint: Simulator.Endpoint,
        request: Request,
        context: SimulatorRequestContext,
        simulator: Simulator
    ) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: simulator.configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return tooLarge(endpoint, limit: simulator.configuration.maxBodyBytes)
        }
        let headers = request.headers.map { HeaderField($0.name.canonicalName, $0.value) }
        let reply = simulator.reply(
            to: Simulator.Request(endpoint: endpoint, headers: headers, body: Array(buffer: body))
        )
        switch reply {
        case .complete(let status, let headers, let bytes, let delay):
            if delay > .zero { try await Task.sleep(for: delay) }
            return Response(
                status: .init(code: status),
                headers: fields(headers),
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        case .stream(let headers, let plan):
            return Response(
                status: .ok,
                headers: fields(headers),
                body: ResponseBody { writer in
                    try await stream(plan, to: &writer, stats: simulator.stats)
                }
            )
        case .reset:
            try await closeOnPurpose(context.channel, reset: true)
            return Response(status: .internalServerError)
        case .stall:
            await stall(context.channel, limit: simulator.configuration.stallLimit)
            return Response(status: .gatewayTimeout)
        }
    }

    /// Writes a stream plan's frames at their pace. A client that leaves makes a write throw,
    /// which ends the response.
    static func stream(_ plan: StreamPlan, to writer: inout any ResponseBodyWriter, stats: SimulatorStats) async throws
    {
        stats.update { $0.streamsStarted += 1 }
        for (index, frame) in plan.frames.enumerated() {
            if let cut = plan.cutAfter, index == cut {
                if let errorFrame = plan.errorFrame { try await writer.write(ByteBuffer(bytes: errorFrame)) }
                try await writer.finish(nil)
                return
            }
            let delay: Duration =
                if let slow = plan.slowInterval { index == 0 ? plan.timeToFirstToken : slow } else if index == 0 {
                    plan.timeToFirstToken
                } else if frame.isContent { plan.interTokenDelay } else { .zero }
            if delay > .zero { try await Task.sleep(for: delay) }
            let bytes = index == 1 ? (plan.malformedFrame ?? frame.bytes) : frame.bytes
            try await writer.write(ByteBuffer(bytes: bytes))
        }
        try await writer.finish(nil)
        stats.update { $0.streamsCompleted += 1 }
    }

    /// Closes the connection, with an RST instead of a FIN when `reset` (SO_LINGER 0).
    static func closeOnPurpose(_ channel: any Channel, reset: Bool) async throws {
        try await channel.triggerUserOutboundEvent(ServerInitiatedClose()).get()
        if reset, let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close().get()
    }

    /// Holds a request until the client closes the connection, or closes it at the stall limit.
    static func stall(_ channel: any Channel, limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await channel.closeFuture.get() }
            group.addTask {
                if (try? await Task.sleep(for: limit)) != nil { try? await closeOnPurpose(channel, reset: false) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    static func tooLarge(_ endpoint: Simulator.Endpoint, limit: Int) -> Response {
        let message = "Request body is larger than \(limit) bytes."
        let body: JSONValue =
            endpoint == .messages
            ? Anthropic.ErrorBody(type: "request_too_large", message: message).json
            : OpenAI.ErrorBody(message: message, type: "invalid_request_error", code: "request_too_large").json
        return jsonResponse(413, body)
    }

    static func enqueueFaults(_ body: [UInt8], simulator: Simulator) -> Response {
        guard let value = try? JSONValue.parse(body) else {
            return jsonResponse(
                400,
                [
                    "error":
                        "the body must be JSON: [\"500\", \"ok\"] or {\"faults\": [...], \"key\", \"model\", \"provider\"}"
                ]
            )
        }
        let list = value.arrayValue ?? value["faults"]?.arrayValue ?? []
        var faults: [Fault] = []
        for item in list {
            guard let text = item.stringValue, let fault = Fault(header: text) else {
                return jsonResponse(
                    400,
                    ["error": .string("unknown fault \(item); expected one of: \(Fault.names.joined(separator: ", "))")]
                )
            }
            faults.append(fault)
        }
        let provider = value["provider"]?.stringValue.flatMap(APIFormat.init(rawValue:))
        simulator.enqueue(
            faults,
            key: value["key"]?.stringValue,
            model: value["model"]?.stringValue,
            provider: provider
        )
        return jsonResponse(200, ["queued": .array(simulator.queuedFaults.map { .string($0.description) })])
    }

    static func startOutage(_ body: [UInt8], simulator: Simulator) -> Response {
        guard let value = try? JSONValue.parse(body),
            let provider = value["provider"]?.stringValue.flatMap(APIFormat.init(rawValue:))
        else {
            return jsonResponse(
                400,
                ["error": "expected {\"provider\": \"openai\"|\"anthropic\", \"status\": 529, \"for\": \"15s\"}"]
            )
        }
        let status = value["status"]?.intValue ?? (provider == .anthropic ? 529 : 503)
        let duration = value["for"]?.stringValue.flatMap(GoDuration.parse) ?? .seconds(15)
        simulator.startOutage(provider: provider, status: status, duration: duration)
        return jsonResponse(
            200,
            [
                "provider": .string(provider.rawValue), "status": .integer(status),
                "for": .string(GoDuration.format(duration)),
            ]
        )
    }

    static func jsonResponse(_ status: Int, _ body: JSONValue) -> Response {
        Response(
            status: .init(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serializedBytes()))
        )
    }

    static func fields(_ headers: [HeaderField]) -> HTTPFields {
        var fields = HTTPFields()
        for header in headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return fields
    }
}
