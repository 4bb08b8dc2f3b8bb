import NIOCore
import NIOPosix

/// What went wrong talking to Redis.
public enum RedisError: Error, Sendable, CustomStringConvertible, Equatable {
    /// No connection could be made (refused, unreachable, timed out), or the client is waiting
    /// before trying again.
    case unreachable(String)
    /// A command got no reply in time (the connection is closed: later replies would not line
    /// up).
    case timedOut(command: String)
    /// The connection closed with the command unanswered.
    case connectionClosed
    /// The server answered with an error reply.
    case server(String)
    /// The reply was not what the command returns.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .unreachable(let why): "Redis is unreachable: \(why)"
        case .timedOut(let command): "Redis did not answer \(command) in time"
        case .connectionClosed: "the connection to Redis closed"
        case .server(let message): "Redis refused: \(message)"
        case .unexpectedReply(let what): "Redis answered unexpectedly: \(what)"
        }
    }

    /// Whether this says the server cannot be used now (as opposed to refusing a command).
    public var isOutage: Bool {
        switch self {
        case .unreachable, .timedOut, .connectionClosed: true
        case .server(let message): message.hasPrefix("LOADING") || message.hasPrefix("BUSY")
        case .unexpectedReply: false
        }
    }
}

/// One command in flight: its reply's promise and, for messages, its name.
struct RedisRequest {
    var bytes: ByteBuffer
    var promise: EventLoopPromise<RESPValue>
    var name: String
    var timeout: TimeAmount
}

/// Pairs replies with commands in order (RESP answers in the order asked), so any number of
/// commands can be in flight on one connection: pipelining.
///
/// Timeouts cost one timer per connection, not one per command: it is set for the oldest
/// command's deadline and, when it fires, either gives the connection up (that command is late;
/// replies after it would no longer line up) or moves on to the new oldest.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var promise: EventLoopPromise<RESPValue>
        var name: String
        var deadline: NIODeadline
    }

    private var waiting = CircularBuffer<Waiting>(initialCapacity: 16)
    private var flushPending = false
    private var timer: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(Waiting(promise: request.promise, name: request.name, deadline: .now() + request.timeout))
        if timer == nil { armTimer(context: context) }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
        // One flush (one system call) for every command written in this turn of the event loop.
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushPending = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard let answered = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            errorCaught(context: context, error: RedisError.unexpectedReply("a reply with no command waiting"))
            return
        }
        answered.promise.succeed(reply)
    }

    /// Sets the timer for the oldest command's deadline (none when nothing waits).
    private func armTimer(context: ChannelHandlerContext) {
        guard let oldest = waiting.first else {
            timer = nil
            return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: oldest.deadline) {
            self.timer = nil
            guard let oldest = self.waiting.first else { return }
            if oldest.deadline <= .now() {
                self.errorCaught(context: context, error: RedisError.timedOut(command: oldest.name))
            } else {
                self.armTimer(context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error as? RedisError ?? RedisError.unexpectedReply("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    private func failAll(_ error: RedisError) {
        timer?.cancel()
        timer = nil
        while let waiting = waiting.popFirst() { waiting.promise.fail(error) }
    }
}

/// One TCP connection to a Redis server, authenticated and on its database.
final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var isActive: Bool { channel.isActive }

    static func connect(
        to url: RedisURL,
        group: any EventLoopGroup,
        connectTimeout: Duration,
        commandTimeout: Duration
    ) async throws -> RedisConnection {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                        try channel.pipeline.syncOperations.addHandler(RedisCommandHandler())
                    }
                }
                .connect(host: url.host, port: url.port)
                .get()
        } catch {
            throw RedisError.unreachable("cannot connect to \(url.host):\(url.port) (\(error))")
        }
        let connection = RedisConnection(channel: channel)
        do {
            if let password = url.password {
                let arguments: [RedisArgument] =
                    if let user = url.user { ["AUTH", .text(user), .text(password)] } else {
                        ["AUTH", .text(password)]
                    }
                // The reply may echo nothing of the password, but name it without the argument.
                _ = try await connection.send(arguments, name: "AUTH", timeout: commandTimeout).ok()
            }
            if url.database != 0 {
                _ = try await connection.send(
                    ["SELECT", .text(String(url.database))],
                    name: "SELECT",
                    timeout: commandTimeout
                ).ok()
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return connection
    }

    /// Sends one command and waits for its reply (an error reply is returned, not thrown).
    func send(_ arguments: [RedisArgument], name: String, timeout: Duration) async throws -> RESPValue {
        var bytes = channel.allocator.buffer(capacity: 64)
        RESPEncoder.write(arguments, into: &bytes)
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        // A write that fails (the connection closed meanwhile) never reaches the handler's queue.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in promise.fail(RedisError.connectionClosed) }
        channel.write(
            RedisRequest(bytes: bytes, promise: promise, name: name, timeout: TimeAmount(timeout)),
            promise: written
        )
        return try await promise.futureResult.get()
    }
}

extension RESPValue {
    /// The reply, or the server's error thrown.
    func ok() throws(RedisError) -> RESPValue {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }
}
