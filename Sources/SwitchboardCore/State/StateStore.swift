import Foundation
import Synchronization

/// Where state that outlives one call lives (headroom, circuit breakers; later cache entries,
/// limiter and budget state), so every process that shares the store paces, trips and limits as
/// one. Values are `Codable`, read and changed atomically by key.
///
/// Backends: ``MemoryStateStore`` (one process, tests), ``SQLiteStateStore`` (every process on a
/// host; the default), and Redis (several hosts).
public protocol StateStore: Sendable {
    /// Reads the value at `key` (`nil` when absent), lets `body` change it, and writes it back, all
    /// atomically with respect to every other user of the store. Setting `nil` deletes it.
    func update<Value: Codable & Sendable, Result: Sendable>(
        _ key: String,
        as type: Value.Type,
        _ body: @escaping @Sendable (inout Value?) -> Result
    ) async throws -> Result

    /// The values at `keys` that exist.
    func values<Value: Codable & Sendable>(_ keys: [String], as type: Value.Type) async throws -> [String: Value]
}

/// A state store in this process's memory: for tests and single-process use.
public final class MemoryStateStore: StateStore {
    private let entries = Mutex<[String: any Sendable]>([:])

    public init() {}

    public func update<Value: Codable & Sendable, Result: Sendable>(
        _ key: String,
        as type: Value.Type,
        _ body: @escaping @Sendable (inout Value?) -> Result
    ) async throws -> Result {
        entries.withLock { entries in
            var value = entries[key] as? Value
            let result = body(&value)
            entries[key] = value
            return result
        }
    }

    public func values<Value: Codable & Sendable>(_ keys: [String], as type: Value.Type) async throws -> [String: Value]
    {
        entries.withLock { entries in
            var found: [String: Value] = [:]
            for key in keys { if let value = entries[key] as? Value { found[key] = value } }
            return found
        }
    }
}
