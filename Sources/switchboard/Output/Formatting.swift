import Foundation
import SwitchboardWire

/// How figures are written for people: money, durations, counts and times.
enum Format {
    /// Nano-dollars as dollars: `$12.84`, `$0.004120`, `$0.000000123`.
    static func usd(_ nano: Int64?) -> String {
        guard let nano else { return "unknown" }
        if nano == 0 { return "$0" }
        let dollars = Double(nano) / 1e9
        if abs(dollars) >= 1 { return String(format: "$%.2f", dollars) }
        if abs(dollars) >= 0.000_001 { return String(format: "$%.6f", dollars) }
        return String(format: "$%.9f", dollars)
    }

    /// Milliseconds: `410ms`, `2.41s`, `1m05s`.
    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 1 { return String(format: "%.2fms", value) }
        if value < 1000 { return "\(Int(value.rounded()))ms" }
        if value < 60_000 { return String(format: "%.2fs", value / 1000) }
        let seconds = Int(value / 1000)
        return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s"
    }

    /// A count with thousands grouped: `1,204`; large ones shortened: `2.9M`.
    static func count(_ value: Int, short: Bool = false) -> String {
        if short, value >= 1_000_000 { return String(format: "%.1fM", Double(value) / 1e6) }
        if short, value >= 10_000 { return "\(value / 1000)k" }
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "-" : String(format: "%.1f%%", 100 * Double(part) / Double(whole))
    }

    /// `2026-11-29 12:04:31.120` in UTC.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let rfc = RFC3339.format(Date(timeIntervalSince1970: Double(milliseconds / 1000)))
        return rfc.dropLast().replacingOccurrences(of: "T", with: " ")
            + String(format: ".%03d", Int(milliseconds % 1000))
    }

    /// A duration from text: Go syntax (`90s`, `1h30m`) plus days and weeks (`30d`, `2w`).
    static func parseDuration(_ text: String) -> Duration? {
        if let last = text.last, last == "d" || last == "w", let number = Double(text.dropLast()), number >= 0 {
            return .seconds(number * (last == "d" ? 86_400 : 604_800))
        }
        return GoDuration.parse(text)
    }

    /// A time from text: RFC 3339, a date (`2026-11-01`), or an age (`2h` ago).
    static func parseTime(_ text: String, now: Date = Date()) -> Date? {
        if let date = RFC3339.parse(text) { return date }
        if let date = RFC3339.parse(text + "T00:00:00Z") { return date }
        if let age = parseDuration(text) { return now.addingTimeInterval(-age.secondsDouble) }
        return nil
    }
}

/// Writes `text` to standard output at once, unbuffered: for lines that scripts wait for and
/// progress that must show while the command runs (`print` buffers when output is not a terminal).
func printNow(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
