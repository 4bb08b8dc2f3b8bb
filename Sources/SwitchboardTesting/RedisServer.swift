import Foundation
import SwitchboardRedis
import SwitchboardWire
import Synchronization

/// A real `redis-server` on a free loopback port, without persistence, for tests: started,
/// stopped (as a crash would, with SIGKILL) and started again on the same port.
public final class RedisServer: Sendable {
    public let port: Int
    public let password: String?
    private let child = Mutex<ChildProcess?>(nil)

    /// `redis://…` for this server.
    public var url: String {
        "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0"
    }

    private init(port: Int, password: String?) {
        self.port = port
        self.password = password
    }

    /// Starts a server of its own (for tests that stop it).
    public static func start(password: String? = nil) async throws -> RedisServer {
        let server = RedisServer(port: try freePort(), password: password)
        try await server.run()
        return server
    }

    /// The server every test may share (each under a key prefix of its own): the one the test
    /// command started (`$SWITCHBOARD_TEST_REDIS_URL`), else one started for this test run.
    public static func sharedURL() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_REDIS_URL"], !url.isEmpty { return url }
        return try await shared.value.url
    }

    private static let shared = Task { try await RedisServer.start() }

    /// A key prefix no other test uses.
    public static func uniquePrefix() -> String { "test-\(UUID().uuidString.prefix(8)):" }

    /// Starts (or starts again) the server on its port and waits until it answers.
    public func run() async throws {
        var arguments = [
            "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--loglevel", "warning",
        ]
        if let password { arguments += ["--requirepass", password] }
        let started = try ChildProcess.spawn(arguments, output: .null, errors: .null)
        child.withLock { $0 = started }
        let client = RedisClient(url: try RedisURL(url), reconnectBackoff: .milliseconds(10), logger: quietLogger)
        defer { Task { await client.close() } }
        try await poll("redis-server on port \(port) to answer", timeout: .seconds(20)) {
            (try? await client.send("PING"))?.string == "PONG"
        }
    }

    /// Kills the server (SIGKILL: nothing is saved, connections drop) and waits for it to end.
    public func stop() async {
        guard let running = child.withLock({ $0.take() }) else { return }
        running.signal(SIGKILL)
        _ = await running.wait()
    }

    deinit {
        child.withLock { $0 }?.signal(SIGKILL)
    }

    /// A loopback port nobody listens on now.
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RedisServerError("no socket for a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw RedisServerError("could not bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct RedisServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
