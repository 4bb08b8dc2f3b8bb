import Crypto
import Foundation
import SwitchboardWire

/// The exact-match cache's key: SHA-256 over the canonical JSON of everything that shapes the
/// answer — model or route, system, messages, tools and tool choice, sampling parameters, max
/// tokens, stop, response format, seed — plus the caller's format and tenant, so tenants never
/// share entries. Canonical: keys sorted, numbers normalised (`1.0` → `1`, `1e2` → `100`), no
/// whitespace between tokens; `max_tokens` and `max_completion_tokens` are one field.
public enum CacheKey {
    /// Request fields that do not shape the answer: how it is delivered, who asked, billing tiers.
    static let ignored: Set<String> = [
        "stream", "stream_options", "user", "metadata", "safety_identifier", "prompt_cache_key", "service_tier",
        "store",
    ]

    /// The key (64 hex digits) of a request `body` in `format` for `tenant`.
    public static func make(format: APIFormat, body: JSONValue, tenant: String?) -> String {
        var object = body.objectValue ?? [:]
        for field in ignored { object.removeValue(forKey: field) }
        if format == .openAI, object["max_completion_tokens"] == nil,
            let legacy = object.removeValue(forKey: "max_tokens")
        {
            object["max_completion_tokens"] = legacy
        }
        var hasher = SHA256()
        hasher.update(data: Array("switchboard-cache-v1\n\(format.rawValue)\n\(tenant ?? "")\n".utf8))
        hasher.update(data: JSONValue.object(object).serializedBytes(.canonical))
        return Array(hasher.finalize()).hex
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hex digits, two per byte: keys, ids and digests.
    var hex: String {
        let digits = hexDigits
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

/// The request header `x-switchboard-cache-control`: `ttl=600` (cache this answer for 600 s),
/// `no-store` (neither read nor write the cache), `no-cache` (do not read it, but store the new
/// answer).
public enum CacheControl: Sendable, Equatable {
    case ttl(Duration)
    case noStore
    case noCache

    public init?(header: String) {
        let value = header.trimmingCharacters(in: .whitespaces).lowercased()
        switch value {
        case "no-store": self = .noStore
        case "no-cache": self = .noCache
        default:
            let parts = value.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, ["ttl", "max-age"].contains(parts[0]) else { return nil }
            let text = String(parts[1])
            guard let duration = Int(text).map({ Duration.seconds($0) }) ?? GoDuration.parse(text), duration > .zero
            else { return nil }
            self = .ttl(duration)
        }
    }
}
