import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardConfigReader
import SwitchboardConsole
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardWire
import Synchronization
import UnixSignals

/// `switchboard demo`: the whole product on one machine, offline — the provider simulator with
/// real limits and faults, a gateway in front of it, users sending traffic through the gateway,
/// and the console on the demo's journal.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the simulator, a gateway and 20 users' traffic, and watch it in the console.",
        discussion: """
            Everything runs in this process on loopback: the provider simulator (realistic limits, a few \
            percent of 5xx, each provider overloaded for a while in turn), a gateway on --gateway-port, and \
            users with different habits (FAQ questions that hit the cache, a heavy user who runs into his \
            limit and budget, unsafe prompts, structured output with invalid answers, bursts that drain \
            provider headroom, multi-step sessions, streaming, both provider formats). The console opens \
            on the demo's journal; q (or Ctrl-C) stops everything and prints a summary. The configuration \
            files it runs are written beside the journal. Outside clients can join with the printed key.
            """
    )

    @Flag(help: "No console: run headless (for scripts and CI) and print progress every 10 s.")
    var noConsole = false

    @Option(help: "How long the traffic runs, e.g. 40s or 5m (default: until you quit; 60s with --no-console).")
    var duration: String?

    @Option(help: "The demo's journal; its directory also gets the configuration, state and log files.")
    var journal = "switchboard-demo/journal.sqlite"

    @Option(help: "The gateway's port; 0 picks a free one.")
    var gatewayPort = 8080

    @Option(help: "How many users send traffic (at least 7: one of each habit).")
    var users = 20

    @Option(help: "Seed for the simulator and the users' choices.")
    var seed = 42

    @Option(help: "Console theme: default, light, high-contrast, amber, mono.")
    var theme: String?

    @Flag(help: "Console with ASCII glyphs only.")
    var ascii = false

    func validate() throws {
        guard users >= 7, users <= 500 else { throw ValidationError("--users must be between 7 and 500") }
        guard (0...65_535).contains(gatewayPort) else { throw ValidationError("--gateway-port must be 0-65535") }
        if let duration, Self.duration(duration) == nil {
            throw ValidationError("--duration: expected a duration such as 40s or 5m, got '\(duration)'")
        }
    }

    static func duration(_ text: String) -> Duration? {
        guard let value = GoDuration.parse(text), value > .zero else { return nil }
        return value
    }

    func run() async throws {
        let journalPath = URL(fileURLWithPath: journal).standardizedFileURL.path
        let directory = (journalPath as NSString).deletingLastPathComponent
        // Before anything starts: the console's terminal and theme.
        let look = noConsole ? nil : try ConsoleLauncher.look(theme: theme, ascii: ascii)
        let files = try DemoFiles(directory: directory)
        let logger = files.logger(label: "switchboard.demo", level: .notice)
        let traffic = noConsole ? (duration.flatMap(Self.duration) ?? .seconds(60)) : duration.flatMap(Self.duration)

        // The simulator first: the gateway's configuration names its address.
        let simulatorYAML = DemoSetup.simulatorYAML(seed: UInt64(bitPattern: Int64(seed)))
        let simulatorConfiguration: SimulatorConfiguration
        do {
            simulatorConfiguration = try SimulatorConfiguration(
                yaml: ConfigNode.parse(yaml: simulatorYAML, file: files.simulatorConfig)
            )
        } catch {
            throw CommandFailure("the demo's simulator configuration is invalid: \(error)")
        }
        try files.write(simulatorYAML, to: files.simulatorConfig)
        let simulator = try await RunningServices.start(name: "simulator", logger: logger) { onPort in
            [
                SimulatorServer.makeApplication(
                    simulator: Simulator(configuration: simulatorConfiguration),
                    logger: logger,
                    onServerRunning: onPort
                )
            ]
        }

        let yaml = DemoSetup.switchboardYAML(
            directory: directory,
            journal: journalPath,
            simulator: "http://127.0.0.1:\(simulator.port)",
            gatewayPort: gatewayPort
        )
        try files.write(yaml, to: files.switchboardConfig)
        let configuration: SwitchboardConfiguration
        do {
            configuration = try SwitchboardConfiguration.load(path: files.switchboardConfig)
        } catch {
            await simulator.stop()
            throw CommandFailure("the demo's configuration is invalid: \(error)")
        }

        // A fresh state database each run (keys, limits, budgets, cache), so the story starts over;
        // the journal is kept, and the summary counts only this run's calls.
        files.removeState()
        let keys: DemoKeys
        let writer: JournalWriter
        let pipeline: Pipeline
        do {
            keys = try DemoKeys(store: VirtualKeyStore(path: configuration.state.sqlitePath))
            writer = JournalWriter(
                journal: try Journal.open(configuration.journal.journalConfiguration),
                logger: logger
            )
            pipeline = try Pipeline(configuration: configuration, journal: writer, logger: logger)
        } catch {
            await simulator.stop()
            throw CommandFailure("the demo cannot start: \(error)")
        }
        let gateway = Gateway(pipeline: pipeline, keys: keys.store, logger: logger)
        let services: RunningServices
        do {
            services = try await RunningServices.start(name: "gateway", logger: logger) { onPort in
                [
                    writer,
                    GatewayService(
                        gateway: gateway,
                        application: try gateway.makeApplication(
                            host: "127.0.0.1",
                            port: gatewayPort,
                            onServerRunning: onPort
                        )
                    ),
                ]
            }
        } catch {
            await simulator.stop()
            let reason = GatewayCommand.listenFailure(error, host: "127.0.0.1", port: gatewayPort) ?? "\(error)"
            throw CommandFailure(
                "the demo's gateway \(reason.replacingOccurrences(of: "--port N", with: "--gateway-port N"))"
            )
        }
        let gatewayURL = "http://127.0.0.1:\(services.port)"
        let started = Date()
        printNow(
            """
            switchboard demo: \(users) users for \(traffic.map(GoDuration.format) ?? "as long as the console is open"); files in \(directory)
            simulator: http://127.0.0.1:\(simulator.port)
            gateway: \(gatewayURL)
            demo key: \(keys.demoSecret)
              curl -s \(gatewayURL)/v1/chat/completions -H "Authorization: Bearer \(keys.demoSecret)" \\
                -H 'content-type: application/json' -d '{"model":"default","messages":[{"role":"user","content":"Hello"}]}'

            """
        )

        let demoUsers = DemoTraffic.habits(count: users).enumerated().map { index, habit in
            DemoTraffic.User(
                name: DemoTraffic.name(index, habit: habit),
                habit: habit,
                key: index.isMultiple(of: 3) ? keys.globexSecret : keys.acmeSecret,
                format: index % 4 == 1 ? .anthropic : .openAI
            )
        }
        let generator = DemoTraffic(gateway: gatewayURL, users: demoUsers, client: Load.client, seed: UInt64(seed))
        let deadline = traffic.map { ContinuousClock.now + $0 }
        let stop = StopFlag()
        let console = look.map { look in
            ConsoleLauncher(
                configuration: configuration,
                journal: journalPath,
                look: look,
                pipeline: pipeline,
                gateway: gatewayURL
            )
        }

        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await generator.run(until: deadline)
                return console == nil
            }
            group.addTask {
                for await _ in signals { return true }
                return false
            }
            if let console {
                group.addTask {
                    await console.run(stop: { stop.isSet })
                    return true
                }
            } else {
                group.addTask {
                    // Progress, headless: what the journal holds so far.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(10))
                        if Task.isCancelled { break }
                        Self.progress(journal: journalPath, since: started)
                    }
                    return false
                }
            }
            while let ended = await group.next() {
                if ended {
                    stop.set()
                    group.cancelAll()
                    break
                }
            }
        }

        // Stop in order: callers (their tasks cancelled above), then the gateway (drains, flushes the
        // journal), then the simulator.
        await services.stop()
        await simulator.stop()
        Self.printSummary(
            journal: journalPath,
            since: started,
            seconds: Date().timeIntervalSince(started),
            users: users,
            received: generator.received,
            directory: directory
        )
    }

    static func progress(journal: String, since: Date) {
        guard let summary = try? JournalReader.open(path: journal).summary(since: since) else { return }
        let outcomes = CallOutcome.allCases.compactMap { outcome in
            summary.outcomes[outcome].map { "\(outcome.rawValue) \($0)" }
        }
        printNow(
            "[\(Int(Date().timeIntervalSince(since)))s] \(summary.calls) calls · \(outcomes.joined(separator: " · ")) · "
                + "\(summary.retried) retried · \(summary.fellBack) fell back\n"
        )
    }

    /// `items` joined with " · " in lines of at most `width` columns, the first after `lead`.
    static func wrapped(_ items: [String], lead: String = "", width: Int = 78) -> String {
        var lines: [String] = []
        var line = lead
        for item in items {
            let separator = line == lead ? "" : " · "
            if line.count + separator.count + item.count > width, line != lead {
                lines.append(line + " ·")
                line = "  " + item
            } else {
                line += separator + item
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    static func printSummary(
        journal: String,
        since: Date,
        seconds: Double,
        users: Int,
        received: [Int: Int],
        directory: String
    ) {
        let summary: JournalSummary
        do {
            summary = try JournalReader.open(path: journal).summary(since: since)
        } catch {
            printNow("switchboard demo: stopped; the journal cannot be read for a summary: \(error.message)\n")
            return
        }
        var table = TextTable([("outcome", .left), ("calls", .right), ("share", .right)])
        for outcome in CallOutcome.allCases {
            let count = summary.outcomes[outcome] ?? 0
            table.add([
                outcome.rawValue, "\(count)",
                summary.calls == 0 ? "-" : String(format: "%.1f %%", Double(count) * 100 / Double(summary.calls)),
            ])
        }
        table.add(["total", "\(summary.calls)", ""])
        let statuses = received.sorted { $0.key < $1.key }.map {
            $0.key == 0 ? "cut short \($0.value)" : "\($0.key) × \($0.value)"
        }
        // Lines that fit an 80-column terminal.
        let figures = [
            "spend \(Format.usd(summary.costNanoUSD))", "saved by caching \(Format.usd(summary.savedNanoUSD))",
            "cache hits \(summary.outcomes[.cached] ?? 0)", "joined in flight \(summary.joined)",
            "retried \(summary.retried)", "fell back \(summary.fellBack)", "paced \(summary.paced)",
            "repaired \(summary.repaired)", "streamed \(summary.streamed)",
        ]
        printNow(
            """

            switchboard demo: \(summary.calls) calls journaled in \(Int(seconds.rounded())) s from \(summary.users) users (\(users) simulated)
            \(table.rendered)
            \(Self.wrapped(figures))
            \(Self.wrapped(statuses, lead: "answers by status: "))
            look closer:
              switchboard console --config \(directory)/switchboard.yaml
              switchboard journal stats --journal \(journal) --window 1h --by user

            """
        )
    }
}

/// The demo's directory: its configuration files, state database and log.
struct DemoFiles {
    let directory: String
    var simulatorConfig: String { "\(directory)/sim.yaml" }
    var switchboardConfig: String { "\(directory)/switchboard.yaml" }
    var state: String { "\(directory)/state.sqlite" }
    var log: String { "\(directory)/demo.log" }

    init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create the demo's directory \(directory): \(error.localizedDescription)")
        }
    }

    func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }

    func removeState() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + suffix) }
    }

    /// A logger writing to `demo.log`: the terminal belongs to the console.
    func logger(label: String, level: Logger.Level) -> Logger {
        let sink = FileLogSink(path: log)
        var logger = Logger(label: label) { label in FileLogHandler(label: label, sink: sink) }
        logger.logLevel = level
        return logger
    }
}

/// The demo's virtual keys: one per tenant's app (naming its end users with `x-switchboard-user`)
/// and one for outside clients.
struct DemoKeys {
    let store: VirtualKeyStore
    let acmeSecret: String
    let globexSecret: String
    let demoSecret: String

    init(store: VirtualKeyStore) throws {
        self.store = store
        acmeSecret = try store.create(
            userID: "acme-app",
            tenantID: "acme",
            allowUserHeader: true,
            label: "demo: acme's app"
        ).secret
        globexSecret = try store.create(
            userID: "globex-app",
            tenantID: "globex",
            allowUserHeader: true,
            label: "demo: globex's app"
        ).secret
        demoSecret = try store.create(userID: "guest", tenantID: "demo", rpm: 600, label: "demo: outside clients")
            .secret
    }
}

/// Services running in this process until stopped, with the port their server announced.
struct RunningServices: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    /// Starts the services `make` returns (it passes the callback their server announces its port
    /// through); returns once the port is known, or throws what stopped them first.
    static func start(
        name: String,
        logger: Logger,
        _ make: (@escaping @Sendable (Int) async -> Void) throws -> [any Service]
    ) async throws -> RunningServices {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let services = try make { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw CommandFailure("the \(name) stopped before it listened")
        }
        return RunningServices(group: group, task: task, port: port)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// The console on its own thread (its loop blocks on the terminal), over the demo's journal,
/// its playground sending through the demo's pipeline.
struct ConsoleLauncher: Sendable {
    let configuration: SwitchboardConfiguration
    let journal: String
    let theme: Theme
    let colour: Bool
    let ascii: Bool
    let sender: PipelineSender
    let notice: String

    /// The theme, colour and glyphs to draw with; refuses without a terminal.
    static func look(theme name: String?, ascii: Bool) throws -> (theme: Theme, colour: Bool, ascii: Bool) {
        let theme = try ConsoleCommand.chooseTheme(name, configured: "default")
        try ConsoleCommand.requireTerminal(
            "the demo's console needs a terminal; run it in a shell, tmux or over ssh -t, or pass --no-console"
        )
        let utf8 = ConsoleCommand.utf8Locale(ProcessInfo.processInfo.environment)
        return (theme, theme.name != "mono", ascii || !utf8)
    }

    init(
        configuration: SwitchboardConfiguration,
        journal: String,
        look: (theme: Theme, colour: Bool, ascii: Bool),
        pipeline: Pipeline,
        gateway: String
    ) {
        self.configuration = configuration
        self.journal = journal
        (self.theme, self.colour, self.ascii) = look
        self.sender = PipelineSender(pipeline: pipeline, user: configuration.console.user)
        self.notice = "demo: gateway \(gateway) · q ends it with a summary"
    }

    func run(stop: @escaping @Sendable () -> Bool) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                let app = ConsoleApp(
                    journal: ConsoleJournal(path: journal),
                    configuration: configuration,
                    theme: theme,
                    ascii: ascii,
                    window: .fiveMinutes,
                    sender: sender
                )
                app.notify(notice)
                do {
                    // In a scope of its own: the terminal is restored (its deinit) before the demo's summary.
                    let terminal = CursesTerminal(theme: theme, colour: colour)
                    app.run(on: terminal, refresh: configuration.console.refresh, stop: stop)
                }
                done.resume()
            }
            thread.start()
        }
    }
}

/// Set once, read from any thread.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// Appends log lines to one file, shared by the demo's loggers.
final class FileLogSink: Sendable {
    private let handle: Mutex<FileHandle?>

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        let handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
        self.handle = Mutex(handle)
    }

    func write(_ line: String) {
        handle.withLock { $0?.write(Data(line.utf8)) }
    }
}

/// A swift-log handler writing `time level label: message metadata` lines to a ``FileLogSink``.
struct FileLogHandler: LogHandler {
    let label: String
    let sink: FileLogSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let details =
            all.isEmpty
            ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.write("\(Date().formatted(.iso8601)) \(event.level) \(label): \(event.message)\(details)\n")
    }
}
