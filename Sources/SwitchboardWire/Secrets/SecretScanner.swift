/// Finds provider-key-shaped secrets in text: OpenAI and Anthropic keys (`sk-…`, `sk-ant-…`), AWS
/// access key ids (`AKIA…`, `ASIA…`), GitHub tokens (`ghp_…`, `github_pat_…`) and Slack tokens
/// (`xoxb-…`). Used to mask secrets before anything is stored or shown, and by `keys scan`.
///
/// A hand-written byte scanner rather than regular expressions: it runs on every stored body, so it
/// must cost little more than reading the text once.
public enum SecretScanner {
    public enum Kind: String, Sendable, CaseIterable {
        case openAI = "openai"
        case anthropic
        case aws
        case github
        case slack
    }

    public struct Match: Sendable, Equatable {
        public var kind: Kind
        /// Byte offsets in the text's UTF-8.
        public var range: Range<Int>
        public var secret: String
        /// What may be shown instead: ``SecretScanner/fingerprint(_:)``.
        public var fingerprint: String { SecretScanner.fingerprint(secret) }
    }

    /// A secret as it may be shown: its kind's prefix, an ellipsis and the last four characters
    /// (`sk-…a1b2`, `sk-ant-…9f3c`, `AKIA…WXYZ`).
    public static func fingerprint(_ secret: String) -> String {
        let prefixes = [
            "sk-ant-", "github_pat_", "sk-", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xoxb-", "xoxp-",
            "xoxa-", "xoxr-", "xoxs-",
        ]
        let prefix = prefixes.first { secret.hasPrefix($0) } ?? ""
        let tail = secret.count > prefix.count + 8 ? String(secret.suffix(4)) : ""
        return "\(prefix)…\(tail)"
    }

    /// Every secret in `text`, in order.
    public static func matches(in text: String) -> [Match] {
        var matches: [Match] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if index == 0 || !isTokenByte(bytes[index - 1]), let match = match(bytes, at: index) {
                matches.append(match)
                index = match.range.upperBound
            } else {
                index += 1
            }
        }
        return matches
    }

    /// `text` with every secret replaced by its fingerprint; the same string when there is none.
    public static func redact(_ text: String) -> String {
        let found = matches(in: text)
        guard !found.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        for match in found {
            output += bytes[position..<match.range.lowerBound]
            output += Array(match.fingerprint.utf8)
            position = match.range.upperBound
        }
        output += bytes[position...]
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `text` contains a secret.
    public static func containsSecret(_ text: String) -> Bool { !matches(in: text).isEmpty }

    private static func match(_ bytes: [UInt8], at start: Int) -> Match? {
        func hasPrefix(_ prefix: StaticString) -> Bool {
            let count = prefix.utf8CodeUnitCount
            guard start + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[start + offset] != prefix.utf8Start[offset] { return false }
            return true
        }
        func token(from offset: Int, allowed: (UInt8) -> Bool) -> Int {
            var end = start + offset
            while end < bytes.count, allowed(bytes[end]) { end += 1 }
            return end
        }
        func found(_ kind: Kind, _ end: Int) -> Match {
            Match(kind: kind, range: start..<end, secret: String(decoding: bytes[start..<end], as: UTF8.self))
        }
        switch bytes[start] {
        case UInt8(ascii: "s") where hasPrefix("sk-"):
            let end = token(from: 3, allowed: isKeyByte)
            guard end - start >= 20 else { return nil }
            return found(hasPrefix("sk-ant-") ? .anthropic : .openAI, end)
        case UInt8(ascii: "A") where hasPrefix("AKIA") || hasPrefix("ASIA"):
            let end = token(from: 4) { isUpper($0) || isDigit($0) }
            guard end - start == 20, end == bytes.count || !isTokenByte(bytes[end]) else { return nil }
            return found(.aws, end)
        case UInt8(ascii: "g") where hasPrefix("github_pat_"):
            let end = token(from: 11) { isAlphanumeric($0) || $0 == UInt8(ascii: "_") }
            return end - start >= 40 ? found(.github, end) : nil
        case UInt8(ascii: "g")
        where hasPrefix("ghp_") || hasPrefix("gho_") || hasPrefix("ghu_") || hasPrefix("ghs_") || hasPrefix("ghr_"):
            let end = token(from: 4, allowed: isAlphanumeric)
            return end - start >= 24 ? found(.github, end) : nil
        case UInt8(ascii: "x")
        where hasPrefix("xoxb-") || hasPrefix("xoxp-") || hasPrefix("xoxa-") || hasPrefix("xoxr-") || hasPrefix("xoxs-"):
            let end = token(from: 5) { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
            return end - start >= 15 ? found(.slack, end) : nil
        default:
            return nil
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    private static func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || isUpper(byte) || isLower(byte) }
    private static func isKeyByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
    private static func isTokenByte(_ byte: UInt8) -> Bool { isKeyByte(byte) }
}
