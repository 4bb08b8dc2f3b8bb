import Foundation
import SwitchboardCore
import SwitchboardWire
import Synchronization

/// The playground screen's state: the two editors, the route and parameters picked, and the
/// answers of the last send (two when comparing routes). Keys and frames come from the console's
/// loop; answers arrive from the sending tasks through an inbox the loop drains.
public final class PlaygroundState {
    public enum Focus: Sendable, Equatable {
        case system, user
    }

    /// One answer: its route, the text so far, and how it ended.
    public struct Run: Sendable, Equatable {
        public enum Status: Sendable, Equatable {
            case running
            case finished(PlaygroundFigures)
            case failed(String, PlaygroundFigures?)
            case cancelled
        }

        public var route: String
        public var text = ""
        public var status = Status.running
        public var started: Date
        public var firstText: Date?
    }

    /// What a key did, for the console to follow up.
    public enum Outcome: Sendable, Equatable {
        case handled
        case ignored
        case back
        /// Ask for a schema file path on the prompt line.
        case askSchema
        case message(String, Role)
    }

    public var system = TextEditor()
    public var user = TextEditor()
    public var focus = Focus.user
    public private(set) var routeIndex = 0
    /// The second route when comparing.
    public private(set) var compareIndex: Int?
    public private(set) var temperature: Double?
    public private(set) var maxTokens = 400
    public private(set) var stream = true
    public private(set) var schema: (path: String, json: JSONValue)?
    public private(set) var runs: [Run] = []
    /// Why no call can be sent (the pipeline could not be built), shown instead of sending.
    public var unavailable: String?
    let sender: (any PlaygroundSender)?
    let now: () -> Date
    private var tasks: [Task<Void, Never>] = []
    /// Bumped by every send: events of an older send are dropped.
    private var generation = 0
    private let inbox = Inbox()
    var scrolls = (system: 0, user: 0)

    static let temperatures: [Double?] = [nil, 0, 0.2, 0.7, 1.0]
    static let maxTokenChoices = [100, 400, 1_000, 4_000]

    public init(sender: (any PlaygroundSender)?, now: @escaping () -> Date = Date.init) {
        self.sender = sender
        self.now = now
    }

    public var routes: [String] { sender?.routes ?? [] }
    public var route: String { routes.isEmpty ? "default" : routes[routeIndex % routes.count] }
    public var compareRoute: String? { compareIndex.map { routes[$0 % routes.count] } }
    public var isRunning: Bool { runs.contains { $0.status == .running } }

    /// Loads a journaled call's request: its system prompt, last user message and route or model.
    public func load(_ request: ReplayRequest) {
        let prompt = request.prompt
        system.replaceAll(with: prompt.system)
        user.replaceAll(with: prompt.user)
        if let index = routes.firstIndex(of: request.model) { routeIndex = index }
        if case .openAI(let openAI) = request {
            temperature = openAI.temperature
            if let tokens = openAI.maxCompletionTokens ?? openAI.maxTokens { maxTokens = tokens }
        }
        focus = .user
        runs = []
    }

    // MARK: - Keys

    /// Handles a key on the playground screen; `width` is the editors' wrap width.
    public func handle(_ key: Key, width: Int) -> Outcome {
        switch key {
        case .escape:
            if isRunning {
                cancel()
                return .message("cancelled: the call was stopped upstream", .warn)
            }
            return .back
        case .control("s"):
            return send()
        case .control("r"):
            guard !routes.isEmpty else { return .ignored }
            routeIndex = (routeIndex + 1) % routes.count
        case .control("k"):
            // Compare with the next route, then the one after, then stop comparing.
            guard routes.count > 1 else { return .message("only one route: nothing to compare with", .warn) }
            let next = ((compareIndex ?? routeIndex) + 1) % routes.count
            compareIndex = next == routeIndex ? nil : next
        case .control("t"):
            let index = Self.temperatures.firstIndex(of: temperature) ?? 0
            temperature = Self.temperatures[(index + 1) % Self.temperatures.count]
        case .control("n"):
            let index = Self.maxTokenChoices.firstIndex(of: maxTokens) ?? 0
            maxTokens = Self.maxTokenChoices[(index + 1) % Self.maxTokenChoices.count]
        case .control("o"):
            stream.toggle()
        case .control("g"):
            if schema != nil {
                schema = nil
                return .message("response format: text", .accent)
            }
            return .askSchema
        case .tab, .backTab:
            focus = focus == .system ? .user : .system
        default:
            return edit(key, width: width) ? .handled : .ignored
        }
        return .handled
    }

    /// A key for the focused editor; false when it is not an editing key.
    private func edit(_ key: Key, width: Int) -> Bool {
        func change(_ body: (inout TextEditor) -> Void) {
            switch focus {
            case .system: body(&system)
            case .user: body(&user)
            }
        }
        switch key {
        case .character(let character): change { $0.type(String(character)) }
        case .enter: change { $0.type("\n") }
        case .paste(let text): change { $0.paste(text) }
        case .backspace: change { $0.backspace() }
        case .delete, .control("d"): change { $0.deleteForward() }
        case .control("w"): change { $0.deleteWordBackward() }
        case .control("z"): change { $0.undo() }
        case .control("y"): change { $0.redo() }
        case .left: change { $0.move(.left, width: width) }
        case .right: change { $0.move(.right, width: width) }
        case .up: change { $0.move(.up, width: width) }
        case .down: change { $0.move(.down, width: width) }
        case .home, .control("a"): change { $0.move(.lineStart, width: width) }
        case .end, .control("e"): change { $0.move(.lineEnd, width: width) }
        case .wordLeft, .alt("b"): change { $0.move(.wordLeft, width: width) }
        case .wordRight, .alt("f"): change { $0.move(.wordRight, width: width) }
        case .pageUp: change { $0.move(.documentStart, width: width) }
        case .pageDown: change { $0.move(.documentEnd, width: width) }
        default: return false
        }
        return true
    }

    /// Loads a JSON Schema file for `response_format`.
    public func loadSchema(path: String) -> Outcome {
        let path = (path as NSString).expandingTildeInPath
        guard let data = FileManager.default.contents(atPath: path) else {
            return .message("no such file: \(path)", .crit)
        }
        do {
            schema = (path, try JSONValue.parse(Array(data)))
            return .message("response format: json_schema from \(path)", .accent)
        } catch {
            return .message("\(path) is not JSON: \(error)", .crit)
        }
    }

    // MARK: - Sending

    /// Sends the prompt to the route (and the compared one), replacing the last answers.
    public func send() -> Outcome {
        if let unavailable { return .message(unavailable, .crit) }
        guard let sender else { return .message("the playground has no core to send through", .crit) }
        guard !user.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .message("write a user message first", .warn)
        }
        cancel()
        generation += 1
        let generation = generation
        let routes = [route] + (compareRoute.map { [$0] } ?? [])
        runs = routes.map { Run(route: $0, started: now()) }
        tasks = routes.enumerated().map { index, route in
            let request = PlaygroundRequest(
                system: system.text,
                user: user.text,
                route: route,
                temperature: temperature,
                maxTokens: maxTokens,
                stream: stream,
                schema: schema?.json
            )
            return Task { [inbox] in
                for await event in sender.send(request) {
                    inbox.post(generation: generation, run: index, event: event)
                }
            }
        }
        return .handled
    }

    /// Stops the calls in flight (upstream too: their streams end).
    public func cancel() {
        for task in tasks { task.cancel() }
        tasks = []
        for index in runs.indices where runs[index].status == .running { runs[index].status = .cancelled }
    }

    /// Applies what the sending tasks reported; returns whether anything changed.
    @discardableResult
    public func drain() -> Bool {
        let events = inbox.take()
        var changed = false
        for (generation, index, event) in events where generation == self.generation && runs.indices.contains(index) {
            guard runs[index].status == .running else { continue }
            changed = true
            switch event {
            case .text(let text):
                if runs[index].firstText == nil { runs[index].firstText = now() }
                runs[index].text += text
            case .finished(let figures):
                runs[index].status = .finished(figures)
            case .failed(let message, let figures):
                runs[index].status = .failed(message, figures)
            }
        }
        return changed
    }
}

/// What the sending tasks reported, waiting for the console's loop.
private final class Inbox: Sendable {
    private let events = Mutex<[(generation: Int, run: Int, event: PlaygroundEvent)]>([])

    func post(generation: Int, run: Int, event: PlaygroundEvent) {
        events.withLock { $0.append((generation, run, event)) }
    }

    func take() -> [(generation: Int, run: Int, event: PlaygroundEvent)] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}

extension ReplayRequest {
    /// The system prompt and the last user message, as text: what the playground edits.
    public var prompt: (system: String, user: String) {
        switch self {
        case .openAI(let request):
            let system = request.messages.filter { $0.role == "system" || $0.role == "developer" }
                .compactMap { $0.content?.text }.joined(separator: "\n")
            return (system, request.messages.last { $0.role == "user" }?.content?.text ?? "")
        case .anthropic(let request):
            return (request.system?.text ?? "", request.messages.last { $0.role == "user" }?.content.text ?? "")
        }
    }
}
