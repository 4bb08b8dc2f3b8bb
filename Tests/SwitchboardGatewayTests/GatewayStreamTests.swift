import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

/// Streams through the gateway: framing in both formats, errors before and after the first event,
/// a client that goes away, and a drain that lets a stream finish.
@Suite struct GatewayStreamTests {
    @Test func streamsAreFramedAsEachProviderFramesThem() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key()
            let openAI = try await client.chat(key, extra: #","stream":true,"stream_options":{"include_usage":true}"#)
            #expect(openAI.status.code == 200)
            #expect(openAI.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(openAI.text.hasPrefix("data: {") && openAI.text.hasSuffix("data: [DONE]\n\n"))
            let anthropic = try await client.messages(key, extra: #","stream":true"#)
            #expect(anthropic.text.hasPrefix("event: message_start\n"))
            #expect(anthropic.text.hasSuffix("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
            #expect(
                anthropic.header("x-request-id") != nil && anthropic.header("anthropic-ratelimit-requests-limit") != nil
            )
        }
    }

    @Test func anErrorBeforeTheFirstEventIsTheResponsesStatus() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key(user: "broke", budget: 1_000)
            let refused = try await client.messages(key, extra: #","stream":true"#)
            #expect(refused.status.code == 429 && refused.errorCode == "billing_error")
            #expect(refused.header("content-type") == "application/json")
        }
    }

    @Test func anErrorAfterTheFirstEventEndsTheStreamWithTheFormatsErrorEvent() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key()
            fixture.simulator.enqueue([.midStreamError], model: "claude-haiku-4-5")
            let anthropic = try await client.messages(key, extra: #","stream":true,"max_tokens":200"#)
            #expect(anthropic.status.code == 200)
            #expect(anthropic.text.contains("event: content_block_delta"))
            #expect(anthropic.text.contains("event: error\ndata: {\"type\":\"error\""))
            fixture.simulator.enqueue([.midStreamError], model: "gpt-4o-mini")
            let openAI = try await client.chat(key, extra: #","stream":true,"max_tokens":200"#)
            let frames = openAI.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(frames.last?.hasPrefix("data: {\"error\":") == true)
            #expect(!openAI.text.contains("[DONE]"))
        }
    }

    @Test func aClientThatGoesAwayCancelsTheCallUpstreamAndIsBilledForWhatWasProduced() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.latency.tokensPerSecond = 100
        try await withLiveGateway(simulator: simulator) { fixture, port in
            let key = try fixture.key()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(key)")
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(
                ByteBuffer(
                    string:
                        #"{"model":"gpt-4o-mini","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"Tell me a long story"}]}"#
                )
            )
            let requestID: String = try await {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                var body = response.body.makeAsyncIterator()
                _ = try await body.next()
                // Leaving here drops the body, which closes the connection mid-stream.
                return try #require(response.headers.first(name: "x-request-id"))
            }()
            let row = try await poll("the cancelled call's journal row") { try fixture.call(requestID) }
            #expect(row.summary.outcome == "error" && row.summary.errorClass == "cancelled")
            #expect(row.summary.tokens.output > 0 && row.summary.tokens.output < 1000)
            #expect((row.summary.costNanoUSD ?? 0) > 0)
            let stats = try await poll("the upstream connection closing") {
                let stats = fixture.simulator.stats.snapshot
                return stats.cancelledConnections >= 1 ? stats : nil
            }
            #expect(stats.streamsCompleted == 0)
        }
    }

    @Test func gracefulShutdownLetsAStreamInFlightFinish() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.latency.tokensPerSecond = 200
        try await withLiveGateway(simulator: simulator, stopsItself: true) { fixture, port in
            let key = try fixture.key()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/messages")
            request.method = .POST
            request.headers.add(name: "x-api-key", value: key)
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(
                ByteBuffer(
                    string:
                        #"{"model":"claude-haiku-4-5","stream":true,"max_tokens":120,"messages":[{"role":"user","content":"A story"}]}"#
                )
            )
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            // The stream has started; now the gateway is told to stop.
            await fixture.stop()
            _ = try await poll("the gateway draining") { fixture.gateway.isDraining ? true : nil }
            var text = ""
            for try await chunk in response.body { text += String(buffer: chunk) }
            #expect(text.hasSuffix("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
            let requestID = try #require(response.headers.first(name: "x-request-id"))
            #expect(try fixture.call(requestID)?.summary.outcome == "ok")
        }
    }
}

/// A gateway serving on a loopback port, with a way to start its graceful shutdown.
struct LiveGateway: Sendable {
    let base: GatewayBench
    let group: ServiceGroup

    var gateway: Gateway { base.gateway }
    var simulator: Simulator { base.simulator }

    func key(user: String = "alice") throws -> String { try base.key(user: user) }
    func call(_ requestID: String) throws -> CallDetail? { try base.call(requestID) }

    /// Starts graceful shutdown (as SIGTERM does).
    func stop() async { await group.triggerGracefulShutdown() }
}

/// Runs `body` with a gateway listening on a free loopback port. Unless `stopsItself`, the
/// gateway is shut down after `body`; either way this returns once it has stopped.
func withLiveGateway(
    simulator: SimulatorConfiguration = .testing,
    stopsItself: Bool = false,
    _ body: @Sendable (LiveGateway, Int) async throws -> Void
) async throws {
    _ = try await withPipeline(simulator: simulator) { bench in
        let keys = try VirtualKeyStore(path: "\(bench.directory)/state.sqlite")
        let gateway = Gateway(pipeline: bench.pipeline, keys: keys, keyCacheTTL: .zero, logger: quietLogger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = try gateway.makeApplication(host: "127.0.0.1", port: 0) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [GatewayService(gateway: gateway, application: application)],
                gracefulShutdownSignals: [],
                logger: quietLogger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let live = LiveGateway(base: GatewayBench(gateway: gateway, bench: bench, keys: keys), group: group)
            let result = await Result { try await body(live, port) }
            if !stopsItself || (try? result.get()) == nil { await group.triggerGracefulShutdown() }
            try await tasks.waitForAll()
            try result.get()
        }
    }
}
