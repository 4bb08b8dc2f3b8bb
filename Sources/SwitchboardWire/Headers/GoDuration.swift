/// Go's `time.Duration` text form, which OpenAI uses for `x-ratelimit-reset-*`: `12ms`, `1s`,
/// `9.816s`, `6m0s`, `1h2m3s`.
public enum GoDuration {
    /// Parses a Go duration (`time.ParseDuration`): an optional sign, then one or more decimal
    /// numbers each followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), or `0`.
    /// - Returns: `nil` when the text is not a Go duration.
    public static func parse(_ text: String) -> Duration? {
        var bytes = text.utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        if bytes.elementsEqual("0".utf8) { return .zero }
        guard !bytes.isEmpty else { return nil }
        var totalNanoseconds: Double = 0
        while !bytes.isEmpty {
            // A number: digits, a point and more digits (either side may be empty, not both).
            var whole: Double = 0
            var fraction: Double = 0
            var fractionScale: Double = 1
            var digits = 0
            var point = false
            while let byte = bytes.first, (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") {
                bytes = bytes.dropFirst()
                if byte == UInt8(ascii: ".") {
                    guard !point else { return nil }
                    point = true
                    continue
                }
                digits += 1
                let digit = Double(byte - 0x30)
                if !point {
                    whole = whole * 10 + digit
                } else if fractionScale < 1e18 {
                    // Further digits are below a nanosecond of an hour.
                    fraction = fraction * 10 + digit
                    fractionScale *= 10
                }
            }
            guard digits > 0 else { return nil }
            let unitStart = bytes.startIndex
            while let byte = bytes.first, !(byte >= 0x30 && byte <= 0x39), byte != UInt8(ascii: ".") {
                bytes = bytes.dropFirst()
            }
            let unit = text.utf8[unitStart..<bytes.startIndex]
            guard let scale = units.first(where: { unit.elementsEqual($0.name.utf8) })?.nanoseconds else { return nil }
            // The fraction scaled before it is divided, so that `9.816s` is exactly 9,816,000,000 ns.
            totalNanoseconds += whole * scale + fraction * scale / fractionScale
        }
        guard totalNanoseconds.isFinite, totalNanoseconds < 9.2e18 else { return nil }
        let duration = Duration.nanoseconds(Int64(totalNanoseconds.rounded()))
        return negative ? .zero - duration : duration
    }

    /// Go's units, in nanoseconds (`µs` both as the micro sign and as the Greek letter).
    private static let units: [(name: String, nanoseconds: Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

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
        var fractional = value % divisor
        var digits = precision
        while digits > 0 && fractional % 10 == 0 {
            fractional /= 10
            digits -= 1
        }
        var text = String(value / divisor)
        guard digits > 0 else { return text }
        // The fraction's digits, zeros first where it is short of them (`.05`).
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: digits + 1)
        bytes[0] = UInt8(ascii: ".")
        for index in stride(from: digits, through: 1, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(fractional % 10)
            fractional /= 10
        }
        text += String(decoding: bytes, as: UTF8.self)
        return text
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
