import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardSimulator

extension SimulatorConfiguration {
    /// A simulator for tests: any free port, no latency, seed 7, default limits.
    public static var testing: SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.seed = 7
        configuration.latency = .none
        return configuration
    }
}

/// A running simulator server on a loopback port.
public struct SimulatorFixture: Sendable {
    public let simulator: Simulator
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
}

/// Runs `body` against a simulator listening on a free loopback port, then stops it.
/// - Parameters:
///   - configuration: the default is ``SimulatorConfiguration/testing``.
///   - now: the simulator's clock; pass a ``ManualClock``'s `now` to drive limits and caches.
public func withSimulator<T: Sendable>(
    _ configuration: SimulatorConfiguration = .testing,
    now: @escaping @Sendable () -> Date = { Date() },
    _ body: @Sendable (SimulatorFixture) async throws -> T
) async throws -> T {
    let simulator = Simulator(configuration: configuration, now: now)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "switchboard.sim.test")
    logger.logLevel = .warning
    let app = SimulatorServer.makeApplication(simulator: simulator, logger: logger) { port in
        continuation.yield(port)
        continuation.finish()
    }
    // Stopped by graceful shutdown, Hummingbird's supported path: idle keep-alive connections are
    // closed and the server task ends (cancelling it instead can leave it waiting on a connection).
    let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let result: T
        do {
            result = try await body(SimulatorFixture(simulator: simulator, port: port))
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return result
    }
}
