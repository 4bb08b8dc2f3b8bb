import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Redis client for servers: a few connections over SwiftNIO, each pipelining every command
/// sent to it, with per-command timeouts, reconnection with backoff, and one log line per outage.
///
/// ```swift
/// let redis = try RedisClient(url: RedisURL("redis://127.0.0.1:6379/0"))
/// try await redis.send("SET", "greeting", "hello")
/// let script = RedisScript("return redis.call('GET', KEYS[1])")
/// let value = try await redis.run(script, keys: ["greeting"])
/// ```
///
/// While Redis is unreachable, commands fail at once with ``RedisError/unreachable(_:)`` (a new
/// connection is tried at most every `reconnectBackoff`, doubling to 2 s), so callers can apply
/// their own policy without waiting a timeout per request.
public final class RedisClient: Sendable {
    /// Whether Redis is answering, for metrics and the console.
    public struct Health: Sendable, Equatable {
        public var up: Bool
        /// Outages seen since start.
        public var outages: Int
        /// Commands that failed because Redis was unreachable.
        public var failedCommands: Int
        /// When the current state began.
        public var since: Date
    }

    private enum Slot {
        case idle
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        /// No new connection is tried before this (after a failed one).
        var retryAt: ContinuousClock.Instant?
        var backoff: Duration
        var lastFailure = ""
        var health: Health
        var closed = false
    }

    public let url: RedisURL
    let group: any EventLoopGroup
    let connectTimeout: Duration
    let commandTimeout: Duration
    let initialBackoff: Duration
    let logger: Logger
    /// Appended to the outage log line: what the callers do meanwhile.
    let outagePolicy: String
    private let state: Mutex<State>
    /// Whether an outage is under way: read by every successful command without the lock.
    private let down = Atomic<Bool>(false)

    /// - Parameters:
    ///   - connections: connections kept open; commands are spread over them and pipelined.
    ///   - outagePolicy: said in the log line when Redis becomes unreachable (what happens
    ///     meanwhile).
    public init(
        url: RedisURL,
        connections: Int = 2,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .milliseconds(500),
        reconnectBackoff: Duration = .milliseconds(100),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        outagePolicy: String = "",
        logger: Logger = Logger(label: "switchboard.redis")
    ) {
        self.url = url
        self.group = group
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialBackoff = reconnectBackoff
        self.outagePolicy = outagePolicy
        self.logger = logger
        self.state = Mutex(
            State(
                slots: Array(repeating: .idle, count: max(1, connections)),
                backoff: reconnectBackoff,
                health: Health(up: true, outages: 0, failedCommands: 0, since: Date())
            )
        )
    }

    public var health: Health { state.withLock { $0.health } }

    /// Sends a command; returns its reply.
    /// - Throws: ``RedisError``: `server` for an error reply, the others when Redis cannot be used.
    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws(RedisError) -> RESPValue {
        try await send(arguments)
    }

    /// Sends a command; returns its reply.
    /// - Throws: ``RedisError``: `server` for an error reply, the others when Redis cannot be used.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) async throws(RedisError) -> RESPValue {
        let name: String = if case .text(let text) = arguments.first { text } else { "command" }
        let connection = try await connection()
        do {
            let reply = try await connection.send(arguments, name: name, timeout: commandTimeout)
            recovered()
            return try reply.ok()
        } catch let error as RedisError {
            if error.isOutage { failed(error) }
            throw error
        } catch {
            throw .unexpectedReply("\(error)")
        }
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), or by its source (`EVAL`, which also caches
    /// it) when the server does not know it: first use, or after a restart or `SCRIPT FLUSH`.
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument] = []) async throws(RedisError)
        -> RESPValue
    {
        let tail: [RedisArgument] = [.text(String(keys.count))] + keys.map { .text($0) } + arguments
        do {
            return try await send(["EVALSHA", .text(script.sha1)] + tail)
        } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await send(["EVAL", .text(script.source)] + tail)
        }
    }

    /// Closes every connection; later commands fail.
    public func close() async {
        let slots = state.withLock { state in
            state.closed = true
            defer { state.slots = state.slots.map { _ in .idle } }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .connected(let connection): try? await connection.channel.close()
            case .connecting(let task): (try? await task.value).map { $0.channel.close(promise: nil) }
            case .idle: break
            }
        }
    }

    // MARK: - Connections

    private func connection() async throws(RedisError) -> RedisConnection {
        enum Next {
            case ready(RedisConnection)
            case wait(Task<RedisConnection, any Error>)
            case refuse(String)
        }
        let next: Next = state.withLock { state in
            if state.closed { return .refuse("the client is closed") }
            let index = state.next
            state.next = (state.next + 1) % state.slots.count
            switch state.slots[index] {
            case .connected(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let task):
                return .wait(task)
            case .idle, .connected:
                if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                    return .refuse(state.lastFailure)
                }
                let task = Task { [url, group, connectTimeout, commandTimeout] in
                    try await RedisConnection.connect(
                        to: url,
                        group: group,
                        connectTimeout: connectTimeout,
                        commandTimeout: commandTimeout
                    )
                }
                state.slots[index] = .connecting(task)
                Task { await self.settle(index, task) }
                return .wait(task)
            }
        }
        switch next {
        case .ready(let connection):
            return connection
        case .refuse(let why):
            state.withLock { $0.health.failedCommands += 1 }
            throw .unreachable(why)
        case .wait(let task):
            do {
                return try await task.value
            } catch let error as RedisError {
                if case .server = error { throw error }  // AUTH or SELECT refused: not an outage
                failed(error)
                throw error
            } catch {
                failed(.unreachable("\(error)"))
                throw .unreachable("\(error)")
            }
        }
    }

    /// Records how a connection attempt ended in its slot.
    private func settle(_ index: Int, _ task: Task<RedisConnection, any Error>) async {
        let result = await task.result
        state.withLock { state in
            guard case .connecting = state.slots[index] else { return }
            switch result {
            case .success(let connection):
                state.slots[index] = state.closed ? .idle : .connected(connection)
                state.backoff = initialBackoff
                state.retryAt = nil
            case .failure(let error):
                state.slots[index] = .idle
                state.lastFailure = "\(error)"
                state.retryAt = ContinuousClock.now + state.backoff
                state.backoff = min(state.backoff * 2, .seconds(2))
            }
        }
        if case .success(let connection) = result, state.withLock({ $0.closed }) {
            connection.channel.close(promise: nil)
        }
    }

    // MARK: - Health

    private func failed(_ error: RedisError) {
        let began = state.withLock { state -> Bool in
            state.health.failedCommands += 1
            state.lastFailure = error.description
            guard state.health.up else { return false }
            down.store(true, ordering: .relaxed)
            state.health = Health(
                up: false,
                outages: state.health.outages + 1,
                failedCommands: state.health.failedCommands,
                since: Date()
            )
            return true
        }
        if began {
            logger.error(
                "Redis at \(url) is unreachable (\(error)); \(outagePolicy.isEmpty ? "commands fail" : outagePolicy) until it answers again"
            )
        }
    }

    private func recovered() {
        guard down.load(ordering: .relaxed) else { return }
        let downFor = state.withLock { state -> TimeInterval? in
            guard !state.health.up else { return nil }
            down.store(false, ordering: .relaxed)
            let downFor = Date().timeIntervalSince(state.health.since)
            state.health.up = true
            state.health.since = Date()
            return downFor
        }
        if let downFor {
            logger.notice("Redis at \(url) answers again after \(String(format: "%.1f", downFor)) s")
        }
    }
}

/// A Lua script run with `EVALSHA`.
public struct RedisScript: Sendable {
    public let source: String
    /// The SHA-1 of the source, hex: the name Redis caches it under.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
