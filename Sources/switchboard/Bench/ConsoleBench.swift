import ArgumentParser
import Foundation
import Logging
import SwitchboardConsole
import SwitchboardCore
import SwitchboardJournal
import SwitchboardTesting
import Synchronization

/// `switchboard bench console`: the console on a large journal.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract:
            "The console on a large journal: first frame, frame build, tail lag, idle CPU, memory, bytes per refresh.",
        discussion:
            "Generates the journal (bodies off, spread over the last 24 hours) unless --journal names one to reuse."
    )

    @Flag(help: "A 1,000,000-call journal instead of 10,000,000, and shorter runs.") var quick = false
    @Option(help: "The journal to use; generated when missing.") var journal: String?
    @Option(help: "Calls to generate (default 10,000,000; 1,000,000 with --quick).") var calls: Int?
    @OptionGroup var file: HeadlineFile

    func run() async throws {
        print("machine: \(Machine.description)")
        let count = calls ?? (quick ? 1_000_000 : 10_000_000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-console").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = journal ?? "\(directory)/console-\(count).sqlite"
        if !FileManager.default.fileExists(atPath: path) {
            let needed = Int64(count) * 700
            guard Machine.freeBytes(at: directory) > needed + (1 << 30) else {
                throw CommandFailure("generating \(count) calls needs about \(needed >> 20) MiB free in \(directory)")
            }
            print("generating \(Format.count(count)) calls over the last 24 hours into \(path)…")
            let rate = try await JournalBench.generate(count: count, path: path, seed: 11)
            print(String(format: "  %.0f calls/s", rate))
        }
        // The journal as measured, which may be one reused at another size than `count`, and the
        // calls in the window the frames show (a reused journal's window empties as time passes).
        let reader = try JournalReader.open(path: path)
        let inWindow = try reader.aggregate(from: Date().addingTimeInterval(-900), to: Date())[""]?.calls ?? 0
        let size =
            "\(Format.count(try reader.callCount())) calls, \(Self.fileMiB(path)) MiB, "
            + "\(Format.count(inWindow)) in the last 15 minutes"
        var table = TextTable([("benchmark", .left), ("result", .right), ("goal", .left)])
        let configuration = SwitchboardConfiguration()

        // Start to the first full frame: open the journal, read the overview, draw it.
        let clock = ContinuousClock()
        let start = clock.now
        let app = ConsoleApp(
            journal: ConsoleJournal(path: path),
            configuration: configuration,
            theme: .mono,
            ascii: false
        )
        app.reload()
        let previous = app.frame(width: 160, height: 48)
        let firstFrame = clock.now - start
        table.add(["start to the first full frame (160×48)", Self.ms(firstFrame), "< 1 s"])

        let resident = Self.residentMiB()

        // Tail lag at 1,000 calls/s: the time from a call's commit to the first frame that counts
        // it (the figures and the calls list include it), the journal checked every 150 ms as
        // the console does. The frames of that run are the ones timed: a frame is built only when
        // the journal changed, so its cost is what reading the changes and drawing them takes.
        let run = try await Self.tailLag(path: path, app: app, seconds: quick ? 3 : 10, previous: previous)
        let (lags, cells, reads, draws) = (run.lags, run.cells, run.reads, run.draws)
        var builds = Timings()
        builds.seconds = zip(reads.seconds, draws.seconds).map(+)
        table.add([
            "frame build at 1,000 calls/s (read the changes + draw), p50 / p99",
            "\(Self.ms(builds.percentile(0.5))) / \(Self.ms(builds.percentile(0.99)))", "< 10 ms",
        ])
        table.add([
            "  of which reading the journal, p50 / p99",
            "\(Self.ms(reads.percentile(0.5))) / \(Self.ms(reads.percentile(0.99)))", "–",
        ])
        table.add([
            "  of which drawing the cells, p50 / p99",
            "\(Self.ms(draws.percentile(0.5))) / \(Self.ms(draws.percentile(0.99)))", "–",
        ])
        table.add(["resident memory", "\(resident) MiB", "< 100 MB"])
        table.add([
            "tail lag at 1,000 calls/s (commit → screen), p50 / p99",
            "\(Self.ms(lags.percentile(0.5))) / \(Self.ms(lags.percentile(0.99)))",
            "p99 < 250 ms",
        ])
        table.add([
            "cells written per refresh at that load (160×48 = 7,680)", "p50 \(Int(cells.percentile(0.5)))", "–",
        ])

        // Idle: the real loop on a headless terminal with nothing arriving.
        let idle = Self.idleCPU(app: app, seconds: quick ? 2 : 5)
        table.add([
            "idle CPU (loop checking every 150 ms, nothing new)", String(format: "%.2f %%", idle * 100), "< 1 %",
        ])
        print("journal: \(size); window 15m; theme mono")
        print(table.rendered, terminator: "")
        let features = "\(size), 160×48, window 15m"
        var headlines = Headlines()
        headlines.add(
            Headline(
                "console",
                "start to the first full frame",
                Self.ms(firstFrame),
                goal: "< 1 s",
                met: firstFrame < .seconds(1),
                features: features
            )
        )
        headlines.add(
            Headline(
                "console",
                "frame build at 1,000 calls/s (read + draw)",
                builds.summary,
                goal: "< 10 ms",
                met: builds.percentile(0.99) < 0.010,
                features: features
            )
        )
        headlines.add(
            Headline(
                "console",
                "tail lag at 1,000 calls/s, commit → screen",
                "p50 \(Self.ms(lags.percentile(0.5))), p99 \(Self.ms(lags.percentile(0.99)))",
                goal: "p99 < 250 ms",
                met: lags.percentile(0.99) < 0.250,
                features: "checked every 150 ms"
            )
        )
        headlines.add(
            Headline(
                "console",
                "cells written per refresh at that load",
                "p50 \(Int(cells.percentile(0.5))) of 7,680",
                features: "changed cells only"
            )
        )
        headlines.add(
            Headline(
                "console",
                "idle CPU",
                String(format: "%.2f %%", idle * 100),
                goal: "< 1 %",
                met: idle < 0.01,
                features: "nothing arriving"
            )
        )
        headlines.add(
            Headline(
                "console",
                "resident memory",
                "\(resident) MiB",
                goal: "< 100 MB",
                met: resident * 1_048_576 < 100_000_000,
                features: features
            )
        )
        try headlines.save(file)
    }

    static func ms(_ duration: Duration) -> String { String(format: "%.1f ms", duration.secondsDouble * 1000) }
    static func ms(_ seconds: Double) -> String { seconds.isFinite ? String(format: "%.1f ms", seconds * 1000) : "–" }

    static func residentMiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    static func fileMiB(_ path: String) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return Int(size >> 20)
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func tailLag(path: String, app: ConsoleApp, seconds: Double, previous: CellBuffer) async throws
        -> (lags: [Double], cells: [Double], reads: Timings, draws: Timings)
    {
        let writer = JournalWriter(journal: try Journal.open(JournalConfiguration(path: path)), logger: .bench)
        let committed = Commits()
        let clock = ContinuousClock()
        let journal = ConsoleJournal(path: path)
        _ = journal.changed()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            group.addTask {
                let total = Int(seconds * 1000)
                var generator = SyntheticCalls(
                    count: total,
                    seed: 77,
                    options: {
                        var o = SyntheticCalls.Options(start: Date(), span: .seconds(seconds))
                        o.idPrefix = "req_tail\(Int(Date().timeIntervalSince1970))"
                        return o
                    }()
                )
                let begin = clock.now
                var index = 0
                // Each call written durably on its own task, one a millisecond: the writer commits
                // them in groups, and each write returns once its call is committed.
                try await withThrowingTaskGroup(of: Void.self) { writes in
                    while var record = generator.next() {
                        try await clock.sleep(until: begin + .milliseconds(index))
                        record.startedAt = Date()
                        record.endedAt = record.startedAt
                        let call = record
                        writes.addTask {
                            try await writer.write(call)
                            committed.times.withLock { $0[call.requestID] = clock.now }
                        }
                        index += 1
                    }
                    try await writes.waitForAll()
                }
                committed.done.withLock { $0 = true }
            }
            var lags: [Double] = []
            var cells: [Double] = []
            var reads = Timings()
            var draws = Timings()
            var seen = Set<String>()
            var last = previous
            let end = clock.now + .seconds(seconds + 10)
            while clock.now < end {
                if committed.done.withLock({ $0 }), seen.count == committed.times.withLock({ $0.count }) { break }
                try await clock.sleep(for: .milliseconds(150))
                guard journal.changed() else { continue }
                reads.measure { app.reload() }
                var frame = last
                draws.measure { frame = app.frame(width: 160, height: 48) }
                let shownAt = clock.now
                cells.append(Double(frame.changes(since: last).count))
                last = frame
                let newest = committed.times.withLock { $0 }
                for (id, at) in newest where !seen.contains(id) {
                    seen.insert(id)
                    lags.append((shownAt - at).secondsDouble)
                }
            }
            writer.finish()
            try await group.waitForAll()
            return (lags, cells, reads, draws)
        }
    }

    /// When each call of the tail-lag run was committed.
    final class Commits: Sendable {
        let times = Mutex<[String: ContinuousClock.Instant]>([:])
        let done = Mutex(false)
    }

    /// The console's loop on its own thread, as `switchboard console` runs it.
    final class Loop: @unchecked Sendable {
        // Touched by the loop's thread only, until `done` is signalled.
        let app: ConsoleApp
        let terminal: HeadlessTerminal
        let done = DispatchSemaphore(value: 0)

        init(app: ConsoleApp, terminal: HeadlessTerminal) {
            self.app = app
            self.terminal = terminal
        }
    }

    static func idleCPU(app: ConsoleApp, seconds: Double) -> Double {
        let loop = Loop(app: app, terminal: HeadlessTerminal(width: 160, height: 48, waits: true))
        Thread.detachNewThread {
            loop.app.run(on: loop.terminal, refresh: .milliseconds(150))
            loop.done.signal()
        }
        // The first read and frame are not idle: measure after them.
        Thread.sleep(forTimeInterval: 1.5)
        let before = cpuSeconds()
        let started = Date()
        Thread.sleep(forTimeInterval: seconds)
        let used = cpuSeconds() - before
        let elapsed = Date().timeIntervalSince(started)
        loop.terminal.press(.character("q"))
        loop.done.wait()
        return used / elapsed
    }
}
