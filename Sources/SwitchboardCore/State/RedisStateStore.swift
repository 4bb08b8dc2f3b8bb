import Foundation
import SwitchboardRedis
import Synchronization

/// The state store of gateways on several hosts: every value a JSON string under
/// `<prefix><key>` in one Redis database.
///
/// An update reads the value, changes it in Swift and writes it back only if nobody changed it
/// meanwhile (a compare-and-set Lua script), retrying on conflict; updates of one key from this
/// process queue locally first, so only other processes ever conflict. Limits do not come through
/// here: ``RedisRateLimiter`` decides them in one script on the server's clock.
public final class RedisStateStore: StateStore {
    public let client: RedisClient
    public let prefix: String
    private let queue = KeyedQueue()

    /// Sets the value only when the key still holds what was read (ARGV[1] `0`: was absent; `1`:
    /// held ARGV[2]); ARGV[3] `1` sets ARGV[4], `0` deletes. 1 when written, 0 on a conflict.
    static let compareAndSet = RedisScript(
        """
        local current = redis.call('GET', KEYS[1])
        if ARGV[1] == '0' then
          if current then return 0 end
        elseif current ~= ARGV[2] then
          return 0
        end
        if ARGV[3] == '1' then redis.call('SET', KEYS[1], ARGV[4]) else redis.call('DEL', KEYS[1]) end
        return 1
        """
    )

    public init(client: RedisClient, prefix: String = "switchboard:") {
        self.client = client
        self.prefix = prefix
    }

    public func update<Value: Codable & Sendable, Result: Sendable>(
        _ key: String,
        as type: Value.Type,
        _ body: @escaping @Sendable (inout Value?) -> Result
    ) async throws -> Result {
        let key = prefix + key
        await queue.acquire(key)
        defer { queue.release(key) }
        for attempt in 0..<64 {
            let stored = try await client.send("GET", .text(key))
            let old: [UInt8]? = if case .bulkString(let bytes) = stored { bytes } else { nil }
            var value = old.flatMap { try? JSONDecoder().decode(Value.self, from: Data($0)) }
            let result = body(&value)
            let new = try value.map { Array(try JSONEncoder().encode($0)) }
            if new == old { return result }
            let written = try await client.run(
                Self.compareAndSet,
                keys: [key],
                arguments: [old == nil ? "0" : "1", .bytes(old ?? []), new == nil ? "0" : "1", .bytes(new ?? [])]
            )
            if written.int == 1 { return result }
            // Another process wrote first: read again, after a pause that grows with the conflicts.
            try await Task.sleep(for: .microseconds(Int.random(in: 0...(100 << min(attempt, 6)))))
        }
        throw StateStoreError("the Redis key \(key) kept changing under 64 updates in a row; try again")
    }

    public func values<Value: Codable & Sendable>(_ keys: [String], as type: Value.Type) async throws -> [String: Value]
    {
        guard !keys.isEmpty else { return [:] }
        let reply = try await client.send(["MGET"] + keys.map { .text(prefix + $0) })
        guard case .array(let values?) = reply, values.count == keys.count else {
            throw RedisError.unexpectedReply("MGET answered \(reply)")
        }
        var found: [String: Value] = [:]
        for (key, value) in zip(keys, values) {
            if case .bulkString(let bytes?) = value,
                let decoded = try? JSONDecoder().decode(Value.self, from: Data(bytes))
            {
                found[key] = decoded
            }
        }
        return found
    }
}

/// One holder per key at a time within this process; the others wait their turn in order.
final class KeyedQueue: Sendable {
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func acquire(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = waiting.withLock { waiting -> Bool in
                if waiting[key] == nil {
                    waiting[key] = []
                    return true
                }
                waiting[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    func release(_ key: String) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let next = queue.removeFirst()
            waiting[key] = queue
            return next
        }
        next?.resume()
    }
}
