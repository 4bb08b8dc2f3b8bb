import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard billing`: spend per user, tenant, key or model for a billing period.
struct BillingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Spend, tokens, calls and cache savings for a billing period, from the journal.",
        discussion: """
            Summed from the call rows themselves, so the report reconciles exactly with them. \
            Periods are UTC: a month (2026-11), an ISO week (2026-W48) or a day (2026-11-29). \
            Calls whose model had no price are counted apart ("unpriced"): their cost is unknown, \
            not zero.
            """
    )

    @OptionGroup var journal: JournalOptions
    @Option(help: "The period: 2026-11, 2026-W48 or 2026-11-29 (default: this month, UTC).") var period: String?
    @Option(help: "One line per user, tenant, key or model (default: one total).") var by: String?
    @Option(help: "table, csv or json.") var format = "table"

    func run() throws {
        let dimension = try by.map { name in
            guard let dimension = BillingDimension(rawValue: name) else {
                throw ValidationError("--by: expected user, tenant, key or model, got '\(name)'")
            }
            return dimension
        }
        guard ["table", "csv", "json"].contains(format) else {
            throw ValidationError("--format: expected table, csv or json, got '\(format)'")
        }
        let (name, from, to) = try Self.bounds(of: period)
        let lines = try journal.reader().billing(from: from, to: to, by: dimension)
        let title = dimension?.rawValue ?? "period"
        switch format {
        case "json":
            let object: JSONObject = [
                "period": .string(name), "from": .string(RFC3339.format(from)), "to": .string(RFC3339.format(to)),
                "by": dimension.map { .string($0.rawValue) } ?? .null,
                "lines": .array(lines.map { Self.json($0, name: title) }),
            ]
            print(JSONValue.object(object).serialized(.prettyPrinted))
        case "csv":
            print(([title] + Self.columns).joined(separator: ","))
            for line in lines {
                print(
                    ([CSV.field(.string(line.name ?? (dimension == nil ? name : "")))] + Self.cells(line, exact: true))
                        .joined(separator: ",")
                )
            }
        default:
            print("billing \(name) (UTC, \(RFC3339.format(from)) to \(RFC3339.format(to)))  \(journal.path)")
            var table = TextTable([(title, .left)] + Self.columns.map { ($0, .right) })
            for line in lines {
                table.add([line.name ?? (dimension == nil ? name : "(none)")] + Self.cells(line, exact: false))
            }
            if lines.isEmpty { print("no calls in \(name)") } else { print(table.rendered, terminator: "") }
        }
    }

    static let columns = [
        "calls", "cost_usd", "unpriced", "saved_usd", "cache_hits", "input_tokens", "cached_input_tokens",
        "cache_write_tokens", "output_tokens",
    ]

    /// The figures of a line; `exact` writes dollars with all nine decimals (for scripts).
    static func cells(_ line: BillingLine, exact: Bool) -> [String] {
        func money(_ nano: Int64) -> String {
            exact ? String(format: "%d.%09d", nano / 1_000_000_000, nano % 1_000_000_000) : Format.usd(nano)
        }
        func number(_ value: some BinaryInteger) -> String { exact ? "\(value)" : Format.count(Int(value)) }
        return [
            number(line.calls), money(line.costNanoUSD), number(line.unpricedCalls), money(line.savedNanoUSD),
            number(line.cacheHits), number(line.inputTokens), number(line.cachedInputTokens),
            number(line.cacheWriteTokens), number(line.outputTokens),
        ]
    }

    static func json(_ line: BillingLine, name: String) -> JSONValue {
        [
            name: line.name.map(JSONValue.string) ?? .null, "calls": .integer(line.calls),
            "cost_nano_usd": .integer(Int(line.costNanoUSD)), "unpriced_calls": .integer(line.unpricedCalls),
            "saved_nano_usd": .integer(Int(line.savedNanoUSD)), "cache_hits": .integer(line.cacheHits),
            "input_tokens": .integer(Int(line.inputTokens)),
            "cached_input_tokens": .integer(Int(line.cachedInputTokens)),
            "cache_write_tokens": .integer(Int(line.cacheWriteTokens)),
            "output_tokens": .integer(Int(line.outputTokens)),
        ]
    }

    /// The period's name and UTC bounds: `2026-11`, `2026-W48`, `2026-11-29`, or this month.
    static func bounds(of text: String?, now: Date = Date()) throws -> (String, Date, Date) {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let text else {
            let (name, renews) = SwitchboardConfiguration.Budgets.Period.month.period(containing: now)
            return (name, calendar.date(byAdding: .month, value: -1, to: renews)!, renews)
        }
        let numbers = text.split(whereSeparator: { $0 == "-" || $0 == "W" }).map { Int($0) }
        if text.count == 7, numbers.count == 2, let year = numbers[0], let month = numbers[1], (1...12).contains(month)
        {
            let start = calendar.date(from: DateComponents(year: year, month: month, day: 1))!
            return (text, start, calendar.date(byAdding: .month, value: 1, to: start)!)
        }
        if text.count == 8, text.contains("-W"), numbers.count == 2, let year = numbers[0], let week = numbers[1],
            (1...53).contains(week)
        {
            let start = calendar.date(from: DateComponents(weekday: 2, weekOfYear: week, yearForWeekOfYear: year))!
            return (text, start, calendar.date(byAdding: .day, value: 7, to: start)!)
        }
        if text.count == 10, numbers.count == 3, let year = numbers[0], let month = numbers[1], let day = numbers[2],
            let start = calendar.date(from: DateComponents(year: year, month: month, day: day))
        {
            return (text, start, calendar.date(byAdding: .day, value: 1, to: start)!)
        }
        throw ValidationError(
            "--period: expected a month (2026-11), an ISO week (2026-W48) or a day (2026-11-29), got '\(text)'"
        )
    }
}
