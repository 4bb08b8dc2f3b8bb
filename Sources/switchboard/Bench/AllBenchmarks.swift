import ArgumentParser
import Foundation
import Glibc
import SwitchboardWire
import Synchronization

/// `switchboard bench` (`bench all`): every benchmark, each in a process of its own, and one
/// table of their headline figures with the machine and the features that were on.
struct AllBenchmarks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Every benchmark, one after another, and one table of their headline figures.",
        discussion: """
            Each benchmark runs as `switchboard bench NAME` in a process of its own, so one's \
            threads and memory do not count against the next, and leaves its own full table in \
            --output. The journal and console benchmarks share one large generated journal \
            (10,000,000 calls, about 6 GB and 25 minutes here; 1,000,000 with --quick), kept when \
            --journal names it. The Redis rows need redis-server on PATH. Build with -c release \
            first: a debug build's numbers say little.
            """
    )

    @Flag(help: "A short run: smaller journals, fewer operations, 2 s per gateway rate.") var quick = false
    @Option(help: "Only these benchmarks, comma-separated (\(Part.all.map(\.name).joined(separator: ", "))).")
    var only: String?
    @Option(help: "The large journal the journal and console benchmarks share; generated when missing, then kept.")
    var journal: String?
    @Option(help: "Keep each benchmark's own output (its full table) in this folder.") var output: String?
    @Option(help: "text, markdown (the README's table) or json.") var format: TableFormat = .text

    enum TableFormat: String, ExpressibleByArgument, CaseIterable { case text, markdown, json }

    /// One benchmark as a part of the whole: the subcommand and its arguments.
    struct Part: Sendable {
        var name: String
        /// A program it needs on `PATH`; without it the part is listed as not run.
        var needs: String?
        var arguments: @Sendable (_ quick: Bool, _ journal: String) -> [String]

        static let all: [Part] = [
            Part(name: "validation") { quick, _ in quick ? ["--quick"] : [] },
            Part(name: "cache") { quick, _ in quick ? ["--count", "5000"] : [] },
            Part(name: "budget") { quick, _ in quick ? ["--calls", "1000"] : [] },
            Part(name: "redis", needs: "redis-server") { quick, _ in quick ? ["--quick"] : [] },
            Part(name: "pipeline") { quick, _ in quick ? ["--calls", "300"] : [] },
            Part(name: "gateway") { quick, _ in quick ? ["--quick"] : [] },
            Part(name: "journal") { quick, journal in ["--journal", journal] + (quick ? ["--quick"] : []) },
            Part(name: "console") { quick, journal in ["--journal", journal] + (quick ? ["--quick"] : []) },
        ]
    }

    func validate() throws {
        _ = try parts()
    }

    func parts() throws -> [Part] {
        guard let only else { return Part.all }
        let names = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let unknown = names.first(where: { name in !Part.all.contains { $0.name == name } }) {
            throw ValidationError(
                "no benchmark named '\(unknown)'; pick from \(Part.all.map(\.name).joined(separator: ", "))"
            )
        }
        return Part.all.filter { names.contains($0.name) }
    }

    func run() async throws {
        let parts = try parts()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(getpid())")
            .path
        // Each benchmark's output: kept where --output says, or while a failure needs reading.
        let directory = output ?? scratch + "-output"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let journalPath = journal ?? "\(scratch)/large.sqlite"
        let load = Self.loadAverage()
        let clock = ContinuousClock()
        let started = clock.now
        let date = Date()
        // Progress goes to standard output beside a text table, to standard error beside the others.
        let progress = format == .text ? FileHandle.standardOutput : FileHandle.standardError
        let log = { (line: String) in progress.write(Data((line + "\n").utf8)) }
        let running = Running()
        running.forwardSignals()

        var rows: [Headline] = []
        var failed: [String] = []
        for part in parts {
            let arguments = ["bench", part.name] + part.arguments(quick, journalPath)
            if let needs = part.needs, Self.find(needs) == nil {
                rows.append(Headline(part.name, "(every row)", "not run: \(needs) is not on PATH", features: ""))
                log("\(part.name): not run (\(needs) is not on PATH)")
                continue
            }
            let headlines = "\(scratch)/\(part.name).json"
            let out = "\(directory)/\(part.name).txt"
            let errors = "\(directory)/\(part.name).err"
            let began = clock.now
            log("\(part.name): switchboard \(arguments.joined(separator: " "))")
            let child = try ChildProcess.spawn(
                [Machine.executable] + arguments + ["--headlines", headlines],
                output: .file(out),
                errors: .file(errors)
            )
            running.child.withLock { $0 = child }
            let status = await child.wait()
            running.child.withLock { $0 = nil }
            let seconds = Int((clock.now - began).secondsDouble.rounded())
            if status == 0, let measured = try? Headlines.load(path: headlines) {
                rows += measured
                log("\(part.name): \(measured.count) rows in \(seconds) s")
            } else {
                failed.append(part.name)
                let tail = Self.lastLines(of: errors, count: 3)
                rows.append(
                    Headline(part.name, "(every row)", "failed (exit \(status)); see \(errors)", features: "")
                )
                log("\(part.name): failed after \(seconds) s (exit \(status))\(tail.isEmpty ? "" : ":\n" + tail)")
            }
        }

        let took = Int((clock.now - started).secondsDouble.rounded())
        let header = [
            "machine: \(Machine.description); load average \(load) at the start",
            "switchboard bench\(quick ? " --quick" : ""), \(Self.timestamp(date)), "
                + "\(parts.count) benchmark\(parts.count == 1 ? "" : "s") in "
                + (took < 60 ? "\(took) s" : "\(took / 60) min \(took % 60) s"),
        ]
        print(Self.render(rows, header: header, format: format), terminator: "")
        if output == nil && failed.isEmpty {
            try? FileManager.default.removeItem(atPath: directory)
        } else if format == .text {
            print("each benchmark's own output: \(directory)/NAME.txt (errors in NAME.err)")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// The table of every headline, with the features per area under it.
    static func render(_ rows: [Headline], header: [String], format: TableFormat) -> String {
        // Grouped by area, in the order the areas first came (a stable sort keeps each one's order).
        let areas = rows.map(\.area).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let rows = rows.enumerated().sorted {
            (areas.firstIndex(of: $0.element.area)!, $0.offset) < (areas.firstIndex(of: $1.element.area)!, $1.offset)
        }.map(\.element)
        let goals = rows.compactMap(\.met)
        let tally = "goals met: \(goals.filter { $0 }.count) of \(goals.count)"
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            struct Report: Encodable {
                var header: [String]
                var rows: [Headline]
            }
            let data = (try? encoder.encode(Report(header: header, rows: rows))) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .markdown:
            func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
            var lines = header.map { $0 + "  " }
            lines.append("")
            lines.append("| area | benchmark | result | goal | met | features |")
            lines.append("|---|---|---|---|---|---|")
            for row in rows {
                let met = row.met.map { $0 ? "yes" : "**no**" } ?? "–"
                let cells = [row.area, row.benchmark, row.result, row.goal, met, row.features]
                lines.append("| " + cells.map(cell).joined(separator: " | ") + " |")
            }
            lines.append("")
            lines.append(tally)
            return lines.joined(separator: "\n") + "\n"
        case .text:
            var table = TextTable([
                ("area", .left), ("benchmark", .left), ("result", .left), ("goal", .left), ("met", .left),
            ])
            for row in rows {
                table.add([row.area, row.benchmark, row.result, row.goal, row.met.map { $0 ? "yes" : "NO" } ?? "–"])
            }
            var features: [(area: String, features: [String])] = []
            for row in rows where !row.features.isEmpty {
                if let index = features.firstIndex(where: { $0.area == row.area }) {
                    if !features[index].features.contains(row.features) {
                        features[index].features.append(row.features)
                    }
                } else {
                    features.append((row.area, [row.features]))
                }
            }
            let width = features.map(\.area.count).max() ?? 0
            let on = features.map { area in
                "  " + area.area.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + area.features.joined(separator: "; ")
            }
            return ([""] + header + [""]).joined(separator: "\n") + "\n" + table.rendered + "\n" + tally + "\n"
                + (on.isEmpty ? "" : "features on:\n" + on.joined(separator: "\n") + "\n")
        }
    }

    /// The benchmark running now, for Ctrl-C or SIGTERM to stop it too.
    final class Running: @unchecked Sendable {
        let child = Mutex<ChildProcess?>(nil)
        // Set once, before any signal can arrive; kept only so the sources stay alive.
        private var sources: [any DispatchSourceSignal] = []

        func forwardSignals() {
            sources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in
                    child.withLock { $0?.signal(SIGTERM, group: true) }
                    FileHandle.standardError.write(Data("switchboard bench: stopped\n".utf8))
                    Glibc.exit(130)
                }
                source.resume()
                return source
            }
        }
    }

    static func find(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    static func lastLines(of path: String, count: Int) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(count).map { "  " + $0 }.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
