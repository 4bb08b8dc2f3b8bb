import ArgumentParser
import Foundation
import SwitchboardWire

/// `switchboard errors`: the table of every error Switchboard raises.
struct ErrorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "errors",
        abstract: "Print the error table: status, provider types and retry signals of every error Switchboard raises."
    )

    @Flag(help: "Print the table as Markdown (as in the README).")
    var markdown = false

    func run() {
        if markdown {
            print(ErrorTable.markdown(), terminator: "")
            return
        }
        for entry in ErrorTable.entries {
            let retry =
                entry.shouldRetry ? (entry.sendsRetryAfter ? "retry after Retry-After" : "retry") : "do not retry"
            print(
                "\(entry.code.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(entry.httpStatus)  "
                    + "openai \(entry.openAIType)/\(entry.openAICode)  anthropic \(entry.anthropicType)  \(retry)"
            )
        }
    }
}
