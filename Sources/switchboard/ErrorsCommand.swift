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

    @Flag(help: "Print the table as JSON (one object per error), for tests and tools.")
    var json = false

    func run() {
        if markdown {
            print(ErrorTable.markdown(), terminator: "")
            return
        }
        if json {
            let rows: [JSONValue] = ErrorTable.entries.map { entry in
                [
                    "code": .string(entry.code.name), "http": .integer(entry.httpStatus),
                    "openai_type": .string(entry.openAIType), "openai_code": .string(entry.openAICode),
                    "anthropic_type": .string(entry.anthropicType), "retry_after": .bool(entry.sendsRetryAfter),
                    "should_retry": .bool(entry.shouldRetry), "openai_sdk": .string(entry.sdkErrors.openAI),
                    "anthropic_sdk": .string(entry.sdkErrors.anthropic),
                ]
            }
            print(JSONValue.array(rows).serialized())
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
