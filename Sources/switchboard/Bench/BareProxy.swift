import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SwitchboardTesting

/// The floor under any gateway built on this stack: a Hummingbird server whose one route hands
/// the request body to AsyncHTTPClient and the answer back — the gateway's two HTTP ends and
/// nothing else (no key, limits, cache, moderation, metrics or journal) — and whose other route,
/// `/v1/kept`, returns a ~1 KB answer kept in memory: the floor under a cache hit. What they add
/// to the simulator's own latency, and the throughput they reach, bound what the gateway can
/// reach on the machine the benchmark runs on.
enum BareProxy {
    /// Runs the proxy on a free loopback port in front of `upstream` (a base URL) while `body`
    /// gets the port.
    static func run(upstream: String, logger: Logger, _ body: @Sendable (Int) async throws -> Void) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            var outgoing = HTTPClientRequest(url: upstream + "/v1/chat/completions")
            outgoing.method = .POST
            outgoing.headers.add(name: "content-type", value: "application/json")
            if let authorization = request.headers[.authorization] {
                outgoing.headers.add(name: "authorization", value: authorization)
            }
            outgoing.body = .bytes(try await request.body.collect(upTo: 1 << 20))
            let answer = try await client.execute(outgoing, timeout: .seconds(30))
            return Response(
                status: .init(code: Int(answer.status.code)),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: try await answer.body.collect(upTo: 1 << 24))
            )
        }
        // The floor of a cache hit: an answer kept in memory, returned as it is.
        let answer = String(
            repeating: "The refund window for annual plans is thirty days from the purchase date. ",
            count: 12
        )
        let kept = ByteBuffer(
            string: #"{"id":"chatcmpl-kept","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"#
                + #""message":{"role":"assistant","content":"\#(answer)"},"finish_reason":"stop"}]}"#
        )
        router.post("/v1/kept") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: kept))
        }
        let services = try await RunningServices.start(name: "bare proxy", logger: logger) { onPort in
            [
                Application(
                    router: router,
                    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
                    logger: logger
                )
            ]
        }
        let result = await Result { try await body(services.port) }
        await services.stop()
        try await client.shutdown()
        try result.get()
    }
}
