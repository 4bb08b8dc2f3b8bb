import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchboardWire
import Synchronization

/// Providers over HTTP with AsyncHTTPClient: pooled connections per host, the connect timeout in
/// the client, and the first-byte, idle and deadline timeouts enforced by a watchdog on its own
/// clock (real time by default: timeouts are about the network, which a test's manual clock does
/// not move).
public final class HTTPProviderTransport: ProviderTransport {
    private let client: HTTPClient
    private let clock: any WallClock
    private let logger: Logger

    /// - Parameters:
    ///   - connectTimeout: the default is 5 s.
    ///   - connectionsPerHost: connections kept per provider host; LLM calls are long, so the
    ///     default is 256.
    /// - Parameters:
    ///   - clock: what the timeouts are measured on; the default is the system clock.
    public init(
        clock: any WallClock = SystemWallClock(),
        connectTimeout: Duration = .seconds(5),
        connectionsPerHost: Int = 256,
        logger: Logger = Logger(label: "switchboard.transport")
    ) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(Int64(connectTimeout.secondsDouble * 1e9)))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost
        )
        configuration.decompression = .disabled
        // No spans: the pipeline carries the call's trace context itself (`traceparent`), and the
        // client's per-request span attributes (a URL parsed again) were ~2 % of a gateway's time.
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.clock = clock
        self.logger = logger
    }

    private static let sharedTransports = Mutex<[Duration: HTTPProviderTransport]>([:])

    /// The process-wide transport for a connect timeout: one connection pool for every pipeline
    /// in the process, never shut down (as `URLSession.shared`), so a pipeline needs no teardown.
    public static func shared(connectTimeout: Duration = .seconds(5)) -> HTTPProviderTransport {
        sharedTransports.withLock { transports in
            if let transport = transports[connectTimeout] { return transport }
            let transport = HTTPProviderTransport(connectTimeout: connectTimeout)
            transports[connectTimeout] = transport
            return transport
        }
    }

    /// Closes every pooled connection of a transport made with ``init(clock:connectTimeout:connectionsPerHost:logger:)``
    /// (never call it on a ``shared(connectTimeout:)`` one).
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func exchange<Result: Sendable>(
        _ request: ProviderRequest,
        timeouts: ExchangeTimeouts,
        handle: @escaping @Sendable (ResponseHead, ResponseBody) async throws -> Result
    ) async throws -> Result {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .POST
        for field in request.headers { outgoing.headers.add(name: field.name, value: field.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let prepared = outgoing
        let watchdog = Watchdog(clock: clock, timeouts: timeouts)
        let client = client
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, deadline: .distantFuture)
                    watchdog.headArrived()
                    var headers: [HeaderField] = []
                    for (name, value) in response.headers { headers.append(HeaderField(name, value)) }
                    let head = ResponseHead(status: Int(response.status.code), headers: headers)
                    var iterator = response.body.makeAsyncIterator()
                    let body = ResponseBody {
                        guard let buffer = try await iterator.next() else { return nil }
                        watchdog.progress()
                        return Array(buffer.readableBytesView)
                    }
                    return try await handle(head, body)
                }
                group.addTask {
                    try await watchdog.run()
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw TransportError(.cancelled, "the exchange ended without an answer")
                }
                return result
            }
        } catch let error as TransportError {
            throw error
        } catch let error as HTTPClientError {
            throw Self.transportError(error)
        } catch is CancellationError {
            throw TransportError(.cancelled, "the call was cancelled")
        } catch let error as NIOConnectionError {
            throw TransportError(.connect, "cannot connect to \(Self.host(request.url)): \(error.shortDescription)")
        } catch let error as ChannelError {
            throw TransportError(.reset, "the connection to \(Self.host(request.url)) failed: \(error)")
        } catch let error as IOError {
            // Refused or unreachable: the connection never opened. Anything else (ECONNRESET,
            // EPIPE) broke an open one.
            if [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode) {
                throw TransportError(.connect, "cannot connect to \(Self.host(request.url)): \(error.description)")
            }
            throw TransportError(.reset, "the connection to \(Self.host(request.url)) broke: \(error.description)")
        } catch {
            if Task.isCancelled { throw TransportError(.cancelled, "the call was cancelled") }
            throw error
        }
    }

    static func transportError(_ error: HTTPClientError) -> TransportError {
        switch error {
        case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
            TransportError(.connect, "connecting timed out (\(error.shortDescription))")
        case .cancelled: TransportError(.cancelled, "the call was cancelled")
        case .readTimeout: TransportError(.idleTimeout, "the provider stopped sending")
        default: TransportError(.reset, "the connection failed: \(error.shortDescription)")
        }
    }

    private static func host(_ url: String) -> String {
        URL(string: url).map { "\($0.host ?? "?")\($0.port.map { ":\($0)" } ?? "")" } ?? url
    }
}

extension NIOConnectionError {
    fileprivate var shortDescription: String {
        connectionErrors.first.map { "\($0.error)" } ?? "no address could be connected"
    }
}

/// Fires the first-byte, idle and deadline timeouts of one exchange: it sleeps on the transport's
/// clock (real time unless a test injects one) until the current limit, and throws when no progress
/// moved the limit meanwhile.
final class Watchdog: Sendable {
    private struct State {
        var limit: Date
        var failure: TransportFailure
        var message: String
    }

    private let clock: any WallClock
    private let timeouts: ExchangeTimeouts
    private let deadline: Date
    private let state: Mutex<State>

    init(clock: any WallClock, timeouts: ExchangeTimeouts) {
        self.clock = clock
        self.timeouts = timeouts
        let now = clock.now()
        deadline = now.adding(timeouts.remaining)
        let firstByte = now.adding(timeouts.firstByte)
        state = Mutex(
            firstByte < deadline
                ? State(
                    limit: firstByte,
                    failure: .firstByteTimeout,
                    message: "no answer within first_byte \(GoDuration.format(timeouts.firstByte))"
                )
                : State(limit: deadline, failure: .deadline, message: "the call's deadline passed before an answer")
        )
    }

    func headArrived() { progress() }

    /// Something arrived: the next limit is an idle timeout from now (or the deadline).
    func progress() {
        let idle = clock.now().adding(timeouts.idle)
        state.withLock { state in
            if idle < deadline {
                state = State(
                    limit: idle,
                    failure: .idleTimeout,
                    message: "nothing arrived for idle \(GoDuration.format(timeouts.idle))"
                )
            } else {
                state = State(
                    limit: deadline,
                    failure: .deadline,
                    message: "the call's deadline passed while the answer was arriving"
                )
            }
        }
    }

    func run() async throws {
        while true {
            let limit = state.withLock { $0.limit }
            try await clock.sleep(until: limit)
            let expired = state.withLock { state -> State? in
                state.limit <= clock.now() ? state : nil
            }
            if let expired { throw TransportError(expired.failure, expired.message) }
        }
    }
}
