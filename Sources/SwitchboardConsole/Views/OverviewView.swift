import Foundation
import SwitchboardCore
import SwitchboardJournal

/// A pane's content: an optional column header and rows, each a line of spans.
struct PaneContent {
    var header: [Span]?
    var count: Int
    /// Row `index`, built when drawn: a pane draws only the rows that fit, of sixty users or forty
    /// errors.
    var row: (Int) -> [Span]

    init(header: [Span]?, rows: [[Span]]) {
        self.init(header: header, count: rows.count) { rows[$0] }
    }

    init(header: [Span]?, count: Int, row: @escaping (Int) -> [Span]) {
        self.header = header
        self.count = count
        self.row = row
    }
}

/// The overview: a header with the window's figures and five panes — rate-limit headroom,
/// latency, cache, the error stream and spend per user. Wide terminals get boxed panes side by
/// side; narrow ones (80×24) stacked sections with the cache folded into the header.
struct OverviewView {
    var snapshot: OverviewSnapshot
    var glyphs: Glyphs
    var source: String
    var live: Bool
    /// Calls journaled since the view froze.
    var arrived = 0
    /// The selected error (Enter opens it), or -1.
    var selectedError: Int
    /// The selected user of the spend pane (Enter lists their calls), or -1.
    var selectedUser: Int
    var focus: OverviewFocus
    /// When the focused pane fills the screen: the row to keep in sight.
    var zoomed: Int?

    static func isWide(width: Int, height: Int) -> Bool { width >= 140 && height >= 34 }

    func render(into buffer: inout CellBuffer) {
        let width = buffer.width
        let height = buffer.height
        let wide = Self.isWide(width: width, height: height)
        drawTitle(into: &buffer)
        drawFigures(into: &buffer, withCache: !wide)
        let top = 2
        let bottom = height - 1
        if let row = zoomed {
            // Inside the box and its one-column margins.
            let table = table(focus, width: width - 4)
            let rect = Rect(x: 0, y: top, width: width, height: bottom - top)
            pane(&buffer, rect, table.title + " · z: back", table.content, boxed: true, focused: true, selected: row)
            return
        }
        if wide {
            func boxed(_ which: OverviewFocus, _ rect: Rect) {
                let table = table(which, width: rect.width - 2)
                pane(
                    &buffer,
                    rect,
                    table.title,
                    table.content,
                    boxed: true,
                    focused: focus == which,
                    selected: table.selected
                )
            }
            let available = bottom - top
            let band = max(6, available / 3)
            let left = width * 11 / 20
            boxed(.headroom, Rect(x: 0, y: top, width: left, height: band))
            boxed(.latency, Rect(x: left, y: top, width: width - left, height: band))
            let middle = top + band
            // Wide enough for `prompt cache    100.0% of input`.
            let cacheWidth = 36
            pane(
                &buffer,
                Rect(x: 0, y: middle, width: cacheWidth, height: band),
                "Cache · \(snapshot.window.label)",
                cache(),
                boxed: true
            )
            boxed(.errors, Rect(x: cacheWidth, y: middle, width: width - cacheWidth, height: band))
            let lower = middle + band
            boxed(.spend, Rect(x: 0, y: lower, width: width, height: bottom - lower))
        } else {
            // Stacked sections: a title rule and rows, sized to what fits.
            let available = bottom - top
            let sizes = Self.stackedHeights(available)
            var y = top
            for (index, which) in [OverviewFocus.headroom, .latency, .errors, .spend].enumerated()
            where sizes[index] > 0 {
                let table = table(which, width: width, narrow: true)
                let rect = Rect(x: 0, y: y, width: width, height: sizes[index])
                pane(&buffer, rect, table.title, table.content, boxed: false, selected: table.selected)
                y += sizes[index]
            }
        }
    }

    /// A table pane: its title, its rows laid out for `width` columns, and the selected row (-1
    /// for none). `narrow` leaves the window out of the spend pane's title.
    private func table(_ which: OverviewFocus, width: Int, narrow: Bool = false) -> (
        title: String, content: PaneContent, selected: Int
    ) {
        switch which {
        case .headroom: ("Rate-limit headroom", headroom(width: width), -1)
        case .latency: ("Latency · \(snapshot.window.label)", latency(width: width), -1)
        case .errors: ("Errors · newest first", errors(width: width), selectedError)
        case .spend:
            (
                "Spend per user · \(narrow ? "" : "\(snapshot.window.label) · ")budget \(snapshot.period)",
                spend(width: width), selectedUser
            )
        }
    }

    /// Heights of the four stacked sections in `rows`: headroom, latency, errors, spend.
    static func stackedHeights(_ rows: Int) -> [Int] {
        // Title + header + rows for tables; title + rows for errors. 21 rows: 5, 5, 5, 6.
        var sizes = [5, 5, 5, 6]
        var total = sizes.reduce(0, +)
        var index = 3
        while total > rows, sizes.contains(where: { $0 > 2 }) {
            if sizes[index] > 2 {
                sizes[index] -= 1
                total -= 1
            }
            index = (index + 3) % 4
        }
        while total < rows {
            sizes[index % 4] += 1
            total += 1
            index += 1
        }
        return sizes
    }

    // MARK: - Header

    private func drawTitle(into buffer: inout CellBuffer) {
        var spans = [Span(" Switchboard ", .title), Span("\(glyphs.arrow) \(source)", .dim)]
        var windows: [Span] = [Span("window ", .dim)]
        for window in ConsoleWindow.allCases {
            windows.append(Span("[\(window.rawValue)]", .key))
            windows.append(Span(window.label + " ", window == snapshot.window ? .selection : .normal))
        }
        let state =
            live
            ? Span("\(glyphs.live) LIVE", .ok)
            : Span("\(glyphs.paused) FROZEN" + (arrived > 0 ? " · \(Format.count(arrived)) new" : ""), .warn)
        let clock = Span("  \(Format.clock(snapshot.at)) UTC ", .dim)
        let right = windows + [Span("  "), state, clock]
        let rightWidth = right.reduce(0) { $0 + CellBuffer.columns(of: $1.text) }
        let leftWidth = buffer.put(spans, x: 0, y: 0, limit: buffer.width)
        if leftWidth + rightWidth + 1 <= buffer.width {
            buffer.put(right, x: buffer.width - rightWidth, y: 0, limit: rightWidth)
        } else {
            spans = [state, clock]
            let short = spans.reduce(0) { $0 + CellBuffer.columns(of: $1.text) }
            buffer.put(spans, x: max(leftWidth + 1, buffer.width - short), y: 0, limit: short)
        }
    }

    private func drawFigures(into buffer: inout CellBuffer, withCache: Bool) {
        let totals = snapshot.totals
        var spans: [Span] = []
        func figure(_ label: String, _ value: String, _ role: Role = .heading) {
            spans.append(Span(" \(label) ", .dim))
            spans.append(Span(value, role))
            spans.append(Span("  "))
        }
        figure("calls", Format.fixed(snapshot.callsPerSecond, 1) + "/s")
        let errorRole: Role =
            totals.calls > 0 && Double(totals.failures) / Double(totals.calls) > 0.05 ? .crit : .heading
        figure("errors", Format.percent(totals.failures, of: totals.calls), errorRole)
        figure("p99", Format.milliseconds(totals.latency.quantile(0.99)))
        figure("exact cache", Format.percent(totals.cacheHits, of: totals.calls), .cached)
        figure("spend", Format.dollars(totals.costNanoUSD))
        figure("saved", Format.dollars(totals.savedNanoUSD), .ok)
        figure("retried", Format.percent(totals.retried, of: totals.calls))
        figure("fell back", Format.percent(totals.fellBack, of: totals.calls))
        figure("paced", Format.count(totals.paced))
        if withCache {
            figure(
                "prompt cache",
                Format.percent(totals.cachedInputTokens, of: totals.inputTokens + totals.cachedInputTokens),
                .cached
            )
            figure("joined", Format.count(totals.cacheJoined))
        }
        // Whole figures only: drop from the end rather than cut one in half.
        var shown: [Span] = []
        var used = 0
        for chunk in stride(from: 0, to: spans.count, by: 3) {
            let group = Array(spans[chunk..<min(chunk + 3, spans.count)])
            let columns = group.reduce(0) { $0 + CellBuffer.columns(of: $1.text) }
            guard used + columns - 2 <= buffer.width else { break }
            shown += group
            used += columns
        }
        buffer.put(shown, x: 0, y: 1, limit: buffer.width)
    }

    // MARK: - Panes

    private func pane(
        _ buffer: inout CellBuffer,
        _ rect: Rect,
        _ title: String,
        _ content: PaneContent,
        boxed: Bool,
        focused: Bool = false,
        selected: Int = -1
    ) {
        guard rect.height > 0, rect.width > 4 else { return }
        var inner: Rect
        if boxed {
            inner = buffer.box(rect, title: title, glyphs: glyphs, focused: focused)
        } else {
            buffer.put(String(glyphs.horizontal) + " ", x: 0, y: rect.y, role: .border)
            let used = buffer.put(title, x: 2, y: rect.y, role: .heading, limit: rect.width - 3)
            buffer.fill(glyphs.horizontal, x: 3 + used, y: rect.y, columns: rect.width - 3 - used, role: .border)
            inner = Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: rect.height - 1)
        }
        var y = inner.y
        if let header = content.header, inner.height > 1 {
            buffer.put(header, x: inner.x + (boxed ? 1 : 0), y: y, limit: inner.width - (boxed ? 2 : 0))
            y += 1
        }
        if content.count == 0, y < inner.y + inner.height {
            buffer.put(
                "nothing in this window yet",
                x: inner.x + (boxed ? 1 : 0),
                y: y,
                role: .dim,
                limit: inner.width - 2
            )
        }
        // The rows from the one that keeps the selected row in sight.
        let visible = inner.y + inner.height - y
        let first = max(0, min(selected - visible + 1, content.count - visible))
        for index in first..<max(first, content.count) where y < inner.y + inner.height {
            buffer.put(content.row(index), x: inner.x + (boxed ? 1 : 0), y: y, limit: inner.width - (boxed ? 2 : 0))
            y += 1
        }
    }

    private func column(_ text: String, _ width: Int, _ role: Role = .normal, right: Bool = false) -> Span {
        Span(CellBuffer.pad(text, width, right: right) + " ", role)
    }

    func headroom(width: Int) -> PaneContent {
        let bar = width >= 90 ? 10 : 6
        let name = max(16, min(32, width - 2 * (bar + 12) - 6 - 6 - 4))
        let header = [
            column("provider/model", name, .dim), column("key", 6, .dim), column("requests", bar + 12, .dim),
            column("tokens", bar + 12, .dim), column("reset", 5, .dim, right: true),
        ]
        var rows: [[Span]] = []
        for circuit in snapshot.circuits {
            rows.append([
                column(circuit.target, name, .heading),
                Span(Self.circuitText(circuit, now: snapshot.at), circuit.state == "open" ? .crit : .warn),
            ])
        }
        for row in snapshot.headroom.sorted(by: { ($0.provider, $0.model) < ($1.provider, $1.model) }) {
            let key = "…" + String(row.keyFingerprint.suffix(4))
            func gauge(_ window: (limit: Int?, remaining: Int?, resetAt: Date?), _ width: Int, _ countWidth: Int)
                -> [Span]
            {
                guard let limit = window.limit, let remaining = window.remaining, limit > 0 else {
                    return [column("–", width + countWidth)]
                }
                let share = Double(remaining) / Double(limit)
                let role: Role = share < 0.1 ? .crit : share < 0.3 ? .warn : .barFull
                return Graphics.bar(share, width: width, glyphs: glyphs, full: role)
                    + [
                        Span(" "),
                        column("\(Format.compact(remaining))/\(Format.compact(limit))", countWidth - 1, right: true),
                    ]
            }
            let reset = [row.requests.resetAt, row.tokens.resetAt].compactMap { $0 }.max()
            rows.append(
                [column("\(row.provider)/\(row.model)", name), column(key, 6, .dim)]
                    + gauge(row.requests, bar, 12) + gauge(row.tokens, bar, 12)
                    + [column(Format.until(reset, from: snapshot.at), 5, .dim, right: true)]
            )
        }
        return PaneContent(header: header, rows: rows)
    }

    func latency(width: Int) -> PaneContent {
        let name = width >= 70 ? 20 : 16
        let history = max(0, min(OverviewSnapshot.historySlots, width - name - 5 * 8 - 2))
        var header = [
            column("model", name, .dim), column("p50", 7, .dim, right: true), column("p90", 7, .dim, right: true),
            column("p99", 7, .dim, right: true), column("ttft", 7, .dim, right: true),
        ]
        if history >= 4 { header.append(Span("p99 history", .dim)) }
        let rows = snapshot.latency.map { model -> [Span] in
            var row = [
                column(model.model, name), column(Format.milliseconds(model.p50), 7, right: true),
                column(Format.milliseconds(model.p90), 7, right: true),
                column(Format.milliseconds(model.p99), 7, .heading, right: true),
                column(Format.milliseconds(model.ttft), 7, .dim, right: true),
            ]
            if history >= 4 {
                row.append(Span(Graphics.sparkline(Array(model.history.suffix(history)), glyphs: glyphs), .accent))
            }
            return row
        }
        return PaneContent(header: header, rows: rows)
    }

    func cache() -> PaneContent {
        let totals = snapshot.totals
        return PaneContent(
            header: nil,
            rows: [
                [column("exact hit", 16, .dim), Span(Format.percent(totals.cacheHits, of: totals.calls), .cached)],
                [
                    column("prompt cache", 16, .dim),
                    Span(
                        Format.percent(totals.cachedInputTokens, of: totals.inputTokens + totals.cachedInputTokens)
                            + " of input",
                        .cached
                    ),
                ],
                [column("saved", 16, .dim), Span(Format.dollars(totals.savedNanoUSD), .ok)],
                [column("joined in-flight", 16, .dim), Span(Format.count(totals.cacheJoined))],
            ]
        )
    }

    /// The short label and role of a failed call: its HTTP status, or what refused it.
    /// `circuit OPEN (8 of 16 failed) · probe in 14s` (or `probe due`: the next call probes),
    /// `circuit HALF-OPEN · probing since 12:04:31`.
    static func circuitText(_ circuit: OverviewSnapshot.Circuit, now: Date) -> String {
        switch circuit.state {
        case "open":
            var text = "circuit OPEN"
            if circuit.from == "half_open" {
                text += " (its probe failed)"
            } else if let calls = circuit.calls, let failures = circuit.failures, calls > 0 {
                text += " (\(failures) of \(calls) failed)"
            }
            guard let probeAt = circuit.probeAt else { return text + " since \(Format.clock(circuit.at))" }
            return text + (probeAt > now ? " · probe in \(Format.until(probeAt, from: now))" : " · probe due")
        case "half_open":
            return "circuit HALF-OPEN · probing since \(Format.clock(circuit.at))"
        default:
            return "circuit \(circuit.state.uppercased()) since \(Format.clock(circuit.at))"
        }
    }

    static func label(_ call: CallSummary) -> (String, Role) {
        switch call.outcome {
        case "blocked": return ("BLK", .blocked)
        case "budget": return ("BUD", .warn)
        case "invalid_output": return ("INV", .warn)
        case "rate_limited": return ("LIM", .rateLimited)
        default:
            guard let status = call.httpStatus else { return ("ERR", .crit) }
            if status == 429 { return ("429", .rateLimited) }
            if call.errorClass == "cancelled" { return ("CXL", .dim) }
            return (String(status), status >= 500 || status == 499 ? .crit : .warn)
        }
    }

    func errors(width: Int) -> PaneContent {
        let target = width >= 100 ? 24 : 16
        let errors = snapshot.errors
        return PaneContent(header: nil, count: errors.count) { index in
            let call = errors[index]
            let (label, role) = Self.label(call)
            let attempts = call.attempts > 0 ? "\(call.attempts) att" : "—"
            let model = call.provider.map { "\($0)/\(call.model ?? "?")" } ?? "—"
            var message = call.errorClass ?? call.outcome
            if let text = call.errorMessage, !text.isEmpty { message += " · " + text }
            if call.fellBack { message += " · fell back" }
            let selected = index == selectedError
            return [
                Span(selected ? "▶ " : "  ", .accent), column(Format.clock(call.startedAt), 8, .dim),
                column(label, 3, role),
                column(model, target), column(call.userID ?? "—", 8), column(attempts, 5, .dim),
                Span(message, selected ? .selection : role == .crit ? .normal : .dim),
            ]
        }
    }

    func spend(width: Int) -> PaneContent {
        let bar = width >= 100 ? 10 : 6
        let wideColumns = width >= 100
        var header = [
            column("user", 12, .dim), column("spend", 9, .dim, right: true), column("budget", bar + 15, .dim),
            column("calls", 7, .dim, right: true),
        ]
        if wideColumns {
            header += [column("tokens in / out", 17, .dim, right: true), column("errors", 6, .dim, right: true)]
        }
        header.append(Span("spend over window", .dim))
        let users = snapshot.spend
        return PaneContent(header: header, count: users.count) { index in
            let user = users[index]
            var row = [
                column(user.user, 12, index == selectedUser ? .selection : .normal),
                column(Format.dollars(user.window.costNanoUSD), 9, .heading, right: true),
            ]
            if let budget = user.budget, budget.hardNanoUSD > 0 {
                let share = Double(user.periodNanoUSD) / Double(budget.hardNanoUSD)
                let role: Role =
                    user.periodNanoUSD >= budget.hardNanoUSD
                    ? .crit : user.periodNanoUSD >= budget.softNanoUSD ? .warn : .barFull
                row += Graphics.bar(share, width: bar, glyphs: glyphs, full: role)
                row.append(
                    column(
                        " \(Int((share * 100).rounded()))% of \(Format.dollars(budget.hardNanoUSD))",
                        14,
                        role == .barFull ? .dim : role
                    )
                )
            } else {
                row.append(column("no budget", bar + 14, .dim))
            }
            row.append(column(Format.count(user.window.calls), 7, right: true))
            if wideColumns {
                row.append(
                    column(
                        "\(Format.count(user.window.inputTokens + user.window.cachedInputTokens)) / \(Format.count(user.window.outputTokens))",
                        17,
                        right: true
                    )
                )
                row.append(
                    column(
                        Format.percent(user.window.failures, of: user.window.calls),
                        6,
                        user.window.failures > 0 ? .warn : .dim,
                        right: true
                    )
                )
            }
            row.append(Span(Graphics.sparkline(user.history, glyphs: glyphs), .accent))
            return row
        }
    }
}
