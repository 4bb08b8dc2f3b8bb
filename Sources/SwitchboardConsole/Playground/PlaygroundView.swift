import Foundation
import SwitchboardWire

/// The playground screen: a header with the route and parameters, the system and user editors,
/// and the answer (two side by side when comparing) with its figures underneath.
struct PlaygroundView {
    let state: PlaygroundState
    let glyphs: Glyphs

    /// Draws into the rows above the footer's two lines; updates the state's scroll positions.
    func render(into buffer: inout CellBuffer) {
        let width = buffer.width
        let bottom = max(1, buffer.height - 2)
        var header = [
            Span("Playground", .title), Span(" · route ", .dim), Span(state.route, .accent),
        ]
        if let compare = state.compareRoute { header += [Span(" vs ", .dim), Span(compare, .accent)] }
        header += [
            Span(" · temperature \(state.temperature.map { String(format: "%g", $0) } ?? "default")", .dim),
            Span(" · max \(state.maxTokens)", .dim),
            Span(" · stream \(state.stream ? "on" : "off")", .dim),
            Span(" · \(state.schema.map { "schema " + ($0.path as NSString).lastPathComponent } ?? "text")", .dim),
        ]
        if let user = state.sender?.billedTo { header.append(Span(" · billed to \(user)", .dim)) }
        buffer.put(header, x: 1, y: 0, limit: width - 2)

        // Editors take what their text needs, within a share of the screen; the answers the rest.
        let systemHeight = editorHeight(state.system, width: width, share: bottom / 4)
        let userHeight = editorHeight(state.user, width: width, share: bottom / 3)
        state.scrolls.system = drawEditor(
            state.system,
            title: "System",
            in: Rect(x: 0, y: 1, width: width, height: systemHeight),
            scroll: state.scrolls.system,
            focused: state.focus == .system,
            into: &buffer
        )
        state.scrolls.user = drawEditor(
            state.user,
            title: "User",
            in: Rect(x: 0, y: 1 + systemHeight, width: width, height: userHeight),
            scroll: state.scrolls.user,
            focused: state.focus == .user,
            into: &buffer
        )
        let y = 1 + systemHeight + userHeight

        let answerHeight = bottom - y - 1
        guard answerHeight >= 3 else { return }
        if state.runs.isEmpty {
            let box = Self.padded(
                buffer.box(Rect(x: 0, y: y, width: width, height: answerHeight), title: "Answer", glyphs: glyphs)
            )
            let hint =
                state.unavailable ?? "Ctrl-S sends through the pipeline; the call is journaled with origin playground"
            buffer.put(
                CellBuffer.fit(hint, box.width - 1),
                x: box.x,
                y: box.y,
                role: state.unavailable == nil ? .dim : .crit
            )
            return
        }
        let columns = state.runs.count
        let columnWidth = width / columns
        for (index, run) in state.runs.enumerated() {
            let x = index * columnWidth
            let span = index == columns - 1 ? width - x : columnWidth
            drawAnswer(run, in: Rect(x: x, y: y, width: span, height: answerHeight), into: &buffer)
            buffer.put(figures(run), x: x + 1, y: y + answerHeight, limit: span - 2)
        }
    }

    private func drawAnswer(_ run: PlaygroundState.Run, in rect: Rect, into buffer: inout CellBuffer) {
        var title = "Answer"
        switch run.status {
        case .running:
            title += " · " + (run.firstText == nil ? "waiting" : "streaming")
        case .finished: title += " · done"
        case .failed: title += " · failed"
        case .cancelled: title += " · cancelled"
        }
        if let first = run.firstText {
            title += " · ttft " + Format.milliseconds(first.timeIntervalSince(run.started) * 1_000)
        }
        // Last, so a narrow box cuts the route (the figures below name the model) before the state.
        if state.runs.count > 1 { title += " · \(run.route)" }
        let box = Self.padded(buffer.box(rect, title: title, glyphs: glyphs))
        guard box.width > 1, box.height > 0 else { return }
        var rows = TextEditor(text: run.text).rows(width: box.width - 1).map { ($0.text, Role.normal) }
        if run.text.isEmpty { rows = [] }
        if case .failed(let message, _) = run.status {
            if !rows.isEmpty { rows.append(("", .normal)) }
            rows += TextEditor(text: message).rows(width: box.width - 1).map { ($0.text, Role.crit) }
        }
        // While the answer grows, its end stays in view.
        let first = max(0, rows.count - box.height)
        for (offset, row) in rows.dropFirst(first).prefix(box.height).enumerated() {
            buffer.put(row.0, x: box.x, y: box.y + offset, role: row.1, limit: box.width)
        }
        if run.status == .running {
            let last = rows.last?.0 ?? ""
            let cursorY = box.y + max(0, min(box.height - 1, rows.count - 1 - first))
            let cursorX = box.x + min(box.width - 1, CellBuffer.columns(of: last))
            buffer.put("▌", x: cursorX, y: cursorY, role: .accent)
        }
    }

    /// Rows an editor's box takes: its text's and its borders, at least one row of text, at most
    /// `share` of the screen.
    private func editorHeight(_ editor: TextEditor, width: Int, share: Int) -> Int {
        min(max(3, editor.rows(width: max(2, width - 5)).count + 2), max(3, share))
    }

    /// An editor in a titled box (bright when focused); returns its scroll position.
    private func drawEditor(
        _ editor: TextEditor,
        title: String,
        in rect: Rect,
        scroll: Int,
        focused: Bool,
        into buffer: inout CellBuffer
    ) -> Int {
        let box = buffer.box(rect, title: title, glyphs: glyphs, focused: focused)
        return buffer.draw(editor, in: Self.padded(box), scroll: scroll, focused: focused)
    }

    /// A box's inside with a column of space at each side.
    static func padded(_ rect: Rect) -> Rect {
        Rect(x: rect.x + 1, y: rect.y, width: max(0, rect.width - 2), height: rect.height)
    }

    /// The line under an answer: model, attempts, latency, tokens, cost, verdicts, request id.
    private func figures(_ run: PlaygroundState.Run) -> [Span] {
        let figures: PlaygroundFigures
        switch run.status {
        case .running: return [Span("sending to \(run.route)…", .dim)]
        case .cancelled: return [Span("cancelled upstream", .warn)]
        case .finished(let done): figures = done
        case .failed(_, let done?): figures = done
        case .failed(_, nil): return [Span("failed before it was journaled", .crit)]
        }
        var parts: [String] = []
        if let model = figures.modelUsed { parts.append(model) }
        parts.append(figures.attempts == 1 ? "1 attempt" : "\(figures.attempts) attempts")
        if let latency = figures.latency { parts.append(Format.milliseconds(latency.millisecondsDouble)) }
        if let ttft = figures.timeToFirstToken { parts.append("ttft " + Format.milliseconds(ttft.millisecondsDouble)) }
        var input = "in \(Format.grouped(figures.inputTokens))"
        if figures.cachedTokens > 0 { input += " (cached \(Format.grouped(figures.cachedTokens)))" }
        parts.append(input)
        parts.append("out \(Format.grouped(figures.outputTokens))")
        if let cost = figures.costNanoUSD { parts.append(Format.dollars(cost)) }
        if let cache = figures.cache { parts.append("cache \(cache)") }
        if let moderation = figures.moderation { parts.append("moderation \(moderation)") }
        if let validation = figures.validation { parts.append("validation \(validation)") }
        parts.append(figures.requestID)
        return [Span(parts.joined(separator: " · "), .dim)]
    }
}
