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
    @Option(help: "Send it this many times, up to --concurrency at once, and print a summary of the outcomes.")
    var times = 1
    @Option(help: "With --times: how many at once.") var concurrency = 50
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
        guard times >= 1, concurrency >= 1 else {
            throw ValidationError("--times and --concurrency must be at least 1")
        }
        if times > 1 {
            try await repeatedly(
                request,
                stream: original.summary.stream,
                pipeline: pipeline,
                writer: writer,
                configuration: configuration,
                journalPath: journalPath,
                originalID: original.summary.requestID
            )
            return
        }
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

    /// Sends the request `times` times and prints how they ended and what they cost.
    private func repeatedly(
        _ request: ReplayRequest,
        stream: Bool,
        pipeline: Pipeline,
        writer: JournalWriter,
        configuration: SwitchboardConfiguration,
        journalPath: String,
        originalID: String
    ) async throws {
        let user = configuration.console.user
        let (times, concurrency) = (self.times, self.concurrency)
        let results = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            var results: [(requestID: String, outcome: String)] = []
            for batch in stride(from: 0, to: times, by: concurrency) {
                results += await withTaskGroup(of: (String, String).self) { calls in
                    for _ in batch..<min(times, batch + concurrency) {
                        calls.addTask {
                            let context = CallContext(origin: .playground, userID: user)
                            do {
                                _ = try await pipeline.replay(request, stream: stream, context: context)
                                return (context.requestID, "ok")
                            } catch let error as SwitchboardError {
                                return (context.requestID, error.code.name)
                            } catch let error as UpstreamError {
                                return (context.requestID, "upstream \(error.status)")
                            } catch {
                                return (context.requestID, "error")
                            }
                        }
                    }
                    return await calls.reduce(into: []) { $0.append($1) }
                }
            }
            writer.finish()
            try await group.waitForAll()
            return results
        }
        let reader = try JournalReader.open(path: journalPath)
        var spent: Int64 = 0
        for result in results { spent += try reader.call(requestID: result.requestID)?.summary.costNanoUSD ?? 0 }
        print(
            "\(times) replays of \(originalID) (\(request.format.rawValue) format, model \(request.model)), \(concurrency) at once"
        )
        var table = TextTable([("outcome", .left), ("calls", .right)])
        let counts = Dictionary(grouping: results, by: \.outcome).mapValues(\.count)
        for (outcome, count) in counts.sorted(by: { $0.value > $1.value }) { table.add([outcome, "\(count)"]) }
        print(table.rendered, terminator: "")
        print("spent \(Format.usd(spent)), journaled as user \(user)")
        if counts["ok"] == nil { throw ExitCode(1) }
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
