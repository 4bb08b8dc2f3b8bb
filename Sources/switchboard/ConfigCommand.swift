import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard config`: validate the configuration file and show what is in effect.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Validate the configuration file and print the effective configuration.",
        subcommands: [CheckCommand.self]
    )

    struct CheckCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a configuration file and print the effective configuration, keys masked.",
            discussion: """
                Every key has a default, so no file (or an empty one) prints the embedded defaults.
                Environment variables SWITCHBOARD__SECTION__KEY override file values, e.g.
                SWITCHBOARD__JOURNAL__PATH=/var/lib/switchboard/journal.sqlite.
                Exits 1 with file:line:column, the key and what to do when the file cannot be used.
                """
        )

        @Argument(help: "The file (default $SWITCHBOARD_CONFIG, else ./switchboard.yaml when it exists).")
        var file: String?

        @Flag(name: .shortAndLong, help: "Print nothing when the file is valid.")
        var quiet = false

        func run() throws {
            let options = ConfigOptions(config: file)
            let configuration = try options.load()
            if quiet { return }
            print("# effective configuration from \(configuration.source ?? "embedded defaults")")
            print(configuration.renderedYAML, terminator: "")
        }
    }
}

/// `--config PATH`, shared by every command that runs the pipeline.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The configuration file (default $SWITCHBOARD_CONFIG, else ./switchboard.yaml when it exists)."
    )
    var config: String?

    init() {}

    init(config: String?) { self.config = config }

    /// The file to read: the option, `$SWITCHBOARD_CONFIG`, or `./switchboard.yaml` when present.
    var path: String? {
        if let config { return config }
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_CONFIG"], !path.isEmpty { return path }
        return FileManager.default.fileExists(atPath: "switchboard.yaml") ? "switchboard.yaml" : nil
    }

    func load() throws -> SwitchboardConfiguration {
        do {
            return try SwitchboardConfiguration.load(path: path)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
