import ArgumentParser
import Foundation
import Logging
import SwitchboardJournal
import SwitchboardTesting
import SwitchboardWire

/// `switchboard journal`: read, search, summarise, export and prune the call journal.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Read, search, summarise, export and prune the call journal.",
        subcommands: [
            TailCommand.self, ShowCommand.self, SearchCommand.self, StatsCommand.self, ExportCommand.self,
            PruneCommand.self,
            SchemaCommand.self, GenerateCommand.self,
        ]
    )
}

struct JournalOptions: ParsableArguments {
    @Option(help: "The journal file (default $SWITCHBOARD_JOURNAL, else ./switchboard.journal.sqlite).")
    var journal: String?

    var path: String {
        journal ?? ProcessInfo.processInfo.environment["SWITCHBOARD_JOURNAL"] ?? "./switchboard.journal.sqlite"
    }

    func reader() throws -> JournalReader {
        do {
            return try JournalReader.open(path: path)
        } catch {
            throw CommandFailure(error.message)
        }
    }
}

/// A failure already explained to the user: printed as `error: …`, exit code 1.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

struct CallFilterOptions: ParsableArguments {
    @Option(help: "Only this user.") var user: String?
    @Option(help: "Only this model (answered, else requested).") var model: String?
    @Option(help: "Only this route.") var route: String?
    @Option(
        help:
            "An outcome (ok, error, blocked, cached, rate_limited, budget, invalid_output, errors), an HTTP status (429) or a class (5xx)."
    )
    var status: String?

    func filter(text: String? = nil) -> CallFilter {
        CallFilter(userID: user, model: model, route: route, status: status, text: text)
    }
}

enum CallLine {
    static func render(_ call: CallSummary) -> String {
        let model = [call.provider, call.model].compactMap { $0 }.joined(separator: "/")
        let status = call.httpStatus.map { " \($0)" } ?? ""
        var parts = [
            Format.timestamp(call.startedAt), call.requestID, call.userID ?? "-", model.isEmpty ? "-" : model,
            "\(call.outcome)\(status)", "\(call.attempts) att", Format.milliseconds(call.latencyMilliseconds),
            "in \(call.tokens.totalInput) out \(call.tokens.output)", Format.usd(call.costNanoUSD),
        ]
        if let error = call.errorClass { parts.append(error) }
        return parts.joined(separator: "  ")
    }
}

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the latest calls; with -f, keep printing new ones as they are journaled."
    )

    @OptionGroup var journal: JournalOptions
    @OptionGroup var filter: CallFilterOptions
    @Flag(name: .shortAndLong, help: "Follow: print new calls as they arrive.") var follow = false
    @Option(name: [.customShort("n"), .long], help: "How many of the latest calls to print first.") var limit = 20
    @Flag(help: "One JSON object per line.") var json = false

    func run() async throws {
        let reader = try journal.reader()
        let filter = filter.filter()
        let latest = try reader.calls(matching: filter, limit: limit)
        var watermark = try reader.lastCallID()
        for call in latest.reversed() { emit(call) }
        guard follow else { return }
        var version = try reader.dataVersion()
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(150))
            let current = try reader.dataVersion()
            guard current != version else { continue }
            version = current
            while true {
                let fresh = try reader.calls(after: watermark, limit: 1000)
                guard let last = fresh.last else { break }
                watermark = last.id
                let matching = try reader.calls(matching: filter, after: fresh[0].id - 1, limit: fresh.count).filter {
                    $0.id <= last.id
                }
                for call in matching { emit(call) }
                if fresh.count < 1000 { break }
            }
        }
    }

    func emit(_ call: CallSummary) {
        let line = json ? call.json.serialized() : CallLine.render(call)
        printNow(line + "\n")
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Everything about one call: request, response, attempts, events, cost and verdicts."
    )

    @OptionGroup var journal: JournalOptions
    @Argument(help: "The request id (or a unique prefix of it).") var requestID: String
    @Flag(help: "As JSON.") var json = false

    func run() throws {
        let reader = try journal.reader()
        guard let detail = try reader.call(requestID: requestID) else {
            throw CommandFailure(
                "no call \(requestID) in \(journal.path); `switchboard journal search` finds calls by their text"
            )
        }
        if json {
            print(detail.json.serialized(.prettyPrinted))
            return
        }
        let call = detail.summary
        print(
            "call \(call.requestID)  \(call.outcome)\(call.httpStatus.map { " \($0)" } ?? "")  \(Format.timestamp(call.startedAt)) UTC"
        )
        print(
            "  user \(call.userID ?? "-")  tenant \(call.tenantID ?? "-")  origin \(call.origin)  route \(call.route ?? "-")"
        )
        if let session = call.sessionID { print("  session \(session) step \(call.step.map(String.init) ?? "-")") }
        print(
            "  model \(call.modelRequested ?? "-") → \(call.provider ?? "-")/\(call.modelUsed ?? "-")\(call.fellBack ? " (fell back)" : "")  stream \(call.stream)"
        )
        print(
            "  \(call.attempts) attempts  latency \(Format.milliseconds(call.latencyMilliseconds))  ttft \(Format.milliseconds(call.timeToFirstTokenMilliseconds))  paced \(Format.milliseconds(call.pacedMilliseconds))"
        )
        let tokens = call.tokens
        print(
            "  tokens in \(tokens.input)  cached \(tokens.cachedInput)  cache write 5m \(tokens.cacheWrite5m) 1h \(tokens.cacheWrite1h)  out \(tokens.output) (reasoning \(tokens.reasoning))"
        )
        print(
            "  cost \(Format.usd(call.costNanoUSD))  saved \(Format.usd(call.savedNanoUSD))  cache \(call.cache ?? "-")"
        )
        if let error = call.errorClass { print("  error \(error): \(call.errorMessage ?? "")") }
        if !detail.attempts.isEmpty {
            print("attempts")
            for attempt in detail.attempts {
                let status = attempt.httpStatus.map(String.init) ?? attempt.errorClass ?? "-"
                print(
                    "  #\(attempt.number) \(Format.timestamp(attempt.startedAt))  \(attempt.provider)/\(attempt.model)  \(status)  \(Format.milliseconds(attempt.latencyMilliseconds))  waited \(Format.milliseconds(attempt.backoffMilliseconds))\(attempt.retryAfterMilliseconds.map { "  retry-after \(Format.milliseconds($0))" } ?? "")\(attempt.providerRequestID.map { "  provider id \($0)" } ?? "")"
                )
            }
        }
        if !detail.events.isEmpty {
            print("events")
            for event in detail.events {
                print(
                    "  \(Format.timestamp(event.at))  \(event.kind)  \(event.scope)  \(event.detail?.serialized() ?? "")"
                )
            }
        }
        for (title, value) in [("moderation", detail.moderation), ("validation", detail.validation)] {
            if let value { print("\(title) \(value.serialized())") }
        }
        if let request = detail.requestBody { print("request\n  \(request)") }
        if let response = detail.responseBody { print("response\n  \(response)") }
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find calls by words in their stored request, response or error (full-text index)."
    )

    @OptionGroup var journal: JournalOptions
    @OptionGroup var filter: CallFilterOptions
    @Argument(help: "Words that must all appear.") var words: [String]
    @Option(name: [.customShort("n"), .long], help: "At most this many, newest first.") var limit = 50
    @Flag(help: "One JSON object per line.") var json = false

    func run() throws {
        let reader = try journal.reader()
        for call in try reader.calls(matching: filter.filter(text: words.joined(separator: " ")), limit: limit) {
            print(json ? call.json.serialized() : CallLine.render(call))
        }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Calls, errors, latency percentiles, tokens and spend over a window, from the rollups."
    )

    @OptionGroup var journal: JournalOptions
    @Option(help: "The window ending now: 5m, 15m, 1h, 6h, 24h, 7d, …") var window = "1h"
    @Option(help: "Group by user, tenant, route, model, provider or origin.") var by: String?
    @Flag(help: "As JSON.") var json = false

    func run() throws {
        guard let length = Format.parseDuration(window), length > .zero else {
            throw ValidationError("--window: expected a duration such as 15m, 1h, 24h or 7d, got '\(window)'")
        }
        var dimension: RollupDimension?
        if let by {
            guard let parsed = RollupDimension(rawValue: by) else {
                throw ValidationError(
                    "--by: expected one of \(RollupDimension.allCases.map(\.rawValue).joined(separator: ", ")), got '\(by)'"
                )
            }
            dimension = parsed
        }
        let now = Date()
        let totals = try journal.reader().aggregate(
            from: now.addingTimeInterval(-length.secondsDouble),
            to: now,
            by: dimension
        )
        let rows = totals.sorted { $0.value.calls > $1.value.calls }
        if json {
            print(
                JSONValue.array(rows.map { Self.json(key: $0.key, $0.value, dimension: dimension) }).serialized(
                    .prettyPrinted
                )
            )
            return
        }
        var table = TextTable([
            (dimension?.rawValue ?? "all", .left), ("calls", .right), ("errors", .right), ("p50", .right),
            ("p90", .right),
            ("p99", .right), ("ttft p50", .right), ("in tok", .right), ("out tok", .right), ("spend", .right),
            ("saved", .right),
            ("cache hit", .right),
        ])
        for (key, counters) in rows {
            table.add([
                key.isEmpty ? (dimension == nil ? "all" : "-") : key, Format.count(counters.calls),
                Format.percent(counters.failures, of: counters.calls),
                Format.milliseconds(counters.latency.quantile(0.5)),
                Format.milliseconds(counters.latency.quantile(0.9)),
                Format.milliseconds(counters.latency.quantile(0.99)),
                Format.milliseconds(counters.timeToFirstToken.quantile(0.5)),
                Format.count(
                    counters.inputTokens + counters.cachedInputTokens + counters.cacheWriteTokens,
                    short: true
                ),
                Format.count(counters.outputTokens, short: true),
                Format.usd(counters.costNanoUSD)
                    + (counters.costUnknown > 0 ? " +\(counters.costUnknown) unknown" : ""),
                Format.usd(counters.savedNanoUSD), Format.percent(counters.cacheHits, of: counters.calls),
            ])
        }
        print("window \(window) ending \(Format.timestamp(now)) UTC")
        print(table.rendered, terminator: "")
    }

    static func json(key: String, _ counters: RollupCounters, dimension: RollupDimension?) -> JSONValue {
        func quantile(_ histogram: LogHistogram, _ q: Double) -> JSONValue {
            histogram.quantile(q).map { .double($0) } ?? .null
        }
        return [
            .init(stringLiteral: dimension?.rawValue ?? "all"): .string(key), "calls": .integer(counters.calls),
            "ok": .integer(counters.ok), "failures": .integer(counters.failures),
            "error_classes": .object(
                JSONObject(
                    uniqueKeysWithValues: counters.errorClasses.sorted { $0.key < $1.key }.map {
                        ($0.key, .integer($0.value))
                    }
                )
            ),
            "latency_p50_ms": quantile(counters.latency, 0.5), "latency_p90_ms": quantile(counters.latency, 0.9),
            "latency_p99_ms": quantile(counters.latency, 0.99), "ttft_p50_ms": quantile(counters.timeToFirstToken, 0.5),
            "input_tokens": .integer(counters.inputTokens), "cached_input_tokens": .integer(counters.cachedInputTokens),
            "cache_write_tokens": .integer(counters.cacheWriteTokens), "output_tokens": .integer(counters.outputTokens),
            "cost_nano_usd": .integer(Int(counters.costNanoUSD)), "cost_unknown_calls": .integer(counters.costUnknown),
            "saved_nano_usd": .integer(Int(counters.savedNanoUSD)), "cache_hits": .integer(counters.cacheHits),
            "retried": .integer(counters.retried), "fell_back": .integer(counters.fellBack),
            "paced": .integer(counters.paced),
        ]
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write calls as CSV or JSON lines."
    )

    @OptionGroup var journal: JournalOptions
    @Option(help: "csv or jsonl.") var format = "jsonl"
    @Option(help: "From this time (RFC 3339, a date, or an age such as 24h).") var since: String?
    @Option(help: "Until this time (exclusive).") var until: String?
    @Flag(help: "Include the stored request and response bodies.") var bodies = false
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        guard ["csv", "jsonl"].contains(format) else {
            throw ValidationError("--format: expected csv or jsonl, got '\(format)'")
        }
        let sinceDate = try since.map { text in
            guard let date = Format.parseTime(text) else {
                throw ValidationError("--since: expected a time, a date or an age, got '\(text)'")
            }
            return date
        }
        let untilDate = try until.map { text in
            guard let date = Format.parseTime(text) else {
                throw ValidationError("--until: expected a time, a date or an age, got '\(text)'")
            }
            return date
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw CommandFailure("cannot create \(output)")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            handle = FileHandle.standardOutput
        }
        let csv = format == "csv"
        let withBodies = bodies
        let columns = CallSummary.jsonKeys + (withBodies ? ["request_body", "response_body"] : [])
        if csv { handle.write(Data((columns.joined(separator: ",") + "\n").utf8)) }
        try journal.reader().forEachCall(since: sinceDate, until: untilDate, withBodies: withBodies) {
            call,
            request,
            response in
            guard case .object(var object) = call.json else { return }
            if withBodies {
                object["request_body"] = request.map(JSONValue.string) ?? .null
                object["response_body"] = response.map(JSONValue.string) ?? .null
            }
            let line =
                csv
                ? columns.map { CSV.field(object[$0] ?? .null) }.joined(separator: ",")
                : JSONValue.object(object).serialized()
            handle.write(Data((line + "\n").utf8))
        }
    }
}

enum CSV {
    /// One RFC 4180 field.
    static func field(_ value: JSONValue) -> String {
        let text: String
        switch value {
        case .null: return ""
        case .string(let string): text = string
        default: text = value.serialized()
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete raw calls older than an age; rollups are kept."
    )

    @OptionGroup var journal: JournalOptions
    @Option(help: "Age, e.g. 30d.") var olderThan: String

    func run() async throws {
        guard let age = Format.parseDuration(olderThan), age > .zero else {
            throw ValidationError("--older-than: expected an age such as 30d or 12h, got '\(olderThan)'")
        }
        do {
            let journal = try Journal.open(JournalConfiguration(path: journal.path))
            let deleted = try await journal.prune(before: Date().addingTimeInterval(-age.secondsDouble))
            print("pruned \(Format.count(deleted)) calls older than \(olderThan) from \(journal.path); rollups kept")
        } catch {
            throw CommandFailure(error.message)
        }
    }
}

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the journal's schema with every column documented."
    )

    func run() {
        print(
            "-- Switchboard journal schema, version \(JournalSchema.version). Times are Unix ms (UTC); money is nano-USD."
        )
        print(JournalSchema.documentedSQL)
    }
}

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write synthetic calls (for tests and benchmarks).",
        shouldDisplay: false
    )

    @OptionGroup var journal: JournalOptions
    @Option(help: "How many calls.") var count = 1000
    @Option(help: "Seed.") var seed = 1
    @Option(help: "Spread the calls over this span ending now.") var span = "1h"
    @Option(help: "Distinct users.") var users = 50
    @Option(help: "Prefix of request ids (distinct per writer).") var idPrefix = "req_syn"
    @Flag(help: "Store ~2 KB requests and ~1 KB responses.") var bodies = false
    @Flag(help: "Commit each call before the next (durable writes).") var durable = false
    @Option(help: "Write for this long instead of --count calls (e.g. 60s).") var duration: String?

    func run() async throws {
        guard let spanDuration = Format.parseDuration(span) else {
            throw ValidationError("--span: expected a duration, got '\(span)'")
        }
        var options = SyntheticCalls.Options(
            start: Date().addingTimeInterval(-spanDuration.secondsDouble),
            span: spanDuration
        )
        options.users = users
        options.bodies = bodies
        options.idPrefix = idPrefix
        var deadline: ContinuousClock.Instant?
        if let duration {
            guard let length = Format.parseDuration(duration) else {
                throw ValidationError("--duration: expected a duration, got '\(duration)'")
            }
            deadline = .now + length
        }
        var calls = SyntheticCalls(count: deadline == nil ? count : 1 << 40, seed: UInt64(seed), options: options)
        let journalFile: Journal
        do {
            journalFile = try Journal.open(JournalConfiguration(path: journal.path))
        } catch {
            throw CommandFailure(error.message)
        }
        let writer = JournalWriter(journal: journalFile, logger: Logger(label: "switchboard.journal"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            while let call = calls.next() {
                if let deadline, ContinuousClock.now >= deadline { break }
                if durable {
                    try await writer.write(call)
                } else {
                    await writer.submit(.call(call))
                }
            }
            writer.finish()
            try await group.waitForAll()
        }
        print(
            "wrote \(writer.statistics.writtenCalls) calls to \(journal.path) in \(writer.statistics.batches) transactions"
        )
    }
}
