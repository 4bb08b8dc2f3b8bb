import ArgumentParser
import Foundation
import Logging
import SwitchboardCore

/// `switchboard replay`: send a journaled request through the pipeline again and compare.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-send a journaled request through the pipeline and print the new outcome beside the old.",
        discussion: """
            The request is read from the journal (bodies stored full or redacted; with redacted \
            bodies key-shaped secrets were masked before they were stored) and sent through the \
            same pipeline the gateway uses, with the configuration's providers, routes, state \
            store and journal. The replay is journaled as a new call (origin playground, user \
            console.user). A streamed call is replayed as a stream.
            """
    )

    @Argument(help: "The request id of the journaled call (or a unique prefix of it).") var requestID: String
    @Option(help: "Send to this route or provider model instead of the one the call named.") var route: String?
    @Option(help: "The caller's format, when the one told from the body is wrong: openai or anthropic.")
    var format: String?
    @Option(help: "The journal to read the call from (default: the configuration's journal.path).")
    var journal: String?
    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let configuration = try config.load()
        let journalPath = journal ?? configuration.journal.path
        guard FileManager.default.fileExists(atPath: journalPath) else {
            throw CommandFailure(
                "no journal at \(journalPath); pass --journal PATH or set journal.path in the configuration"
            )
        }
        guard let original = try JournalReader.open(path: journalPath).call(requestID: requestID) else {
            throw CommandFailure(
                "no call \(requestID) in \(journalPath); `switchboard journal search` finds calls by their text"
            )
        }
        var apiFormat: APIFormat?
        if let format {
            guard let parsed = APIFormat(rawValue: format.lowercased()) else {
                throw CommandFailure("--format must be openai or anthropic, not '\(format)'")
            }
            apiFormat = parsed
        }
        var request: ReplayRequest
        do {
            request = try ReplayRequest(journaled: original.requestBody, format: apiFormat)
        } catch {
            throw CommandFailure("cannot replay \(original.summary.requestID): \(error.message)")
        }
        if let route { request = request.routed(to: route) }

        var logger = Logger(label: "switchboard.replay")
        logger.logLevel = .warning
        var journalConfiguration = configuration.journal.journalConfiguration
        journalConfiguration.path = journalPath
        let writer = JournalWriter(journal: try Journal.open(journalConfiguration), logger: logger)
        let pipeline = try Pipeline(configuration: configuration, journal: writer, logger: logger)
        let context = CallContext(origin: .playground, userID: configuration.console.user)
        let outcome = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            let outcome: Result<String, any Error>
            do {
                outcome = .success(
                    try await pipeline.replay(request, stream: original.summary.stream, context: context)
                )
            } catch {
                outcome = .failure(error)
            }
            writer.finish()
            try await group.waitForAll()
            return outcome
        }
        let replayed = try JournalReader.open(path: journalPath).call(requestID: context.requestID)
        print("replay of \(original.summary.requestID) (\(request.format.rawValue) format, model \(request.model))")
        print(Self.comparison(original.summary, replayed?.summary), terminator: "")
        switch outcome {
        case .success(let text):
            print("answer\n  \(text.count > 400 ? String(text.prefix(400)) + "…" : text)")
        case .failure(let error):
            print("error\n  \(error)")
        }
        if case .failure = outcome { throw ExitCode(1) }
    }

    /// The two calls side by side.
    static func comparison(_ old: CallSummary, _ new: CallSummary?) -> String {
        func rows(_ call: CallSummary?) -> [String] {
            guard let call else { return Array(repeating: "-", count: 9) }
            return [
                call.requestID,
                call.outcome + (call.errorClass.map { " (\($0))" } ?? ""),
                call.httpStatus.map(String.init) ?? "-",
                "\(call.provider ?? "-")/\(call.modelUsed ?? call.modelRequested ?? "-")\(call.fellBack ? " (fell back)" : "")",
                String(call.attempts),
                Format.milliseconds(call.latencyMilliseconds),
                Format.milliseconds(call.timeToFirstTokenMilliseconds),
                "\(call.tokens.totalInput) in / \(call.tokens.output) out",
                Format.usd(call.costNanoUSD),
            ]
        }
        let labels = [
            "request id", "outcome", "status", "answered by", "attempts", "latency", "ttft", "tokens", "cost",
        ]
        var table = TextTable([("", .left), ("original", .left), ("replay", .left)])
        for (label, (before, after)) in zip(labels, zip(rows(old), rows(new))) { table.add([label, before, after]) }
        return table.rendered
    }
}
