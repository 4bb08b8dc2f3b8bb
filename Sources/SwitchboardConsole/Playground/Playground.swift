import Foundation
import SwitchboardCore
import SwitchboardJournal
import SwitchboardWire
import Synchronization

/// What the playground sends: a system prompt and a user message to a route or model, with the
/// parameters picked on the screen.
public struct PlaygroundRequest: Sendable, Equatable {
    public var system: String
    public var user: String
    public var route: String
    public var temperature: Double?
    public var maxTokens: Int
    public var stream: Bool
    /// A JSON Schema for `response_format` (`json_schema`), when one was loaded.
    public var schema: JSONValue?

    public init(
        system: String,
        user: String,
        route: String,
        temperature: Double? = nil,
        maxTokens: Int = 400,
        stream: Bool = true,
        schema: JSONValue? = nil
    ) {
        self.system = system
        self.user = user
        self.route = route
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stream = stream
        self.schema = schema
    }

    /// As an OpenAI Chat Completions request (both senders speak it; routes translate).
    public var openAI: OpenAI.ChatCompletionRequest {
        var messages: [OpenAI.ChatMessage] = []
        if !system.isEmpty { messages.append(.system(system)) }
        messages.append(.user(user))
        var request = OpenAI.ChatCompletionRequest(model: route, messages: messages)
        request.temperature = temperature
        request.maxCompletionTokens = maxTokens
        if let schema { request.responseFormat = .jsonSchema(name: "playground", schema: schema) }
        return request
    }
}

/// How a playground call ended: the figures under its answer.
public struct PlaygroundFigures: Sendable, Equatable {
    public var requestID: String
    public var modelUsed: String?
    public var attempts: Int
    public var latency: Duration?
    public var timeToFirstToken: Duration?
    public var inputTokens: Int
    public var cachedTokens: Int
    public var outputTokens: Int
    public var costNanoUSD: Int64?
    public var cache: String?
    public var moderation: String?
    public var validation: String?

    public init(
        requestID: String,
        modelUsed: String? = nil,
        attempts: Int = 0,
        latency: Duration? = nil,
        timeToFirstToken: Duration? = nil,
        inputTokens: Int = 0,
        cachedTokens: Int = 0,
        outputTokens: Int = 0,
        costNanoUSD: Int64? = nil,
        cache: String? = nil,
        moderation: String? = nil,
        validation: String? = nil
    ) {
        self.requestID = requestID
        self.modelUsed = modelUsed
        self.attempts = attempts
        self.latency = latency
        self.timeToFirstToken = timeToFirstToken
        self.inputTokens = inputTokens
        self.cachedTokens = cachedTokens
        self.outputTokens = outputTokens
        self.costNanoUSD = costNanoUSD
        self.cache = cache
        self.moderation = moderation
        self.validation = validation
    }

    /// The figures of a journaled call.
    public init(_ record: CallRecord) {
        self.init(
            requestID: record.requestID,
            modelUsed: record.provider.map { "\($0)/\(record.modelUsed ?? "")" } ?? record.modelUsed,
            attempts: record.attempts.count,
            latency: record.latencyMilliseconds.map { .milliseconds($0) },
            timeToFirstToken: record.timeToFirstTokenMilliseconds.map { .milliseconds($0) },
            inputTokens: record.tokens.totalInput,
            cachedTokens: record.tokens.cachedInput,
            outputTokens: record.tokens.output,
            costNanoUSD: record.costNanoUSD,
            cache: record.cache?.rawValue,
            moderation: Self.verdict(record.moderation),
            validation: Self.verdict(record.validation)
        )
    }

    /// The journal's moderation or validation verdict in a word: its `action` (`allow`, `flag`,
    /// `block`; `pass`, `repaired`, `fail`).
    static func verdict(_ json: JSONValue?) -> String? {
        json.map { $0["action"]?.stringValue ?? "checked" }
    }
}

/// What a playground call reports as it goes.
public enum PlaygroundEvent: Sendable, Equatable {
    /// More of the answer.
    case text(String)
    /// The call ended well; its figures.
    case finished(PlaygroundFigures)
    /// The call failed: the message from the error table (or the provider's), and its figures
    /// when it was journaled.
    case failed(String, PlaygroundFigures?)
}

/// Where the playground's calls go: the core in this process (``PipelineSender``), or a running
/// gateway (`--via-gateway`, in the `switchboard` executable).
public protocol PlaygroundSender: Sendable {
    /// Routes and models to pick from, the default first.
    var routes: [String] { get }
    /// Who the calls are billed to, for the header.
    var billedTo: String { get }
    /// Sends `request`; ending the iteration early cancels the call upstream.
    func send(_ request: PlaygroundRequest) -> AsyncStream<PlaygroundEvent>
}

/// The playground's calls through a ``Pipeline`` in this process: the same configuration and
/// state store as the gateways on the host, journaled with origin `playground` and billed to
/// `console.user`.
public final class PipelineSender: PlaygroundSender {
    let pipeline: Pipeline
    public let billedTo: String
    public let routes: [String]

    public init(pipeline: Pipeline, user: String) {
        self.pipeline = pipeline
        self.billedTo = user
        let configuration = pipeline.configuration
        let routes = configuration.routes.keys.sorted { ($0 == "default" ? 0 : 1, $0) < ($1 == "default" ? 0 : 1, $1) }
        let models = configuration.routes.values.flatMap(\.targets).map { "\($0.provider)/\($0.model)" }
        var seen = Set<String>()
        self.routes = (routes + models.sorted()).filter { seen.insert($0).inserted }
    }

    public func send(_ request: PlaygroundRequest) -> AsyncStream<PlaygroundEvent> {
        let (events, continuation) = AsyncStream.makeStream(of: PlaygroundEvent.self)
        let recorded = Mutex<PlaygroundFigures?>(nil)
        var context = CallContext(origin: .playground, userID: billedTo)
        context.onRecord = { record in recorded.withLock { $0 = PlaygroundFigures(record) } }
        let pipeline = pipeline
        let task = Task {
            do {
                if request.stream {
                    for try await chunk in pipeline.stream(request.openAI, context: context) {
                        if let text = chunk.choices.first?.delta.content, !text.isEmpty {
                            continuation.yield(.text(text))
                        }
                    }
                } else {
                    let answer = try await pipeline.chat(request.openAI, context: context)
                    continuation.yield(.text(answer.choices.first?.message.content?.text ?? ""))
                }
                let figures = recorded.withLock { $0 } ?? PlaygroundFigures(requestID: context.requestID)
                continuation.yield(.finished(figures))
            } catch let error as SwitchboardError {
                continuation.yield(.failed("\(error.code.name): \(error.message)", recorded.withLock { $0 }))
            } catch is CancellationError {
                continuation.yield(.failed("cancelled", recorded.withLock { $0 }))
            } catch {
                continuation.yield(.failed("\(error)", recorded.withLock { $0 }))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }
}
