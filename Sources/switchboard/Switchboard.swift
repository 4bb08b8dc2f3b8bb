import ArgumentParser

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "The production layer for applications that call LLM APIs.",
        discussion: """
            One resilience core, one SQLite journal of every call, one console to watch it.
            This build has: demo (the simulator, a gateway and users' traffic, watched in the console), gateway (the OpenAI- and Anthropic-compatible HTTP front door), console (the live operations console), config (the configuration file), sim (the provider simulator), journal (the call journal), replay (re-send a journaled call), billing (spend per period), keys (virtual keys, leak scan), bench (benchmarks), reliability (the fault suite) and errors (the error table).
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, GatewayCommand.self, ConsoleCommand.self, ConfigCommand.self, SimCommand.self,
            JournalCommand.self,
            ReplayCommand.self,
            BillingCommand.self,
            KeysCommand.self,
            BenchCommand.self,
            ReliabilityCommand.self,
            ErrorsCommand.self,
        ]
    )
}
