import Foundation

/// Numbers as an operator reads them at a glance.
enum Format {
    /// `410ms`, `2.41s`, `1m05s`.
    static func milliseconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        if value < 1 { return String(format: "%.2fms", value) }
        if value < 1000 { return "\(Int(value.rounded()))ms" }
        if value < 60_000 { return String(format: "%.2fs", value / 1000) }
        let seconds = Int((value / 1000).rounded())
        return String(format: "%dm%02ds", seconds / 60, seconds % 60)
    }

    /// `$12.84`, `$0.930`, `$0.0041`: more decimals for smaller amounts.
    static func dollars(_ nanoUSD: Int64) -> String {
        let dollars = Double(nanoUSD) / 1e9
        switch abs(dollars) {
        case 100...: return String(format: "$%.0f", dollars)
        case 1...: return String(format: "$%.2f", dollars)
        case 0.01...: return String(format: "$%.3f", dollars)
        case 0.0001...: return String(format: "$%.4f", dollars)
        case 0: return "$0"
        default: return String(format: "$%.6f", dollars)
        }
    }

    /// `812`, `4,812`, `112k`, `1.2M`.
    static func count(_ value: Int) -> String {
        switch abs(value) {
        case 1_000_000...: return String(format: "%.1fM", Double(value) / 1e6)
        case 100_000...: return "\(value / 1000)k"
        case 1_000...: return grouped(value)
        default: return "\(value)"
        }
    }

    /// `812`, `4.8k`, `112k`, `1.2M`: at most five characters, for gauges.
    static func compact(_ value: Int) -> String {
        switch abs(value) {
        case 1_000_000...: return String(format: "%.1fM", Double(value) / 1e6)
        case 100_000...: return "\(value / 1000)k"
        case 1_000...: return String(format: "%.1fk", Double(value) / 1e3)
        default: return "\(value)"
        }
    }

    /// `12,345`.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `38.4%` of `part / whole` (`–` for no whole).
    static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "–" }
        return String(format: "%.1f%%", Double(part) / Double(whole) * 100)
    }

    /// `12:04:31` in UTC.
    static func clock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % 86_400
        return String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// `8s`, `12ms`, `3m` until `date`.
    static func until(_ date: Date?, from now: Date) -> String {
        guard let date else { return "–" }
        let seconds = max(0, date.timeIntervalSince(now))
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        if seconds < 120 { return "\(Int(seconds.rounded()))s" }
        return "\(Int(seconds / 60))m"
    }
}
