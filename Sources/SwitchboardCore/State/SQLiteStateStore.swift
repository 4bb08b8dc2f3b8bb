import Foundation
import GRDB

/// The state store every process on a host shares: one SQLite file (WAL), one row per key holding
/// the value as JSON, each update a read-modify-write in an immediate transaction.
///
/// State is soft (headroom is re-learnt from the next answer, circuits from the next failures), so
/// the file is written with `synchronous=OFF`: fast, and a power cut loses only recent changes.
public final class SQLiteStateStore: StateStore {
    public let path: String
    private let queue: DatabaseQueue
    /// One coder for every update (updates are serialised by the queue).
    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    /// Opens or creates the store (mode 0600).
    /// - Throws: ``StateStoreError`` saying what is wrong with the file.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws(StateStoreError) {
        self.path = path
        do {
            queue = try StateDatabase.open(
                path: path,
                label: "switchboard.state",
                busyTimeout: busyTimeout,
                synchronousOff: true,
                table: """
                    CREATE TABLE IF NOT EXISTS state (
                        key TEXT PRIMARY KEY NOT NULL,   -- 'headroom/openai/sk-…a1b2#1f3a9c0e/gpt-4o-mini', 'breaker/…'
                        value BLOB NOT NULL,             -- the value as JSON
                        updated_at REAL NOT NULL         -- Unix seconds
                    ) WITHOUT ROWID
                    """
            )
        } catch {
            throw StateStoreError(
                "the state store \(path) cannot be opened: \(error.localizedDescription); check the path and its permissions, or set state.backend: memory"
            )
        }
    }

    public func update<Value: Codable & Sendable, Result: Sendable>(
        _ key: String,
        as type: Value.Type,
        _ body: @escaping @Sendable (inout Value?) -> Result
    ) async throws -> Result {
        // Immediate: the write lock is taken before the read, so two processes' read-modify-writes
        // queue behind the busy timeout instead of failing on a stale snapshot.
        try await queue.writeWithoutTransaction { db in
            var result: Result?
            try db.inTransaction(.immediate) {
                result = try Self.readModifyWrite(db, key, as: type, body)
                return .commit
            }
            return result!
        }
    }

    private static func readModifyWrite<Value: Codable & Sendable, Result: Sendable>(
        _ db: Database,
        _ key: String,
        as type: Value.Type,
        _ body: (inout Value?) -> Result
    ) throws -> Result {
        var value: Value? = nil
        if let data = try Data.fetchOne(db, sql: "SELECT value FROM state WHERE key = ?", arguments: [key]) {
            value = try? Self.decoder.decode(Value.self, from: data)
        }
        let result = body(&value)
        if let value {
            try db.execute(
                sql:
                    "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                arguments: [key, try Self.encoder.encode(value), Date().timeIntervalSince1970]
            )
        } else {
            try db.execute(sql: "DELETE FROM state WHERE key = ?", arguments: [key])
        }
        return result
    }

    public func values<Value: Codable & Sendable>(_ keys: [String], as type: Value.Type) async throws -> [String: Value]
    {
        try await queue.read { db in
            var found: [String: Value] = [:]
            for key in keys {
                if let data = try Data.fetchOne(db, sql: "SELECT value FROM state WHERE key = ?", arguments: [key]),
                    let value = try? Self.decoder.decode(Value.self, from: data)
                {
                    found[key] = value
                }
            }
            return found
        }
    }
}

/// A state store that cannot be used.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
