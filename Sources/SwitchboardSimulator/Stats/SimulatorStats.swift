import OrderedCollections
import SwitchboardWire
import Synchronization

/// What reached the simulator, for tests to see what reached "the provider": `GET /sim/stats`.
public final class SimulatorStats: Sendable {
    /// A copy of the counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        public var requests = 0
        public var byEndpoint: [String: Int] = [:]
        public var byStatus: [Int: Int] = [:]
        public var faults: [String: Int] = [:]
        /// 429s from the simulated limits (not scripted ones).
        public var rateLimited = 0
        public var openConnections = 0
        public var totalConnections = 0
        /// Connections closed by the client while a request on them was unanswered.
        public var cancelledConnections = 0
        public var inFlight = 0
        public var streamsStarted = 0
        public var streamsCompleted = 0
        public var inputTokens = 0
        public var cachedInputTokens = 0
        public var outputTokens = 0

        public var json: JSONValue {
            func object<K: Comparable & CustomStringConvertible>(_ counts: [K: Int]) -> JSONValue {
                .object(
                    JSONObject(
                        uniqueKeysWithValues: counts.sorted { $0.key < $1.key }.map {
                            ($0.key.description, .integer($0.value))
                        }
                    )
                )
            }
            return [
                "requests": .integer(requests),
                "by_endpoint": object(byEndpoint),
                "by_status": object(byStatus),
                "faults": object(faults),
                "rate_limited": .integer(rateLimited),
                "in_flight": .integer(inFlight),
                "connections": [
                    "open": .integer(openConnections), "total": .integer(totalConnections),
                    "cancelled": .integer(cancelledConnections),
                ],
                "streams": ["started": .integer(streamsStarted), "completed": .integer(streamsCompleted)],
                "tokens": [
                    "input": .integer(inputTokens), "cached_input": .integer(cachedInputTokens),
                    "output": .integer(outputTokens),
                ],
            ]
        }
    }

    private let counters = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { counters.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) {
        counters.withLock { body(&$0) }
    }

    /// Zeroes every counter but the connection gauges.
    func reset() {
        counters.withLock { snapshot in
            let open = snapshot.openConnections
            let inFlight = snapshot.inFlight
            snapshot = Snapshot()
            snapshot.openConnections = open
            snapshot.inFlight = inFlight
        }
    }
}
