import Foundation
import Logging
import SwitchboardCore
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardValidation
import SwitchboardWire

/// A pipeline wired to a simulator over loopback HTTP, with its own journal in a fresh folder.
public struct PipelineFixture: Sendable {
    public let pipeline: Pipeline
    public let simulator: Simulator
    public let directory: String
    public let journalPath: String
    /// The journal writer the pipeline records through; it runs for the whole of the body.
    public let journalWriter: JournalWriter

    /// The journal as operators read it, once the writer has stopped.
    public func reader() throws -> JournalReader { try JournalReader.open(path: journalPath) }
}

/// A fresh folder for one test's files.
public func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sbc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

public var quietLogger: Logger {
    var logger = Logger(label: "test.core")
    logger.logLevel = .critical
    return logger
}

/// A configuration for the simulator at `baseURL`: one simulator key per provider (unless
/// `openAIKeys` / `anthropicKeys` say otherwise), the routes `default` (OpenAI, then Anthropic) and
/// `claude-first` (the reverse), short timeouts and a fast retry policy.
public func testConfiguration(
    baseURL: String,
    directory: String,
    openAIKeys: [String] = ["sk-sim-openai-test"],
    anthropicKeys: [String] = ["sk-sim-anthropic-test"]
) -> SwitchboardConfiguration {
    var configuration = SwitchboardConfiguration()
    configuration.journal.path = "\(directory)/journal.sqlite"
    configuration.journal.storeBodies = .full
    configuration.state.backend = .memory
    configuration.providers = [
        "openai": .init(
            kind: .openAI,
            baseURL: baseURL,
            apiKeys: openAIKeys.map { Secret(value: $0, source: "test") }
        ),
        "anthropic": .init(
            kind: .anthropic,
            baseURL: baseURL,
            apiKeys: anthropicKeys.map { Secret(value: $0, source: "test") }
        ),
    ]
    let openAI = SwitchboardConfiguration.Target(provider: "openai", model: "gpt-4o-mini")
    let anthropic = SwitchboardConfiguration.Target(provider: "anthropic", model: "claude-haiku-4-5")
    configuration.routes = [
        "default": .init(targets: [openAI, anthropic]),
        "claude-first": .init(targets: [anthropic, openAI]),
    ]
    configuration.resilience.retry.maxAttempts = 3
    configuration.resilience.retry.base = .milliseconds(200)
    configuration.resilience.retry.cap = .seconds(2)
    // Generous: a loaded CI machine must not turn a slow loopback answer into a timeout. Tests of
    // timeouts set their own.
    configuration.resilience.timeouts.firstByte = .seconds(30)
    configuration.resilience.timeouts.idle = .seconds(30)
    configuration.resilience.timeouts.total = .seconds(120)
    return configuration
}

/// What a pipeline test returned, and its journal.
public struct PipelineRun<Value: Sendable>: Sendable {
    public let value: Value
    public let journal: JournalReader
}

/// Runs `body` with a pipeline against a fresh simulator, then stops the journal writer and opens
/// the journal for reading.
///
/// - Parameters:
///   - clock: the pipeline's and the simulator's clock; with a ``ManualClock`` the simulator's
///     rate-limit windows move with it.
///   - store: the state store; the default is a fresh memory store.
///   - configure: adjusts the configuration built by ``testConfiguration``.
public func withPipeline<T: Sendable>(
    simulator simulatorConfiguration: SimulatorConfiguration = .testing,
    clock: any WallClock = SystemWallClock(),
    store: (any StateStore)? = nil,
    directory: String? = nil,
    logger: Logger = quietLogger,
    configure: @Sendable (inout SwitchboardConfiguration) -> Void = { _ in },
    validators: [any OutputValidator] = [],
    _ body: @Sendable (PipelineFixture) async throws -> T
) async throws -> PipelineRun<T> {
    let directory = try directory ?? temporaryDirectory()
    return try await withSimulator(simulatorConfiguration, now: { clock.now() }) { fixture in
        var configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
        configure(&configuration)
        let journal = try Journal.open(configuration.journal.journalConfiguration)
        let writer = JournalWriter(journal: journal, logger: logger, retryDelay: .milliseconds(5))
        let pipeline = try Pipeline(
            configuration: configuration,
            journal: writer,
            store: store ?? MemoryStateStore(),
            clock: clock,
            random: SeededRandom(seed: 11),
            validators: validators,
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            let bench = PipelineFixture(
                pipeline: pipeline,
                simulator: fixture.simulator,
                directory: directory,
                journalPath: configuration.journal.path,
                journalWriter: writer
            )
            let result = await Result { try await body(bench) }
            writer.finish()
            try await group.waitForAll()
            return PipelineRun(
                value: try result.get(),
                journal: try JournalReader.open(path: configuration.journal.path)
            )
        }
    }
}

public func openAIRequest(
    _ text: String = "What is the capital of France?",
    model: String = "default",
    maxTokens: Int = 40
) -> OpenAI.ChatCompletionRequest {
    var request = OpenAI.ChatCompletionRequest(model: model, messages: [.user(text)])
    request.maxCompletionTokens = maxTokens
    return request
}

public func anthropicRequest(
    _ text: String = "What is the capital of France?",
    model: String = "claude-first",
    maxTokens: Int = 40
) -> Anthropic.MessagesRequest {
    Anthropic.MessagesRequest(model: model, maxTokens: maxTokens, messages: [.user(text)])
}

/// Every event of a stream, in order.
public func collect<Element>(_ stream: PipelineStream<Element>) async throws -> [Element] {
    var events: [Element] = []
    for try await event in stream { events.append(event) }
    return events
}

extension Result where Failure == any Error {
    /// The outcome of `body`, so cleanup can run before an error is rethrown.
    public init(_ body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
