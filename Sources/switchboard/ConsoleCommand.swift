import ArgumentParser
import Foundation
import SwitchboardConsole
import SwitchboardCore

/// `switchboard console`: the operations console over the journal.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Watch the journal live: headroom, latency, cache, errors, spend; drill into any call.",
        discussion: "Keys: ? help, c calls, Enter drill in, Esc back, 1-6 window, f freeze, t theme, q quit."
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

    func run() throws {
        let configuration = try config.load()
        let environment = ProcessInfo.processInfo.environment
        let name =
            theme
            ?? (environment["NO_COLOR"].map { $0.isEmpty ? configuration.console.theme : "mono" }
                ?? configuration.console.theme)
        let chosen: Theme
        do {
            chosen = try Theme.load(name)
        } catch {
            throw CommandFailure(error.message)
        }
        guard let start = ConsoleWindow(label: window) else {
            throw ValidationError("--window must be one of 5m, 15m, 1h, 6h, 24h, 7d")
        }
        guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else {
            throw CommandFailure("switchboard console needs a terminal (run it in a shell, tmux or over ssh -t)")
        }
        let path = journal ?? configuration.journal.path
        let app = ConsoleApp(
            journal: ConsoleJournal(path: path),
            configuration: configuration,
            theme: chosen,
            ascii: ascii || !Self.utf8Locale(environment),
            window: start
        )
        let terminal = CursesTerminal(theme: chosen, colour: name != "mono")
        app.run(on: terminal, refresh: configuration.console.refresh)
    }

    /// Whether the locale can show UTF-8 (else ASCII glyphs).
    static func utf8Locale(_ environment: [String: String]) -> Bool {
        let locale = environment["LC_ALL"] ?? environment["LC_CTYPE"] ?? environment["LANG"] ?? ""
        return locale.isEmpty || locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8")
    }
}
