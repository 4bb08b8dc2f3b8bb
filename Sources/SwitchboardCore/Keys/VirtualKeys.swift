import Crypto
import Foundation
import GRDB

/// A key Switchboard issues to a gateway caller: who it is, and its own limits and budget.
public struct VirtualKey: Sendable, Equatable {
    /// `vk_` and 12 hex digits: shown in lists, journaled as `key_id`; not a secret.
    public var id: String
    public var userID: String
    public var tenantID: String?
    public var rpm: Int?
    public var tpm: Int?
    public var maxOutputTokens: Int?
    public var budgetNanoUSD: Int64?
    /// Trust `x-switchboard-user` from this key (a backend serving many end users).
    public var allowUserHeader: Bool
    public var label: String?
    public var createdAt: Date
    public var revokedAt: Date?

    public var isRevoked: Bool { revokedAt != nil }
}

/// Why a virtual-key operation failed.
public struct VirtualKeyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Virtual keys in the state database (`state.sqlite_path`), shared by every process on the host:
/// a key revoked by one is refused by all at once. Only a salted SHA-256 of each secret is kept;
/// the secret itself is shown once, when the key is made.
///
/// A secret reads `sk-sb-<id digits>-<40 hex digits>`: the id finds the row, the rest is checked
/// against its hash in constant time. It is key-shaped, so the journal masks it like a provider key.
public final class VirtualKeyStore: Sendable {
    public let path: String
    private let database: DatabaseQueue

    /// Opens or creates the key table in the state database at `path` (mode 0600).
    public init(path: String) throws(VirtualKeyError) {
        self.path = path
        do {
            database = try StateDatabase.open(
                path: path,
                label: "switchboard.keys",
                synchronousOff: false,
                table: """
                    CREATE TABLE IF NOT EXISTS virtual_keys (
                        id TEXT PRIMARY KEY NOT NULL,     -- vk_…: shown and journaled as key_id
                        salt BLOB NOT NULL,               -- 16 random bytes
                        hash BLOB NOT NULL,               -- SHA-256(salt ‖ secret); the secret is never stored
                        user_id TEXT NOT NULL,
                        tenant_id TEXT,
                        rpm INTEGER, tpm INTEGER, max_output_tokens INTEGER,
                        budget_nano_usd INTEGER,
                        allow_user_header INTEGER NOT NULL DEFAULT 0,
                        label TEXT,
                        created_at REAL NOT NULL,         -- Unix seconds
                        revoked_at REAL
                    ) WITHOUT ROWID
                    """
            )
        } catch {
            throw VirtualKeyError(
                "the key store \(path) cannot be opened: \(error.localizedDescription); check state.sqlite_path and its permissions"
            )
        }
    }

    /// Makes a key and returns it with its secret, which is not kept anywhere.
    public func create(
        userID: String,
        tenantID: String? = nil,
        rpm: Int? = nil,
        tpm: Int? = nil,
        maxOutputTokens: Int? = nil,
        budgetNanoUSD: Int64? = nil,
        allowUserHeader: Bool = false,
        label: String? = nil,
        now: Date = Date()
    ) throws(VirtualKeyError) -> (key: VirtualKey, secret: String) {
        let key = VirtualKey(
            id: "vk_" + Self.randomBytes(6).hex,
            userID: userID,
            tenantID: tenantID,
            rpm: rpm,
            tpm: tpm,
            maxOutputTokens: maxOutputTokens,
            budgetNanoUSD: budgetNanoUSD,
            allowUserHeader: allowUserHeader,
            label: label,
            createdAt: now,
            revokedAt: nil
        )
        let secret = "sk-sb-\(key.id.dropFirst(3))-\(Self.randomBytes(20).hex)"
        let salt = Self.randomBytes(16)
        let hash = Self.hash(secret, salt: salt)
        do {
            try database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO virtual_keys (id, salt, hash, user_id, tenant_id, rpm, tpm, max_output_tokens,
                            budget_nano_usd, allow_user_header, label, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.id, Data(salt), Data(hash), userID, tenantID, rpm, tpm, maxOutputTokens, budgetNanoUSD,
                        allowUserHeader, label, now.timeIntervalSince1970,
                    ]
                )
            }
        } catch {
            throw VirtualKeyError("the key could not be stored in \(path): \(error.localizedDescription)")
        }
        return (key, secret)
    }

    /// Every key, newest first; revoked ones only with `includeRevoked`.
    public func list(includeRevoked: Bool = false) throws(VirtualKeyError) -> [VirtualKey] {
        do {
            return try database.read { db in
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM virtual_keys \(includeRevoked ? "" : "WHERE revoked_at IS NULL") ORDER BY created_at DESC"
                ).map(Self.key)
            }
        } catch {
            throw VirtualKeyError("the keys in \(path) cannot be read: \(error.localizedDescription)")
        }
    }

    /// Revokes a key: every process refuses it from its next request.
    /// - Returns: the key, or `nil` when there is no such key.
    @discardableResult
    public func revoke(_ id: String, now: Date = Date()) throws(VirtualKeyError) -> VirtualKey? {
        do {
            return try database.write { db in
                try db.execute(
                    sql: "UPDATE virtual_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                    arguments: [now.timeIntervalSince1970, id]
                )
                return try Row.fetchOne(db, sql: "SELECT * FROM virtual_keys WHERE id = ?", arguments: [id]).map(
                    Self.key
                )
            }
        } catch {
            throw VirtualKeyError("the key \(id) could not be revoked: \(error.localizedDescription)")
        }
    }

    /// Replaces a key with a new one of the same user, tenant, limits and budget, and revokes it.
    public func rotate(_ id: String, now: Date = Date()) throws(VirtualKeyError) -> (key: VirtualKey, secret: String) {
        guard let old = try list(includeRevoked: true).first(where: { $0.id == id }) else {
            throw VirtualKeyError("no key \(id); `switchboard keys list` shows them")
        }
        guard !old.isRevoked else { throw VirtualKeyError("the key \(id) is revoked; create a new one instead") }
        let made = try create(
            userID: old.userID,
            tenantID: old.tenantID,
            rpm: old.rpm,
            tpm: old.tpm,
            maxOutputTokens: old.maxOutputTokens,
            budgetNanoUSD: old.budgetNanoUSD,
            allowUserHeader: old.allowUserHeader,
            label: old.label,
            now: now
        )
        try revoke(id, now: now)
        return made
    }

    /// The key a caller presented, when it is one of ours and not revoked.
    public func authenticate(_ secret: String) throws(VirtualKeyError) -> VirtualKey? {
        let parts = secret.split(separator: "-")
        guard parts.count == 4, parts[0] == "sk", parts[1] == "sb", parts[2].count == 12, parts[3].count == 40 else {
            return nil
        }
        let id = "vk_" + parts[2]
        let row: (salt: Data, hash: Data, key: VirtualKey)?
        do {
            row = try database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM virtual_keys WHERE id = ?", arguments: [id]).map {
                    (salt: $0["salt"], hash: $0["hash"], key: Self.key($0))
                }
            }
        } catch {
            throw VirtualKeyError("the keys in \(path) cannot be read: \(error.localizedDescription)")
        }
        guard let row, !row.key.isRevoked else { return nil }
        let presented = Self.hash(secret, salt: Array(row.salt))
        // Constant time: every byte is compared whatever the first difference.
        var difference: UInt8 = presented.count == row.hash.count ? 0 : 1
        for (left, right) in zip(presented, row.hash) { difference |= left ^ right }
        return difference == 0 ? row.key : nil
    }

    private static func key(_ row: Row) -> VirtualKey {
        VirtualKey(
            id: row["id"],
            userID: row["user_id"],
            tenantID: row["tenant_id"],
            rpm: row["rpm"],
            tpm: row["tpm"],
            maxOutputTokens: row["max_output_tokens"],
            budgetNanoUSD: row["budget_nano_usd"],
            allowUserHeader: row["allow_user_header"],
            label: row["label"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Double?).map { Date(timeIntervalSince1970: $0) }
        )
    }

    static func hash(_ secret: String, salt: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(secret.utf8))
        return Array(hasher.finalize())
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

extension CallContext {
    /// A call made with a virtual key: billed and limited as the key's user and tenant, with the
    /// key's own limits and budget where it has them (the configured ones where it has not).
    public mutating func use(_ key: VirtualKey, configuration: SwitchboardConfiguration) {
        userID = key.userID
        tenantID = key.tenantID
        keyID = key.id
        let base = configuration.limits.users[key.userID] ?? configuration.limits.defaultUser
        if key.rpm != nil || key.tpm != nil || key.maxOutputTokens != nil {
            limits = .init(
                rpm: key.rpm ?? base.rpm,
                tpm: key.tpm ?? base.tpm,
                maxOutputTokens: key.maxOutputTokens ?? base.maxOutputTokens
            )
        }
        if let hard = key.budgetNanoUSD {
            budget = .init(hardNanoUSD: hard, softNanoUSD: hard / 5 * 4)
        }
    }
}
