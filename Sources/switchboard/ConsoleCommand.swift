import ArgumentParser
import Foundation
import Logging
import SwitchboardConsole
import SwitchboardCore
import SwitchboardJournal

/// `switchboard console`: the operations console over the journal.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Watch the journal live: headroom, latency, cache, errors, spend; drill into any call.",
        discussion:
            "Keys: ? help, c calls, Enter drill in, Esc back, 1-6 window, f freeze, t theme, p playground, q quit."
    )

    @OptionGroup var config: ConfigOptions

    @Option(help: "The journal file (default: the configuration's journal.path).")
    var journal: String?

    @Option(help: "Theme: default, light, high-contrast, amber, mono (NO_COLOR selects mono).")
    var theme: String?

    @Flag(help: "ASCII glyphs only (boxes, bars and sparklines).")
    var ascii = false

    @Option(help: "The window to start with: 5m, 15m, 1h, 6h, 24h, 7d.")
    var window: String = "15m"

    @Option(
        name: .customLong("via-gateway"),
        help:
            "Send the playground's calls through this running gateway (e.g. http://127.0.0.1:8080) instead of the core in this process."
    )
    var viaGateway: String?

    @Option(
        help:
            "The gateway's virtual key, with --via-gateway (or $SWITCHBOARD_GATEWAY_KEY, which other users cannot see in ps)."
    )
    var key: String?

    func run() throws {
        let configuration = try config.load()
        let environment = ProcessInfo.processInfo.environment
        let chosen = try Self.chooseTheme(theme, configured: configuration.console.theme)
        guard let start = ConsoleWindow(label: window) else {
            throw ValidationError("--window must be one of 5m, 15m, 1h, 6h, 24h, 7d")
        }
        try Self.requireTerminal("switchboard console needs a terminal (run it in a shell, tmux or over ssh -t)")
        let path = journal ?? configuration.journal.path
        let playground = try Self.playgroundSender(
            configuration: configuration,
            journalPath: path,
            viaGateway: viaGateway,
            key: key ?? environment["SWITCHBOARD_GATEWAY_KEY"]
        )
        let app = ConsoleApp(
            journal: ConsoleJournal(path: path),
            configuration: configuration,
            theme: chosen,
            ascii: ascii || !Self.utf8Locale(environment),
            window: start,
            sender: playground.sender
        )
        app.playground.unavailable = playground.unavailable
        do {
            // In a scope of its own: the terminal is restored (its deinit) before the wait below.
            let terminal = CursesTerminal(theme: chosen, colour: chosen.name != "mono")
            app.run(on: terminal, refresh: configuration.console.refresh)
        }
        // The playground's calls still being journaled are written before the process ends.
        if let writer = playground.writer {
            writer.finish()
            let done = DispatchSemaphore(value: 0)
            Task {
                _ = await playground.writerTask?.value
                done.signal()
            }
            _ = done.wait(timeout: .now() + 5)
        }
    }

    /// Where the playground sends: the gateway given, else a pipeline in this process built from
    /// the configuration, journaling to the journal the console watches. When the pipeline cannot
    /// be built, the console still runs and the playground says why.
    static func playgroundSender(
        configuration: SwitchboardConfiguration,
        journalPath: String,
        viaGateway: String?,
        key: String?
    ) throws -> (
        sender: (any PlaygroundSender)?, unavailable: String?, writer: JournalWriter?, writerTask: Task<Void, Never>?
    ) {
        if let viaGateway {
            guard let key, !key.isEmpty else {
                throw ValidationError(
                    "--via-gateway needs a virtual key of that gateway (switchboard keys create): --key KEY or $SWITCHBOARD_GATEWAY_KEY"
                )
            }
            return (
                GatewaySender(baseURL: viaGateway, key: key, routes: configuration.routes.keys.sorted()), nil, nil, nil
            )
        }
        // Nothing may write to the terminal curses draws on.
        let quiet = Logger(label: "switchboard.playground") { _ in SwiftLogNoOpLogHandler() }
        do {
            var journalConfiguration = configuration.journal.journalConfiguration
            journalConfiguration.path = journalPath
            let writer = JournalWriter(journal: try Journal.open(journalConfiguration), logger: quiet)
            let pipeline = try Pipeline(configuration: configuration, journal: writer, logger: quiet)
            let task = Task.detached { _ = try? await writer.run() }
            return (PipelineSender(pipeline: pipeline, user: configuration.console.user), nil, writer, task)
        } catch {
            return (nil, "the playground cannot send: \(error)", nil, nil)
        }
    }

    /// The theme named, else `mono` under `NO_COLOR`, else the configured one.
    static func chooseTheme(_ name: String?, configured: String) throws -> Theme {
        let environment = ProcessInfo.processInfo.environment
        let chosen = name ?? (environment["NO_COLOR"].map { $0.isEmpty ? configured : "mono" } ?? configured)
        do {
            return try Theme.load(chosen)
        } catch {
            throw CommandFailure(error.message)
        }
    }

    /// Refuses, with `message`, unless standard input and output are a terminal.
    static func requireTerminal(_ message: String) throws {
        guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else { throw CommandFailure(message) }
    }

    /// Whether the locale can show UTF-8 (else ASCII glyphs).
    static func utf8Locale(_ environment: [String: String]) -> Bool {
        let locale = environment["LC_ALL"] ?? environment["LC_CTYPE"] ?? environment["LANG"] ?? ""
        return locale.isEmpty || locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8")
    }
}
