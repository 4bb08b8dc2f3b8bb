import Foundation
import SwitchboardWire

/// One key of a provider's key pool.
public struct PoolKey: Sendable, Equatable {
    public var secret: Secret
    /// The fingerprint plus a short hash that tells apart keys with the same last characters:
    /// `sk-…a1b2#1f3a9c0e`. Used in state-store keys; never reversible to the key.
    public var id: String

    public init(_ secret: Secret) {
        self.secret = secret
        var hash: UInt32 = 2_166_136_261
        for byte in secret.value.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        id = secret.fingerprint + "#" + String(hash, radix: 16)
    }

    /// The fingerprint part of an ``id``.
    static func fingerprint(id: String) -> String {
        String(id.split(separator: "#", maxSplits: 1).first ?? "")
    }
}

/// Headroom pacing over the state store: each attempt takes the key of the pool with the most
/// headroom and reserves its estimate there, or learns how long to wait.
final class Pacer: Sendable {
    enum Acquisition: Sendable {
        /// Send with this key; `headroom` is its state after the reservation.
        case send(PoolKey, headroom: Headroom)
        /// No key can take the call before `until`.
        case wait(until: Date, reason: String)
    }

    let store: any StateStore
    let enabled: Bool

    init(store: any StateStore, enabled: Bool) {
        self.store = store
        self.enabled = enabled
    }

    static func storeKey(provider: String, key: PoolKey, model: String) -> String {
        "headroom/\(provider)/\(key.id)/\(model)"
    }

    /// Reserves `estimate` on the best key of `keys`, or says when to look again. Complete the
    /// attempt with the same estimate and `now`.
    /// - Parameter preferred: a key to try first (the one holding the request's prefix in the
    ///   provider's cache) while its share of headroom is at least `floor`.
    func acquire(
        provider: String,
        keys: [PoolKey],
        model: String,
        estimate: TokenEstimate,
        now: Date,
        preferred: (id: String, floor: Double)? = nil
    ) async throws -> Acquisition {
        let storeKeys = keys.map { Self.storeKey(provider: provider, key: $0, model: model) }
        let states = keys.count > 1 ? try await store.values(storeKeys, as: Headroom.self) : [:]
        let ranked = zip(keys, storeKeys).enumerated().sorted { left, right in
            let leftShare = states[left.element.1]?.share(now: now) ?? 1
            let rightShare = states[right.element.1]?.share(now: now) ?? 1
            if let preferred, left.element.0.id == preferred.id || right.element.0.id == preferred.id {
                let preferredShare = left.element.0.id == preferred.id ? leftShare : rightShare
                if preferredShare >= preferred.floor { return left.element.0.id == preferred.id }
            }
            return leftShare == rightShare ? left.offset < right.offset : leftShare > rightShare
        }
        var earliest: (until: Date, reason: String)?
        let paced = enabled
        for (_, (key, storeKey)) in ranked {
            let (decision, headroom) = try await store.update(storeKey, as: Headroom.self) { state in
                var headroom = state ?? Headroom()
                let decision = headroom.reserve(estimate: estimate, now: now, paced: paced)
                state = headroom
                return (decision, headroom)
            }
            switch decision {
            case .send:
                return .send(key, headroom: headroom)
            case .wait(let until, let reason):
                if earliest == nil || until < earliest!.until {
                    earliest = (until, "\(key.secret.fingerprint): \(reason)")
                }
            }
        }
        guard let earliest else {
            return .wait(until: now.adding(Headroom.recheckInterval), reason: "the provider has no keys")
        }
        return .wait(until: earliest.until, reason: earliest.reason)
    }

    /// The last use of `prefix` within the hour, if any.
    func prefixRecord(provider: String, model: String, prefix: String) async throws -> PrefixRecord? {
        let storeKey = PrefixRecords.storeKey(provider: provider, model: model)
        return try await store.values([storeKey], as: PrefixRecords.self)[storeKey]?.entries[prefix]
    }

    /// Records that `key` served `prefix` at `now`, cached for `lifetime`. No write while `known`
    /// (what ``prefixRecord(provider:model:prefix:)`` read) says the same but 10 s earlier: the
    /// record of a busy prefix is written at most every 10 s.
    func remember(
        _ prefix: String,
        servedBy key: PoolKey,
        provider: String,
        model: String,
        known: PrefixRecord?,
        lifetime: Duration,
        now: Date
    ) async throws {
        let record = PrefixRecord(key: key.id, lastUsed: now, lifetime: lifetime.secondsDouble)
        if let known, known.key == record.key, known.lifetime == record.lifetime,
            now.timeIntervalSince(known.lastUsed) < 10
        {
            return
        }
        try await store.update(PrefixRecords.storeKey(provider: provider, model: model), as: PrefixRecords.self) {
            var records = $0 ?? PrefixRecords()
            records.set(prefix, record, now: now)
            $0 = records
        }
    }

    /// Ends the attempt's reservation and takes in what the answer's headers reported; `refusal`
    /// (what the provider answered) marks the key refused.
    func complete(
        provider: String,
        key: PoolKey,
        model: String,
        estimate: TokenEstimate,
        reservedAt: Date,
        report: (RateLimitSnapshot, status: Int)?,
        refusal: String? = nil,
        now: Date
    ) async throws {
        try await store.update(Self.storeKey(provider: provider, key: key, model: model), as: Headroom.self) { state in
            var headroom = state ?? Headroom()
            headroom.release(estimate, reservedAt: reservedAt)
            if let refusal { headroom.refuse(refusal, now: now) }
            if let report { headroom.report(report.0, status: report.status, receivedAt: now) }
            state = headroom
        }
    }
}

/// The last use of a request prefix (its tools and system prompt): which key of the provider's
/// pool served it — where the provider holds it cached, as each key's organisation has a prompt
/// cache of its own — and for how long it was cached.
struct PrefixRecord: Sendable, Codable, Equatable {
    /// The key's ``PoolKey/id``.
    var key: String
    var lastUsed: Date
    /// The cache lifetime its breakpoints asked for (or OpenAI's), in seconds.
    var lifetime: Double

    /// When the provider has likely let the prefix go (refreshed by every use).
    var cachedUntil: Date { lastUsed.addingTimeInterval(lifetime) }
}

/// The prefixes of one provider model in use within the hour, by identity: one value in the
/// state store, so every process on the host (or with Redis, every host) sends a prefix to the
/// same key and sees how often it comes back, and so prefixes that change on every call (a
/// user's documents in the system prompt) cannot grow the store without bound.
struct PrefixRecords: Sendable, Codable, Equatable {
    var entries: [String: PrefixRecord] = [:]

    /// The prefixes kept: an application has a few long stable prompts.
    static let capacity = 32
    /// How long a prefix is remembered after its last use: the longest cache lifetime.
    static let retention: TimeInterval = 3600

    static func storeKey(provider: String, model: String) -> String { "prefixes/\(provider)/\(model)" }

    /// Records a use of `prefix`, forgetting the prefixes unused for ``retention``, then the
    /// least recently used beyond ``capacity``.
    mutating func set(_ prefix: String, _ record: PrefixRecord, now: Date) {
        entries[prefix] = record
        entries = entries.filter { now.timeIntervalSince($0.value.lastUsed) < Self.retention }
        while entries.count > Self.capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            entries[oldest.key] = nil
        }
    }
}

/// The circuit breakers of every provider model, in the state store.
final class Breakers: Sendable {
    let store: any StateStore
    let settings: CircuitBreaker.Settings

    init(store: any StateStore, settings: CircuitBreaker.Settings) {
        self.store = store
        self.settings = settings
    }

    static func storeKey(provider: String, model: String) -> String { "breaker/\(provider)/\(model)" }

    func permit(provider: String, model: String, now: Date) async throws -> (
        allowed: Bool, transition: CircuitBreaker.Transition?, retryAfter: Duration?
    ) {
        let settings = settings
        return try await store.update(Self.storeKey(provider: provider, model: model), as: CircuitBreaker.self) {
            state in
            var breaker = state ?? CircuitBreaker()
            let (allowed, transition) = breaker.permit(now: now, settings: settings)
            let retryAfter = breaker.retryAfter(now: now)
            state = breaker
            return (allowed, transition, retryAfter)
        }
    }

    func record(provider: String, model: String, failed: Bool, now: Date) async throws -> CircuitBreaker.Transition? {
        let settings = settings
        return try await store.update(Self.storeKey(provider: provider, model: model), as: CircuitBreaker.self) {
            state in
            var breaker = state ?? CircuitBreaker()
            let transition = breaker.record(failed: failed, now: now, settings: settings)
            state = breaker
            return transition
        }
    }
}
