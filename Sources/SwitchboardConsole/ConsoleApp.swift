import Foundation
import SwitchboardCore
import SwitchboardJournal

/// The console's screens.
public enum Screen: Sendable, Equatable {
    case overview
    case calls
    case detail(String)
    case help
    case playground
}

/// What a key does.
enum Action: Equatable {
    case quit, back, help, calls, overview, freeze
    case window(ConsoleWindow)
    case up, down, pageUp, pageDown, top, bottom, open, theme
    case filter, command, session, copyID, copyJSON, nextPane, zoom, sort
    case playground, replay
    /// Listed in the footer and help; the playground handles the key itself.
    case playgroundKey
}

/// One binding: the keys, where it applies, what the footer and the help say. The one registry
/// drives the footer hints, the help overlay and dispatch, so they cannot disagree.
struct Binding {
    var keys: [Key]
    var label: String
    var help: String
    var action: Action
    /// Screens where it applies; empty for everywhere.
    var screens: [Screen] = []
    var inFooter = true
}

enum Keymap {
    static let bindings: [Binding] =
        [
            Binding(keys: [.character("?")], label: "? help", help: "show or hide this help", action: .help),
            Binding(
                keys: [.enter],
                label: "Enter drill in",
                help: "open the selected call",
                action: .open,
                screens: [.overview, .calls]
            ),
            Binding(
                keys: [.character("c")],
                label: "c calls",
                help: "every call, newest first",
                action: .calls,
                screens: [.overview]
            ),
            Binding(
                keys: [.character("/")],
                label: "/ filter",
                help: "filter calls: user:alice status:error model:gpt-4o route:default text:refund",
                action: .filter,
                screens: [.overview, .calls]
            ),
            Binding(
                keys: [.character(":")],
                label: ": command",
                help: "command: window 1h · theme light · user alice · filter … · call req_… · quit",
                action: .command
            ),
            Binding(
                keys: [.character("s")],
                label: "s session",
                help: "the other calls of this call's session, in order",
                action: .session,
                screens: [.detail("")]
            ),
            Binding(
                keys: [.character("y")],
                label: "y copy id",
                help: "copy the request id (OSC 52)",
                action: .copyID,
                screens: [.detail("")]
            ),
            Binding(
                keys: [.character("Y")],
                label: "",
                help: "copy the call's request as JSON (OSC 52, up to 64 KB)",
                action: .copyJSON,
                screens: [.detail("")],
                inFooter: false
            ),
            Binding(
                keys: [.tab],
                label: "Tab pane",
                help: "move between the panes: errors, spend (Enter on a user lists their calls), headroom, latency",
                action: .nextPane,
                screens: [.overview]
            ),
            Binding(
                keys: [.character("z")],
                label: "z zoom",
                help: "the selected pane on the whole screen, every row (again: back)",
                action: .zoom,
                screens: [.overview]
            ),
            Binding(
                keys: [.character("s")],
                label: "s sort",
                help: "sort the calls: newest, slowest, costliest, most tokens",
                action: .sort,
                screens: [.calls]
            ),
            Binding(
                keys: [.character("o")],
                label: "o overview",
                help: "back to the overview",
                action: .overview,
                screens: [.calls]
            ),
            Binding(
                keys: [.character("f")],
                label: "f freeze",
                help: "stop following the journal (it keeps being read)",
                action: .freeze,
                screens: [.overview, .calls]
            ),
            Binding(
                keys: ConsoleWindow.allCases.map { .character(Character(String($0.rawValue))) },
                label: "1-6 window",
                help: "window: 1 5m · 2 15m · 3 1h · 4 6h · 5 24h · 6 7d",
                action: .window(.fiveMinutes),
                screens: [.overview]
            ),
            Binding(
                keys: [.character("j"), .down],
                label: "j/k move",
                help: "select the next / previous row, scroll",
                action: .down
            ),
            Binding(keys: [.character("k"), .up], label: "", help: "", action: .up, inFooter: false),
            Binding(
                keys: [.pageDown, .character(" ")],
                label: "",
                help: "a page down",
                action: .pageDown,
                inFooter: false
            ),
            Binding(keys: [.pageUp], label: "", help: "a page up", action: .pageUp, inFooter: false),
            Binding(
                keys: [.character("g"), .home],
                label: "",
                help: "the first row, the top",
                action: .top,
                inFooter: false
            ),
            Binding(
                keys: [.character("G"), .end],
                label: "",
                help: "the last row, the end",
                action: .bottom,
                inFooter: false
            ),
            Binding(
                keys: [.character("t")],
                label: "t theme",
                help: "next theme (default, light, high-contrast, amber, mono)",
                action: .theme
            ),
            Binding(
                keys: [.escape],
                label: "Esc back",
                help: "back to the previous screen",
                action: .back,
                screens: [.calls, .help]
            ),
            Binding(
                keys: [.character("p")],
                label: "p playground",
                help: "the prompt playground: edit a prompt, send it through the pipeline, compare routes",
                action: .playground,
                screens: [.overview, .calls, .detail("")]
            ),
            Binding(
                keys: [.character("r")],
                label: "r replay",
                help: "open the call's request in the playground, to send it again (or change it first)",
                action: .replay,
                screens: [.overview, .calls, .detail("")]
            ),
            Binding(
                keys: [.character("q"), .control("c")],
                label: "q quit",
                help: "quit (back, on an inner screen)",
                action: .quit
            ),
        ] + playgroundBindings

    /// The playground's keys, for its footer and the help; typing goes to the focused editor.
    static let playgroundBindings: [Binding] = [
        ("Ctrl-S", "send", "send the prompt (to both routes when comparing)", Key.control("s")),
        ("Ctrl-R", "route", "next route or model", .control("r")),
        ("Ctrl-K", "compare", "compare with another route side by side (again: the next, then off)", .control("k")),
        ("Ctrl-T", "temp", "temperature: default, 0, 0.2, 0.7, 1", .control("t")),
        ("Ctrl-N", "max", "max tokens: 100, 400, 1000, 4000", .control("n")),
        ("Ctrl-O", "stream", "stream on or off", .control("o")),
        ("Ctrl-G", "schema", "response format: a JSON Schema file (again: back to text)", .control("g")),
        ("Tab", "field", "system prompt or user message", .tab),
        ("Esc", "cancel/back", "cancel the call in flight (upstream too), else back", .escape),
        ("Ctrl-Z", "undo", "undo (Ctrl-Y redo); Ctrl-W deletes a word, Alt-b/f or Ctrl-←/→ jump words", .control("z")),
    ].map { key, label, help, binding in
        Binding(keys: [binding], label: "\(key) \(label)", help: help, action: .playgroundKey, screens: [.playground])
    }

    static func applies(_ binding: Binding, on screen: Screen) -> Bool {
        binding.screens.isEmpty
            || binding.screens.contains {
                if case .detail = screen, case .detail = $0 { return true }
                return $0 == screen
            }
    }

    static func action(for key: Key, on screen: Screen) -> Action? {
        if case .character(let character) = key, let digit = character.wholeNumberValue,
            let window = ConsoleWindow(rawValue: digit), screen == .overview
        {
            return .window(window)
        }
        if key == .escape, case .detail = screen { return .back }
        return bindings.first { applies($0, on: screen) && $0.keys.contains(key) }?.action
    }

    static func footer(on screen: Screen) -> [Binding] {
        if screen == .playground { return playgroundBindings }
        var list = bindings.filter { $0.inFooter && applies($0, on: screen) }
        if case .detail = screen {
            list = list.filter { $0.action != .open }
            list.insert(Binding(keys: [.escape], label: "Esc back", help: "", action: .back), at: 0)
        }
        return list
    }
}

/// The console: one loop owns the screen, reads keys, checks the journal every `refresh`, and
/// draws a frame only when something changed.
public final class ConsoleApp {
    let journal: ConsoleJournal
    let configuration: SwitchboardConfiguration
    var glyphs: Glyphs
    var theme: Theme
    let now: () -> Date
    public private(set) var screens: [Screen] = [.overview] {
        didSet {
            // The calls list is read when a calls screen opens, and kept up to date while one is
            // open (on the stack, under a call's detail).
            if listDue, screens.contains(.calls) { readCalls() }
        }
    }
    /// Whether the calls list missed refreshes while no calls screen was open.
    private var listDue = false
    public private(set) var window: ConsoleWindow = .fifteenMinutes
    public private(set) var frozen = false
    /// While frozen: the last call row before the freeze, and how many calls came after it.
    private var frozenAfter: Int64?
    public private(set) var arrivedWhileFrozen = 0
    var selected = 0
    var scroll = 0
    var snapshot: OverviewSnapshot?
    /// The window's minutes and the budget period's spend, kept between refreshes.
    var kept = OverviewSnapshot.Kept()
    /// The journal's opening `kept` was read from.
    private var keptOpening = 0
    var calls: [CallSummary] = []
    /// The newest calls matching the filter, as read; `calls` is these in the chosen order.
    private var listed: Listed?
    var details: [String: CallDetail] = [:]
    public private(set) var quitting = false
    /// The line being typed after `/` or `:`.
    public private(set) var prompt: (kind: Character, text: String)?
    /// The lines entered at each prompt, oldest first (↑ and ↓ go through them), and where ↑ has
    /// got to with what was being typed before it.
    private var promptHistory: [Character: [String]] = [:]
    private var recalling: (index: Int, typed: String)?
    /// A one-line message above the footer (a filter error, "copied").
    public private(set) var message: (text: String, role: Role)?
    public private(set) var query: FilterQuery?
    /// The session the calls list shows, instead of the filter.
    public private(set) var session: String?
    /// Where `y` sends text: the terminal's clipboard (OSC 52).
    public var onCopy: ((String) -> Void)?
    /// Told when the theme changes (`t`, `:theme`).
    public var onTheme: ((Theme) -> Void)?
    public private(set) var lastCopied: String?
    /// The overview pane that `j`/`k` and `Enter` act on.
    public private(set) var focus: OverviewFocus = .errors
    /// The focused pane fills the screen.
    public private(set) var zoomed = false
    public private(set) var sort: CallSort = .newest
    private var dirty = true
    /// The prompt playground (`p`, or `r` on a call).
    public let playground: PlaygroundState
    /// The width the playground's editors wrap at, as last drawn.
    private var editorWidth = 78

    /// - Parameter sender: where the playground sends (the core in this process, or a gateway);
    ///   `nil` leaves the playground unable to send.
    public init(
        journal: ConsoleJournal,
        configuration: SwitchboardConfiguration,
        theme: Theme,
        ascii: Bool,
        window: ConsoleWindow = .fifteenMinutes,
        sender: (any PlaygroundSender)? = nil,
        now: @escaping () -> Date = Date.init
    ) {
        self.journal = journal
        self.configuration = configuration
        self.theme = theme
        self.glyphs = ascii ? .ascii : .unicode
        self.window = window
        self.now = now
        self.playground = PlaygroundState(sender: sender, now: now)
    }

    public var screen: Screen { screens.last ?? .overview }
    public var themeName: String { theme.name }

    /// Reads what another process committed since the last look: everything when live; while
    /// frozen, only how many calls arrived underneath.
    public func poll() {
        guard journal.changed() else { return }
        guard frozen else { return reload() }
        if let after = frozenAfter, let count = journal.read({ try $0.callCount(after: after) }) {
            arrivedWhileFrozen = count
            dirty = true
        }
    }

    /// Reads the journal again (unless frozen).
    public func reload() {
        guard !frozen else { return }
        let window = self.window
        let budgets = configuration.budgets
        let at = now()
        _ = journal.open()
        var kept = journal.openings == keptOpening ? self.kept : OverviewSnapshot.Kept()
        // Taken rather than copied, so that updating it copies nothing; it is left consistent
        // by a read that fails, and put back either way.
        self.kept = OverviewSnapshot.Kept()
        let snapshot = journal.read {
            try OverviewSnapshot.load(from: $0, window: window, now: at, budgets: budgets, kept: &kept)
        }
        self.kept = kept
        if let snapshot {
            keptOpening = journal.openings
            self.snapshot = snapshot
        }
        if screens.contains(.calls) { readCalls() } else { listDue = true }
        dirty = true
    }

    /// Reads the calls list: the session's calls, or the newest matching the filter.
    private func readCalls() {
        listDue = false
        if let session {
            // A session stays in its own order (step by step).
            if let calls = journal.read({ try $0.session(session) }) { self.calls = calls }
        } else {
            let filter = query?.filter ?? CallFilter()
            if let listed = journal.read({ try Listed.read(filter, from: $0, after: listed) }) {
                self.listed = listed
                self.calls = sort.apply(to: listed.calls)
            }
        }
    }

    /// Handles one key; returns whether the screen must be drawn again.
    @discardableResult
    public func handle(_ key: Key) -> Bool {
        if key == .resize { return true }
        if prompt != nil { return typed(key) }
        if screen == .playground { return playgroundKey(key) }
        guard let action = Keymap.action(for: key, on: screen) else { return false }
        message = nil
        switch action {
        case .quit:
            if screens.count > 1 { screens.removeLast() } else { quitting = true }
        case .back:
            if screens.count > 1 { screens.removeLast() }
            if screen != .calls, session != nil {
                session = nil
                reload()
            }
        case .help:
            if screen == .help { screens.removeLast() } else { screens.append(.help) }
        case .calls:
            screens.append(.calls)
            selected = 0
        case .overview:
            screens = [.overview]
            selected = 0
        case .freeze:
            frozen.toggle()
            arrivedWhileFrozen = 0
            frozenAfter = frozen ? journal.read { try $0.lastCallID() } : nil
            if !frozen { reload() }
        case .window(let window):
            self.window = window
            reload()
        case .down, .pageDown:
            let step = action == .down ? 1 : 10
            if case .detail = screen { scroll += step } else { selected = min(selected + step, max(0, rowCount - 1)) }
        case .up, .pageUp:
            let step = action == .up ? 1 : 10
            if case .detail = screen { scroll = max(0, scroll - step) } else { selected = max(0, selected - step) }
        case .top:
            if case .detail = screen { scroll = 0 } else { selected = 0 }
        case .bottom:
            // The frame holds the scroll to the last screenful.
            if case .detail = screen { scroll = Int.max / 2 } else { selected = max(0, rowCount - 1) }
        case .nextPane:
            focus = focus.next
            selected = 0
        case .zoom:
            zoomed.toggle()
        case .sort:
            sort = sort.next
            calls = sort.apply(to: calls)
            selected = 0
        case .playground:
            screens.append(.playground)
        case .replay:
            guard let requestID = selectedRequestID(), let detail = loadDetail(requestID) else { return false }
            do {
                playground.load(try ReplayRequest(journaled: detail.requestBody))
                screens.append(.playground)
                message = ("\(requestID) loaded: Ctrl-S sends it again", .accent)
                return true
            } catch {
                message = (error.message, .crit)
            }
        case .playgroundKey:
            break
        case .open:
            if screen == .overview, focus == .spend {
                guard let spend = snapshot?.spend, spend.indices.contains(selected) else { return false }
                applyFilter("user:\(spend[selected].user)")
                break
            }
            guard let requestID = selectedRequestID() else { return false }
            loadDetail(requestID)
            scroll = 0
            screens.append(.detail(requestID))
        case .theme:
            let names = Theme.names
            let next = names[((names.firstIndex(of: theme.name) ?? 0) + 1) % names.count]
            theme = Theme.named(next) ?? .mono
            onTheme?(theme)
        case .filter:
            // Ready for one more term.
            prompt = ("/", query.map { $0.text + " " } ?? "")
        case .command:
            prompt = (":", "")
        case .session:
            guard case .detail(let requestID) = screen, let sessionID = details[requestID]?.summary.sessionID else {
                message = ("this call is not part of a session (x-switchboard-session)", .warn)
                break
            }
            session = sessionID
            selected = 0
            reload()
            screens.append(.calls)
        case .copyID, .copyJSON:
            guard case .detail(let requestID) = screen else { break }
            var text = requestID
            if action == .copyJSON, let detail = details[requestID] {
                text = detail.requestBody ?? requestID
                if text.utf8.count > 65_536 {
                    message = ("the call is over 64 KB; copied its request id instead", .warn)
                    text = requestID
                }
            }
            lastCopied = text
            onCopy?(text)
            if message == nil {
                message = ("copied \(action == .copyID ? "the request id" : "the request JSON") (OSC 52)", .ok)
            }
        }
        dirty = true
        return true
    }

    /// A call's detail, read from the journal the first time.
    @discardableResult
    private func loadDetail(_ requestID: String) -> CallDetail? {
        if let detail = details[requestID] { return detail }
        // Kept under the full id, also when asked for by a prefix.
        guard let detail = journal.read({ try $0.call(requestID: requestID) }) ?? nil else { return nil }
        details[detail.summary.requestID] = detail
        return detail
    }

    /// The call a key acts on: the one shown, or the one selected in the calls or the errors.
    private func selectedRequestID() -> String? {
        switch screen {
        case .detail(let requestID): return requestID
        case .calls: return calls.indices.contains(selected) ? calls[selected].requestID : nil
        case .overview:
            guard focus == .errors, let errors = snapshot?.errors, errors.indices.contains(selected) else { return nil }
            return errors[selected].requestID
        default: return nil
        }
    }

    /// A key on the playground screen: the playground's own, else Ctrl-C quits.
    private func playgroundKey(_ key: Key) -> Bool {
        message = nil
        switch playground.handle(key, width: editorWidth) {
        case .handled:
            break
        case .ignored:
            guard key == .control("c") else { return false }
            quitting = true
        case .back:
            screens.removeLast()
        case .askSchema:
            prompt = ("s", "")
        case .message(let text, let role):
            message = (text, role)
        }
        dirty = true
        return true
    }

    /// A key while a `/` filter or `:` command is being typed.
    private func typed(_ key: Key) -> Bool {
        guard var line = prompt else { return false }
        let history = promptHistory[line.kind] ?? []
        switch key {
        case .up:
            guard !history.isEmpty else { return true }
            let index = max(0, (recalling?.index ?? history.count) - 1)
            recalling = (index, recalling?.typed ?? line.text)
            line.text = history[index]
            prompt = line
        case .down:
            guard let current = recalling else { return true }
            if current.index + 1 < history.count {
                recalling = (current.index + 1, current.typed)
                line.text = history[current.index + 1]
            } else {
                recalling = nil
                line.text = current.typed
            }
            prompt = line
        case .escape:
            prompt = nil
            recalling = nil
        case .backspace:
            if line.text.isEmpty {
                prompt = nil
                recalling = nil
            } else {
                line.text.removeLast()
                prompt = line
            }
        case .enter:
            prompt = nil
            recalling = nil
            let entered = line.text.trimmingCharacters(in: .whitespaces)
            if !entered.isEmpty, history.last != entered {
                promptHistory[line.kind] = Array((history + [entered]).suffix(50))
            }
            switch line.kind {
            case "/": applyFilter(line.text)
            case "s":
                if case .message(let text, let role) = playground.loadSchema(path: line.text) { message = (text, role) }
            default: run(command: line.text)
            }
        case .character(let character):
            line.text.append(character)
            prompt = line
        case .paste(let text):
            line.text += text.filter { $0 != "\n" && $0 != "\r" }
            prompt = line
        default:
            return false
        }
        dirty = true
        return true
    }

    /// Applies a `/` filter: the calls list shows only what matches.
    public func applyFilter(_ text: String) {
        do {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            query = trimmed.isEmpty ? nil : try FilterQuery(trimmed)
            session = nil
            selected = 0
            reload()
            if screen != .calls { screens.append(.calls) }
            message = query.map { ("filter: \($0.text) · \(calls.count) calls", .accent) }
        } catch {
            message = (error.message, .crit)
        }
    }

    /// Runs a `:` command.
    public func run(command text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard let verb = words.first else { return }
        let argument = words.dropFirst().joined(separator: " ")
        switch verb {
        case "window", "w":
            guard let window = ConsoleWindow(label: argument) else {
                message = ("window: 5m, 15m, 1h, 6h, 24h or 7d", .crit)
                return
            }
            self.window = window
            reload()
        case "theme":
            guard let theme = Theme.named(argument) else {
                message = ("themes: \(Theme.names.joined(separator: ", "))", .crit)
                return
            }
            self.theme = theme
            onTheme?(theme)
        case "user":
            applyFilter(argument.isEmpty ? "" : "user:\(argument)")
        case "filter":
            applyFilter(argument)
        case "calls":
            if screen != .calls { screens.append(.calls) }
        case "call", "show":
            // A request id from a user's report (the x-request-id of an answer), or a prefix.
            guard !argument.isEmpty else {
                message = ("call: give a request id (req_…) or the start of one", .crit)
                return
            }
            guard let detail = loadDetail(argument) else {
                message = ("no call \(argument) in the journal, or more than one starts so: type more of its id", .crit)
                return
            }
            scroll = 0
            screens.append(.detail(detail.summary.requestID))
        case "overview":
            screens = [.overview]
        case "help":
            screens.append(.help)
        case "q", "quit":
            quitting = true
        default:
            message = (
                "unknown command '\(verb)'; try window 1h, theme light, user alice, filter status:error, call req_…, quit",
                .crit
            )
        }
    }

    private var rowCount: Int {
        if screen == .calls { return calls.count }
        switch focus {
        case .errors: return snapshot?.errors.count ?? 0
        case .spend: return snapshot?.spend.count ?? 0
        case .headroom: return (snapshot?.headroom.count ?? 0) + (snapshot?.circuits.count ?? 0)
        case .latency: return snapshot?.latency.count ?? 0
        }
    }

    /// The frame for a terminal of this size.
    public func frame(width: Int, height: Int) -> CellBuffer {
        var buffer = CellBuffer(width: width, height: height)
        guard width >= 20, height >= 6 else {
            buffer.put(
                "switchboard: the terminal is too small (\(width)×\(height)); 80×24 or more",
                x: 0,
                y: 0,
                role: .warn
            )
            return buffer
        }
        let snapshot =
            self.snapshot
            ?? OverviewSnapshot(
                window: window,
                at: now(),
                totals: RollupCounters(),
                headroom: [],
                circuits: [],
                latency: [],
                errors: [],
                spend: [],
                period: configuration.budgets.period.period(containing: now()).name
            )
        let source = (journal.path as NSString).lastPathComponent
        switch screen {
        case .overview, .help:
            OverviewView(
                snapshot: snapshot,
                glyphs: glyphs,
                source: source,
                live: !frozen,
                arrived: arrivedWhileFrozen,
                selectedError: focus == .errors ? selected : -1,
                selectedUser: focus == .spend ? selected : -1,
                focus: focus,
                zoomed: zoomed ? selected : nil
            )
            .render(into: &buffer)
            if screen == .help { drawHelp(into: &buffer) }
        case .calls:
            OverviewView(
                snapshot: snapshot,
                glyphs: glyphs,
                source: source,
                live: !frozen,
                arrived: arrivedWhileFrozen,
                selectedError: -1,
                selectedUser: -1,
                focus: focus
            )
            .render(into: &buffer)
            for row in 2..<height { buffer.fill(" ", x: 0, y: row, columns: width) }
            let scope =
                session.map { "session \($0), in order" }
                ?? [query.map { "filter \($0.text)" }, sort == .newest ? nil : sort.label].compactMap { $0 }
                .joined(separator: " · ").nilIfEmpty
            CallsView(
                calls: calls,
                selected: selected,
                glyphs: glyphs,
                frozen: frozen,
                arrived: arrivedWhileFrozen,
                scope: scope,
                filtered: session == nil && query != nil
            )
            .render(into: &buffer, top: 2)
        case .playground:
            // The editors' insides, less the column kept for the cursor (as PlaygroundView draws).
            editorWidth = max(2, width - 5)
            PlaygroundView(state: playground, glyphs: glyphs).render(into: &buffer)
        case .detail(let requestID):
            if let detail = details[requestID] {
                // Held to what can be shown, so that a key up after scrolling past the end moves.
                scroll = CallDetailView(detail: detail, scroll: scroll, glyphs: glyphs).render(into: &buffer, top: 0)
            } else {
                buffer.put("the call \(requestID) is not in the journal (pruned?)", x: 1, y: 1, role: .warn)
            }
        }
        if let problem = journal.problem { drawProblem(problem, into: &buffer) }
        drawFooter(into: &buffer)
        return buffer
    }

    private func drawFooter(into buffer: inout CellBuffer) {
        if let message, buffer.height > 2 {
            buffer.fill(" ", x: 0, y: buffer.height - 2, columns: buffer.width)
            buffer.put(" " + message.text, x: 0, y: buffer.height - 2, role: message.role, limit: buffer.width)
        }
        if let prompt {
            let y = buffer.height - 1
            buffer.fill(" ", x: 0, y: y, columns: buffer.width)
            let hint = "  Enter apply  Esc cancel"
            let room = buffer.width - CellBuffer.columns(of: hint) - 2
            let shown = String(prompt.text.suffix(max(0, room)))
            let used = buffer.put(
                [Span(prompt.kind == "s" ? "schema file: " : String(prompt.kind), .key), Span(shown + "▏", .heading)],
                x: 0,
                y: y,
                limit: buffer.width
            )
            buffer.put(hint, x: used, y: y, role: .dim, limit: buffer.width - used)
            return
        }
        var spans: [Span] = []
        for binding in Keymap.footer(on: screen) {
            let parts = binding.label.split(separator: " ", maxSplits: 1).map(String.init)
            spans.append(Span(" " + parts[0], .key))
            if parts.count > 1 { spans.append(Span(" " + parts[1] + " ", .footer)) }
        }
        let y = buffer.height - 1
        buffer.fill(" ", x: 0, y: y, columns: buffer.width)
        // Whole hints only.
        var used = 0
        var index = 0
        while index < spans.count {
            let pair = Array(spans[index..<min(index + 2, spans.count)])
            let columns = pair.reduce(0) { $0 + CellBuffer.columns(of: $1.text) }
            guard used + columns <= buffer.width else { break }
            used += buffer.put(pair, x: used, y: y, limit: columns)
            index += 2
        }
    }

    private func drawHelp(into buffer: inout CellBuffer) {
        let entries = Keymap.bindings.filter { !$0.help.isEmpty }
        let width = min(buffer.width - 4, 76)
        let height = min(buffer.height - 2, entries.count + 4)
        let rect = Rect(
            x: (buffer.width - width) / 2,
            y: max(1, (buffer.height - height) / 2),
            width: width,
            height: height
        )
        for row in rect.y..<(rect.y + rect.height) { buffer.fill(" ", x: rect.x, y: row, columns: rect.width) }
        let inner = buffer.box(rect, title: "Help · keys", glyphs: glyphs, focused: true)
        for (offset, binding) in entries.prefix(inner.height - 1).enumerated() {
            let keys = binding.keys.map(Self.name).joined(separator: " ")
            buffer.put(
                [Span(CellBuffer.pad(keys, 16), .key), Span(binding.help)],
                x: inner.x + 1,
                y: inner.y + offset,
                limit: inner.width - 2
            )
        }
        buffer.put("Esc or ? closes", x: inner.x + 1, y: inner.y + inner.height - 1, role: .dim, limit: inner.width - 2)
    }

    private func drawProblem(_ problem: String, into buffer: inout CellBuffer) {
        let width = min(buffer.width - 4, 90)
        let rect = Rect(x: (buffer.width - width) / 2, y: buffer.height / 2 - 2, width: width, height: 4)
        for row in rect.y..<(rect.y + rect.height) { buffer.fill(" ", x: rect.x, y: row, columns: rect.width) }
        let inner = buffer.box(rect, title: "Journal unavailable", glyphs: glyphs, focused: true)
        buffer.put(
            CellBuffer.fit(problem, inner.width - 2),
            x: inner.x + 1,
            y: inner.y,
            role: .crit,
            limit: inner.width - 2
        )
        buffer.put(
            "still watching \(journal.path); the panes come back when it can be read",
            x: inner.x + 1,
            y: inner.y + 1,
            role: .dim,
            limit: inner.width - 2
        )
    }

    static func name(_ key: Key) -> String {
        switch key {
        case .character(" "): "Space"
        case .character(let character): String(character)
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .backspace: "Bksp"
        case .delete: "Del"
        case .control(let character): "Ctrl-" + String(character).uppercased()
        case .alt(let character): "Alt-" + String(character)
        case .wordLeft: "Ctrl-←"
        case .wordRight: "Ctrl-→"
        case .paste, .resize: ""
        }
    }

    /// Shows `text` on the line above the footer until the next key.
    public func notify(_ text: String, role: Role = .accent) {
        message = (text, role)
        dirty = true
    }

    /// Runs until `q` (or until `stop` says so; it is asked at least every `refresh`): keys as they
    /// come, the journal checked every `refresh`, a frame drawn only when something changed (the
    /// clock in the title is the time of the data shown).
    public func run(on terminal: any Terminal, refresh: Duration, stop: () -> Bool = { false }) {
        onCopy = { terminal.copy($0) }
        onTheme = { terminal.apply($0) }
        reload()
        while !quitting, !stop() {
            if playground.drain() { dirty = true }
            if dirty {
                terminal.draw(frame(width: terminal.width, height: terminal.height))
                dirty = false
            }
            // An answer streaming in is drawn as it comes, not at the journal's pace.
            if let key = terminal.readKey(timeout: playground.isRunning ? .milliseconds(30) : refresh) {
                if handle(key) { dirty = true }
                continue
            }
            poll()
        }
        playground.cancel()
    }
}

/// The overview pane keys act on.
public enum OverviewFocus: Sendable, Equatable, CaseIterable {
    case errors, spend, headroom, latency

    /// The pane `Tab` moves to.
    var next: OverviewFocus {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// How the calls list is ordered.
public enum CallSort: Sendable, Equatable, CaseIterable {
    case newest, slowest, costliest, tokens

    var next: CallSort {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    var label: String {
        switch self {
        case .newest: "newest first"
        case .slowest: "slowest first"
        case .costliest: "costliest first"
        case .tokens: "most tokens first"
        }
    }

    func apply(to calls: [CallSummary]) -> [CallSummary] {
        switch self {
        case .newest: calls.sorted { $0.id > $1.id }
        case .slowest: calls.sorted { ($0.latencyMilliseconds ?? 0) > ($1.latencyMilliseconds ?? 0) }
        case .costliest: calls.sorted { ($0.costNanoUSD ?? 0) > ($1.costNanoUSD ?? 0) }
        case .tokens: calls.sorted { $0.tokens.totalInput + $0.tokens.output > $1.tokens.totalInput + $1.tokens.output }
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// The newest calls matching a filter, newest first, kept between refreshes: a refresh reads only
/// the rows committed since the last (the list again when the filter changed, more than a list's
/// worth arrived, or the journal is another file).
struct Listed {
    static let size = 500

    var filter: CallFilter
    /// The newest row of the journal before the last read: rows after it were not all seen.
    var watermark: Int64
    var calls: [CallSummary]

    static func read(_ filter: CallFilter, from reader: JournalReader, after previous: Listed?) throws(JournalError)
        -> Listed
    {
        let watermark = try reader.lastCallID()
        if let previous, previous.filter == filter, watermark >= previous.watermark {
            let added = try reader.calls(matching: filter, after: previous.watermark, limit: size)
            if added.count < size {
                // Rows read after the watermark last time are in the list already.
                let newest = previous.calls.first?.id ?? 0
                let fresh = added.reversed().filter { $0.id > newest }
                return Listed(filter: filter, watermark: watermark, calls: Array((fresh + previous.calls).prefix(size)))
            }
        }
        return Listed(filter: filter, watermark: watermark, calls: try reader.calls(matching: filter, limit: size))
    }
}
