import Foundation
import GRDB
import SwitchboardRedis
import SwitchboardWire
import Synchronization

/// A cached answer: the whole response in the caller's format, and what it cost when it was made.
public struct CacheEntry: Sendable, Equatable {
    /// The response, in the format of the key's requests.
    public var response: JSONValue
    /// What the answer cost when it was made: what each hit saves. `nil` when it had no price.
    public var costNanoUSD: Int64?
    public var storedAt: Date
    public var expiresAt: Date
    /// How the original answer arrived: its time to first token and its whole length, for
    /// replaying a streaming hit at the original pace.
    public var timeToFirstToken: Duration?
    public var duration: Duration?

    public init(
        response: JSONValue,
        costNanoUSD: Int64?,
        storedAt: Date,
        expiresAt: Date,
        timeToFirstToken: Duration? = nil,
        duration: Duration? = nil
    ) {
        self.response = response
        self.costNanoUSD = costNanoUSD
        self.storedAt = storedAt
        self.expiresAt = expiresAt
        self.timeToFirstToken = timeToFirstToken
        self.duration = duration
    }

    var bytes: [UInt8] {
        JSONValue.object([
            "response": response, "cost_nano_usd": costNanoUSD.map { .integer(Int($0)) } ?? .null,
            "stored_at": .double(storedAt.timeIntervalSince1970),
            "ttft_ms": timeToFirstToken.map { .double($0.millisecondsDouble) } ?? .null,
            "duration_ms": duration.map { .double($0.millisecondsDouble) } ?? .null,
        ]).serializedBytes()
    }

    init?(bytes: [UInt8], expiresAt: Date) {
        guard let json = try? JSONValue.parse(bytes), let response = json["response"],
            let stored = json["stored_at"]?.doubleValue
        else { return nil }
        self.response = response
        self.costNanoUSD = json["cost_nano_usd"]?.intValue.map(Int64.init)
        self.storedAt = Date(timeIntervalSince1970: stored)
        self.expiresAt = expiresAt
        self.timeToFirstToken = json["ttft_ms"]?.doubleValue.map { .milliseconds($0) }
        self.duration = json["duration_ms"]?.doubleValue.map { .milliseconds($0) }
    }
}

/// The exact-match cache: a bounded in-memory LRU (by bytes) in front of a SQLite table that
/// every process on the host shares, with single flight — identical concurrent misses wait for
/// the first one's answer instead of each asking the provider.
public final class ExactCache: Sendable {
    /// What a lookup found.
    public enum Lookup: Sendable {
        case hit(CacheEntry)
        /// No entry and nobody making one: this call makes it and must ``finish(_:with:)`` the key.
        case lead
        /// Another call was making the entry; this is what it made (`nil` when it failed).
        case joined(CacheEntry?)
    }

    private struct Resident {
        var entry: CacheEntry
        var size: Int
        var lastUsed: UInt64
    }

    private struct State {
        var resident: [String: Resident] = [:]
        var bytes = 0
        var tick: UInt64 = 0
        var inFlight: [String: [CheckedContinuation<Lookup, Never>]] = [:]
    }

    private let state = Mutex(State())
    private let maxMemory: Int
    /// Where entries are shared with other processes (SQLite on one host, Redis across hosts).
    let shared: (any SharedCacheTier)?

    /// - Parameters:
    ///   - maxMemory: the in-memory LRU's bound in bytes of stored answers.
    ///   - shared: where entries are shared with other processes; `nil` keeps the cache in memory.
    public init(maxMemory: Int, shared: (any SharedCacheTier)?) {
        self.maxMemory = maxMemory
        self.shared = shared
    }

    /// - Parameters:
    ///   - maxMemory: the in-memory LRU's bound in bytes of stored answers.
    ///   - sqlitePath: the shared SQLite file (the state store's); `nil` keeps the cache in memory.
    /// - Throws: ``StateStoreError`` when the file cannot be opened.
    public convenience init(maxMemory: Int, sqlitePath: String?) throws(StateStoreError) {
        self.init(
            maxMemory: maxMemory,
            shared: try sqlitePath.map { path throws(StateStoreError) in try SQLiteCacheTier(path: path) }
        )
    }

    /// Finds `key`'s entry, joins a call already making it, or makes this call its maker.
    public func lookup(_ key: String, now: Date) async -> Lookup {
        if let entry = memoryEntry(key, now: now) { return .hit(entry) }
        if let entry = await storedEntry(key, now: now) {
            remember(key, entry)
            return .hit(entry)
        }
        // Between the reads above and here another call may have finished the entry.
        return await withCheckedContinuation { (continuation: CheckedContinuation<Lookup, Never>) in
            let found = state.withLock { state -> Lookup? in
                if let resident = state.resident[key], resident.entry.expiresAt > now { return .hit(resident.entry) }
                if state.inFlight[key] != nil {
                    state.inFlight[key]!.append(continuation)
                    return nil
                }
                state.inFlight[key] = []
                return .lead
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    /// Ends a ``Lookup/lead``: stores `entry` (when there is one) and hands it to every call that
    /// joined.
    public func finish(_ key: String, with entry: CacheEntry?) async {
        if let entry {
            remember(key, entry)
            await store(key, entry)
        }
        let waiters = state.withLock { state in state.inFlight.removeValue(forKey: key) ?? [] }
        for waiter in waiters { waiter.resume(returning: .joined(entry)) }
    }

    // MARK: - Memory

    private func memoryEntry(_ key: String, now: Date) -> CacheEntry? {
        state.withLock { state in
            guard let resident = state.resident[key] else { return nil }
            guard resident.entry.expiresAt > now else {
                state.bytes -= resident.size
                state.resident[key] = nil
                return nil
            }
            state.tick += 1
            state.resident[key]?.lastUsed = state.tick
            return resident.entry
        }
    }

    private func remember(_ key: String, _ entry: CacheEntry) {
        let size = entry.bytes.count + key.utf8.count
        guard size <= maxMemory else { return }
        state.withLock { state in
            state.tick += 1
            if let old = state.resident[key] { state.bytes -= old.size }
            state.resident[key] = Resident(entry: entry, size: size, lastUsed: state.tick)
            state.bytes += size
            guard state.bytes > maxMemory else { return }
            // Evict the least recently used until a tenth of the budget is free.
            let target = maxMemory - maxMemory / 10
            for (oldKey, resident) in state.resident.sorted(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                guard state.bytes > target else { break }
                state.resident[oldKey] = nil
                state.bytes -= resident.size
            }
        }
    }

    // MARK: - Shared

    private func storedEntry(_ key: String, now: Date) async -> CacheEntry? {
        // The cache fails open: a shared tier that cannot answer is a miss.
        guard let shared, let entry = try? await shared.entry(key, now: now), entry.expiresAt > now else { return nil }
        return entry
    }

    private func store(_ key: String, _ entry: CacheEntry) async {
        try? await shared?.store(key, entry)
    }
}

/// Where cached answers are shared between processes.
public protocol SharedCacheTier: Sendable {
    /// The entry under `key` unless it has expired.
    func entry(_ key: String, now: Date) async throws -> CacheEntry?
    /// Stores `entry` until its `expiresAt`.
    func store(_ key: String, _ entry: CacheEntry) async throws
}

/// Cached answers in a SQLite table every process on the host shares (the state store's file).
public final class SQLiteCacheTier: SharedCacheTier {
    private let database: DatabaseQueue

    /// - Throws: ``StateStoreError`` when the file cannot be opened.
    public init(path: String) throws(StateStoreError) {
        do {
            database = try StateDatabase.open(
                path: path,
                label: "switchboard.cache",
                synchronousOff: true,
                table: """
                    CREATE TABLE IF NOT EXISTS cache (
                        key TEXT PRIMARY KEY NOT NULL,   -- SHA-256 of the canonical request, format and tenant
                        value BLOB NOT NULL,             -- {"response", "cost_nano_usd", "stored_at", …} as JSON
                        expires_at REAL NOT NULL         -- Unix seconds
                    ) WITHOUT ROWID
                    """
            )
        } catch {
            throw StateStoreError(
                "the cache store \(path) cannot be opened: \(error.localizedDescription); check the path and its permissions, or set state.backend: memory"
            )
        }
    }

    public func entry(_ key: String, now: Date) async throws -> CacheEntry? {
        let found = try await database.read { db -> (data: Data, expires: Double)? in
            try Row.fetchOne(db, sql: "SELECT value, expires_at FROM cache WHERE key = ?", arguments: [key]).map {
                ($0["value"], $0["expires_at"])
            }
        }
        guard let (data, expires) = found, expires > now.timeIntervalSince1970 else { return nil }
        return CacheEntry(bytes: Array(data), expiresAt: Date(timeIntervalSince1970: expires))
    }

    public func store(_ key: String, _ entry: CacheEntry) async throws {
        let bytes = Data(entry.bytes)
        let expires = entry.expiresAt.timeIntervalSince1970
        let now = entry.storedAt.timeIntervalSince1970
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)",
                arguments: [key, bytes, expires]
            )
            // Expired entries go a few at a time, with the writes that add new ones.
            try db.execute(
                sql: "DELETE FROM cache WHERE key IN (SELECT key FROM cache WHERE expires_at <= ? LIMIT 16)",
                arguments: [now]
            )
        }
    }
}

/// Cached answers in Redis, shared by gateways on every host; Redis expires them itself.
public final class RedisCacheTier: SharedCacheTier {
    let client: RedisClient
    let prefix: String

    public init(client: RedisClient, prefix: String) {
        self.client = client
        self.prefix = prefix
    }

    public func entry(_ key: String, now: Date) async throws -> CacheEntry? {
        let reply = try await client.send("GET", .text("\(prefix)cache/\(key)"))
        guard case .bulkString(let bytes?) = reply, bytes.count > 8 else { return nil }
        // Eight bytes of expiry (milliseconds since 1970, big-endian), then the entry.
        let milliseconds = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let expires = Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
        guard expires > now else { return nil }
        return CacheEntry(bytes: Array(bytes.dropFirst(8)), expiresAt: expires)
    }

    public func store(_ key: String, _ entry: CacheEntry) async throws {
        let ttl = Int((entry.expiresAt.timeIntervalSince(entry.storedAt) * 1_000).rounded(.up))
        guard ttl > 0 else { return }
        let milliseconds = UInt64(max(0, entry.expiresAt.timeIntervalSince1970 * 1_000))
        let expiry = (0..<8).reversed().map { UInt8(truncatingIfNeeded: milliseconds >> (8 * $0)) }
        try await client.send(
            "SET",
            .text("\(prefix)cache/\(key)"),
            .bytes(expiry + entry.bytes),
            "PX",
            .text(String(ttl))
        )
    }
}
