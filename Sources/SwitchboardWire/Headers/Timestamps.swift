import Foundation

/// RFC 3339 timestamps, which Anthropic uses for `anthropic-ratelimit-*-reset`:
/// `2025-08-21T12:40:59Z`.
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space separator are accepted.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        guard let year = number(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = number(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = number(bytes, 8, 2),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
            let hour = number(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = number(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
            let second = number(bytes, 17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...CivilTime.daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard index + 6 == bytes.count, let offsetHours = number(bytes, index + 1, 2),
                bytes[index + 3] == UInt8(ascii: ":"), let offsetMinutes = number(bytes, index + 4, 2)
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = CivilTime.epochSeconds(
            year: year,
            month: month,
            day: day,
            hour: hour,
            minute: minute,
            second: second
        )
        return Date(timeIntervalSince1970: Double(seconds - offsetSeconds) + fraction)
    }

    /// Formats `date` in UTC at second precision (rounded up, so a reset is never reported early,
    /// ignoring floating-point noise under a microsecond): `2025-08-21T12:40:59Z`.
    public static func format(_ date: Date) -> String {
        let seconds = Int((date.timeIntervalSince1970 - 1e-6).rounded(.up))
        let civil = CivilTime(epochSeconds: seconds)
        return
            "\(pad(civil.year, 4))-\(pad(civil.month))-\(pad(civil.day))T\(pad(civil.hour)):\(pad(civil.minute)):\(pad(civil.second))Z"
    }

    static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<(start + count)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// HTTP dates (RFC 9110 §5.6.7), used by `Retry-After`: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), and on input also the obsolete RFC 850 and asctime forms.
public enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var day: Int?
        var month: Int?
        var year: Int?
        var time: String?
        if parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1])
            month = months.firstIndex(of: parts[2]).map { $0 + 1 }
            year = Int(parts[3])
            time = parts[4]
        } else if parts.count == 4, parts[0].hasSuffix(","), parts[3] == "GMT" {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let dateParts = parts[1].split(separator: "-").map(String.init)
            guard dateParts.count == 3, let shortYear = Int(dateParts[2]) else { return nil }
            day = Int(dateParts[0])
            month = months.firstIndex(of: dateParts[1]).map { $0 + 1 }
            year = shortYear < 70 ? 2000 + shortYear : 1900 + shortYear
            time = parts[2]
        } else if parts.count == 5 {
            // asctime: Sun Nov  6 08:49:37 1994
            month = months.firstIndex(of: parts[1]).map { $0 + 1 }
            day = Int(parts[2])
            time = parts[3]
            year = Int(parts[4])
        }
        guard let day, let month, let year, let time else { return nil }
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...CivilTime.daysInMonth(year: year, month: month)).contains(day), clock[0] < 24,
            clock[1] < 60, clock[2] <= 60
        else { return nil }
        let seconds = CivilTime.epochSeconds(
            year: year,
            month: month,
            day: day,
            hour: clock[0],
            minute: clock[1],
            second: clock[2]
        )
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// IMF-fixdate, rounded up to the next whole second.
    public static func format(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.up))
        let civil = CivilTime(epochSeconds: seconds)
        let weekday = weekdays[((seconds / 86400) % 7 + 7) % 7]
        return "\(weekday), \(RFC3339.pad(civil.day)) \(months[civil.month - 1]) \(civil.year) "
            + "\(RFC3339.pad(civil.hour)):\(RFC3339.pad(civil.minute)):\(RFC3339.pad(civil.second)) GMT"
    }
}

/// Proleptic Gregorian calendar arithmetic in UTC (H. Hinnant's `days_from_civil`), so timestamp
/// parsing needs no calendar or locale.
struct CivilTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(epochSeconds: Int) {
        let days = Int((Double(epochSeconds) / 86400).rounded(.down))
        let secondsOfDay = epochSeconds - days * 86400
        hour = secondsOfDay / 3600
        minute = secondsOfDay % 3600 / 60
        second = secondsOfDay % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86400 + hour * 3600 + minute * 60 + second
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
