/// Go's `time.Duration` text form, which OpenAI uses for `x-ratelimit-reset-*`: `12ms`, `1s`,
/// `9.816s`, `6m0s`, `1h2m3s`.
public enum GoDuration {
    /// Parses a Go duration (`time.ParseDuration`): an optional sign, then one or more decimal
    /// numbers each followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), or `0`.
    /// - Returns: `nil` when the text is not a Go duration.
    public static func parse(_ text: String) -> Duration? {
        var scalars = Substring(text).unicodeScalars[...]
        var negative = false
        if let first = scalars.first, first == "-" || first == "+" {
            negative = first == "-"
            scalars = scalars.dropFirst()
        }
        if String(scalars) == "0" { return .zero }
        guard !scalars.isEmpty else { return nil }
        var totalNanoseconds: Double = 0
        while !scalars.isEmpty {
            var number = ""
            while let scalar = scalars.first, ("0"..."9").contains(scalar) || scalar == "." {
                number.unicodeScalars.append(scalar)
                scalars = scalars.dropFirst()
            }
            guard !number.isEmpty, number != ".", let value = Double(number.hasPrefix(".") ? "0" + number : number)
            else {
                return nil
            }
            var unit = ""
            while let scalar = scalars.first, !("0"..."9").contains(scalar), scalar != "." {
                unit.unicodeScalars.append(scalar)
                scalars = scalars.dropFirst()
            }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            totalNanoseconds += value * scale
        }
        guard totalNanoseconds.isFinite, totalNanoseconds < 9.2e18 else { return nil }
        let duration = Duration.nanoseconds(Int64(totalNanoseconds.rounded()))
        return negative ? .zero - duration : duration
    }

    /// Formats a duration as Go's `Duration.String()` does: `0s`, `12ms`, `1.5µs`, `9.816s`,
    /// `6m0s`, `1h0m0s`.
    public static func format(_ duration: Duration) -> String {
        var nanoseconds = duration.nanosecondsClamped
        let negative = nanoseconds < 0
        if negative { nanoseconds = -nanoseconds }
        let sign = negative ? "-" : ""
        let value = UInt64(nanoseconds)
        if value == 0 { return "0s" }
        if value < 1_000_000_000 {
            if value < 1_000 { return "\(sign)\(value)ns" }
            if value < 1_000_000 { return sign + fraction(value, precision: 3) + "µs" }
            return sign + fraction(value, precision: 6) + "ms"
        }
        let seconds = fraction(value, precision: 9)
        let wholeSeconds = value / 1_000_000_000
        let minutes = wholeSeconds / 60
        let secondsPart = secondsText(seconds, wholeSeconds: wholeSeconds)
        if minutes == 0 { return sign + secondsPart + "s" }
        let hours = minutes / 60
        if hours == 0 { return "\(sign)\(minutes)m\(secondsPart)s" }
        return "\(sign)\(hours)h\(minutes % 60)m\(secondsPart)s"
    }

    /// `value / 10^precision` with the fraction's trailing zeros (and a bare point) removed.
    private static func fraction(_ value: UInt64, precision: Int) -> String {
        var divisor: UInt64 = 1
        for _ in 0..<precision { divisor *= 10 }
        let whole = value / divisor
        var fractional = String(value % divisor)
        fractional = String(repeating: "0", count: precision - fractional.count) + fractional
        while fractional.hasSuffix("0") { fractional.removeLast() }
        return fractional.isEmpty ? "\(whole)" : "\(whole).\(fractional)"
    }

    /// The seconds within the minute, keeping the fraction of `seconds` (`"2.5"` of `"62.5"`).
    private static func secondsText(_ seconds: String, wholeSeconds: UInt64) -> String {
        let fractionalPart = seconds.firstIndex(of: ".").map { String(seconds[$0...]) } ?? ""
        return "\(wholeSeconds % 60)\(fractionalPart)"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to the range of `Int64`.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }

    /// The duration in seconds as a `Double`.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds as a `Double`.
    public var millisecondsDouble: Double { secondsDouble * 1000 }
}
