import Foundation

/// Numbers as an operator reads them at a glance.
enum Format {
    /// `410ms`, `2.41s`, `1m05s`.
    static func milliseconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        if value < 1 { return fixed(value, 2) + "ms" }
        if value < 1000 { return "\(Int(value.rounded()))ms" }
        if value < 60_000 { return fixed(value / 1000, 2) + "s" }
        let seconds = Int((value / 1000).rounded())
        return "\(seconds / 60)m\(twoDigits(seconds % 60))s"
    }

    /// `$12.84`, `$0.930`, `$0.0041`: more decimals for smaller amounts.
    static func dollars(_ nanoUSD: Int64) -> String {
        let dollars = Double(nanoUSD) / 1e9
        switch abs(dollars) {
        case 100...: return "$" + fixed(dollars, 0)
        case 1...: return "$" + fixed(dollars, 2)
        case 0.01...: return "$" + fixed(dollars, 3)
        case 0.0001...: return "$" + fixed(dollars, 4)
        case 0: return "$0"
        default: return "$" + fixed(dollars, 6)
        }
    }

    /// `812`, `4,812`, `112k`, `1.2M`.
    static func count(_ value: Int) -> String {
        switch abs(value) {
        case 1_000_000...: return fixed(Double(value) / 1e6, 1) + "M"
        case 100_000...: return "\(value / 1000)k"
        case 1_000...: return grouped(value)
        default: return "\(value)"
        }
    }

    /// `812`, `4.8k`, `112k`, `1.2M`: at most five characters, for gauges.
    static func compact(_ value: Int) -> String {
        switch abs(value) {
        case 1_000_000...: return fixed(Double(value) / 1e6, 1) + "M"
        case 100_000...: return "\(value / 1000)k"
        case 1_000...: return fixed(Double(value) / 1e3, 1) + "k"
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
        return fixed(Double(part) / Double(whole) * 100, 1) + "%"
    }

    /// `12:04:31` in UTC.
    static func clock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % 86_400
        return "\(twoDigits(seconds / 3600)):\(twoDigits(seconds / 60 % 60)):\(twoDigits(seconds % 60))"
    }

    /// `value` with `decimals` digits after the point, as `String(format: "%.Nf")` writes it but
    /// for a near-half the scaling rounds onto a half, and for a negative that rounds to zero
    /// (`0.0` here, `-0.0` there), without Foundation's formatter: a frame formats hundreds of
    /// figures, and that formatter was a good part of drawing one.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        let scale = [1.0, 10, 100, 1_000, 10_000, 100_000, 1_000_000][min(max(decimals, 0), 6)]
        let scaled = (abs(value) * scale).rounded(.toNearestOrEven)
        guard (0...6).contains(decimals), value.isFinite, scaled < 1e15 else {
            return String(format: "%.\(decimals)f", value)
        }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        var text = value < 0 && units > 0 ? "-\(whole)" : "\(whole)"
        guard decimals > 0 else { return text }
        let fraction = String(units % Int64(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        return text
    }

    /// `07`: at least two digits.
    static func twoDigits(_ value: Int) -> String { value < 10 && value >= 0 ? "0\(value)" : "\(value)" }

    /// `8s`, `12ms`, `3m` until `date`.
    static func until(_ date: Date?, from now: Date) -> String {
        guard let date else { return "–" }
        let seconds = max(0, date.timeIntervalSince(now))
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        if seconds < 120 { return "\(Int(seconds.rounded()))s" }
        return "\(Int(seconds / 60))m"
    }
}
