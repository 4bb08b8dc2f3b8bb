import Foundation
import SwitchboardJournal
import SwitchboardWire

/// The calls list: newest first, one line each, the selected one highlighted.
struct CallsView {
    var calls: [CallSummary]
    var selected: Int
    var glyphs: Glyphs
    var frozen: Bool
    /// Calls journaled since the list froze.
    var arrived = 0
    /// The filter or session shown, if any.
    var scope: String?
    /// Whether a `/` filter narrows the list.
    var filtered = false

    func render(into buffer: inout CellBuffer, top: Int) {
        let width = buffer.width
        let title =
            "Calls · " + (scope ?? "newest first")
            + (frozen ? " · FROZEN · \(Format.count(arrived)) new underneath, f follows again" : "")
        let inner = buffer.box(
            Rect(x: 0, y: top, width: width, height: buffer.height - 1 - top),
            title: title,
            glyphs: glyphs
        )
        let model = width >= 120 ? 26 : 18
        func column(_ text: String, _ columns: Int, _ role: Role = .normal, right: Bool = false) -> Span {
            Span(CellBuffer.pad(text, columns, right: right) + " ", role)
        }
        buffer.put(
            [
                column("time", 8, .dim), column("outcome", 14, .dim), column("model", model, .dim),
                column("user", 10, .dim),
                column("latency", 8, .dim, right: true), column("tokens", 11, .dim, right: true),
                column("cost", 9, .dim, right: true), Span("request", .dim),
            ],
            x: inner.x + 1,
            y: inner.y,
            limit: inner.width - 2
        )
        let visible = max(0, inner.height - 1)
        let first = max(0, min(selected - visible + 1, calls.count - visible))
        for (offset, call) in calls.dropFirst(first).prefix(visible).enumerated() {
            let index = first + offset
            let role: Role =
                switch call.outcome {
                case "ok": .ok
                case "cached": .cached
                case "blocked": .blocked
                case "rate_limited": .rateLimited
                case "budget", "invalid_output": .warn
                default: .crit
                }
            let row = [
                column(Format.clock(call.startedAt), 8, .dim), column(call.outcome, 14, role),
                column(call.model ?? "—", model), column(call.userID ?? "—", 10),
                column(Format.milliseconds(call.latencyMilliseconds), 8, right: true),
                column(
                    "\(Format.count(call.tokens.totalInput))/\(Format.count(call.tokens.output))",
                    11,
                    .dim,
                    right: true
                ),
                column(call.costNanoUSD.map(Format.dollars) ?? "?", 9, right: true), Span(call.requestID, .dim),
            ]
            let y = inner.y + 1 + offset
            if index == selected {
                buffer.fill(" ", x: inner.x, y: y, columns: inner.width, role: .selection)
                buffer.put(row.map { Span($0.text, .selection) }, x: inner.x + 1, y: y, limit: inner.width - 2)
            } else {
                buffer.put(row, x: inner.x + 1, y: y, limit: inner.width - 2)
            }
        }
        if calls.isEmpty {
            buffer.put(
                filtered
                    ? "no call matches this filter · / edits it, and an empty filter shows every call"
                    : "no calls in the journal yet",
                x: inner.x + 1,
                y: inner.y + 1,
                role: .dim,
                limit: inner.width - 2
            )
        }
    }
}

/// One call in full: what was asked, what came back, every attempt, the events, the cost and the
/// verdicts. Scrolls when taller than the screen.
struct CallDetailView {
    var detail: CallDetail
    var scroll: Int
    var glyphs: Glyphs

    /// The lines of the detail, before scrolling.
    func lines(width: Int) -> [[Span]] {
        let call = detail.summary
        var lines: [[Span]] = []
        func section(_ title: String) {
            lines.append([])
            lines.append([Span(String(glyphs.horizontal) + " ", .border), Span(title, .heading)])
        }
        func wrap(_ text: String, indent: String = "  ", role: Role = .normal) {
            for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var line = ""
                for word in paragraph.split(separator: " ", omittingEmptySubsequences: false) {
                    if CellBuffer.columns(of: line) + CellBuffer.columns(of: String(word)) + 1 > width - indent.count,
                        !line.isEmpty
                    {
                        lines.append([Span(indent + line, role)])
                        line = ""
                    }
                    line += (line.isEmpty ? "" : " ") + word
                }
                lines.append([Span(indent + line, role)])
            }
        }
        let outcomeRole: Role = call.outcome == "ok" || call.outcome == "cached" ? .ok : .crit
        lines.append([
            Span("Call ", .dim), Span(call.requestID, .title), Span(" · \(call.userID ?? "anonymous")"),
            Span(call.sessionID.map { " · session \($0)" + (call.step.map { " step \($0)" } ?? "") } ?? "", .dim),
            Span(" · \(call.route.map { "route \($0) · " } ?? "")\(call.provider ?? "—")/\(call.model ?? "—")"),
            Span(" · \(Format.clock(call.startedAt)) UTC", .dim),
        ])
        lines.append([
            Span("outcome ", .dim), Span(call.outcome + (call.fellBack ? " after fallback" : ""), outcomeRole),
            Span(
                " · \(call.attempts) attempt\(call.attempts == 1 ? "" : "s") · \(Format.milliseconds(call.latencyMilliseconds))"
            ),
            Span(" · ttft \(Format.milliseconds(call.timeToFirstTokenMilliseconds))", .dim),
            Span(
                " · \(call.costNanoUSD.map(Format.dollars) ?? "cost unknown") (saved \(Format.dollars(call.savedNanoUSD)))"
            ),
            Span(" · cache \(call.cache ?? "—")", .cached), Span(call.stream ? " · streamed" : "", .dim),
        ])
        if let status = call.httpStatus, call.outcome != "ok" {
            lines.append([
                Span("error ", .dim), Span("\(status) \(call.errorClass ?? "")", .crit),
                Span(" " + (call.errorMessage ?? "")),
            ])
        }
        section("Attempts")
        if detail.attempts.isEmpty { lines.append([Span("  none: no provider was reached", .dim)]) }
        for attempt in detail.attempts {
            var spans = [
                Span("  #\(attempt.number) ", .dim), Span(Format.clock(attempt.startedAt) + "  ", .dim),
                Span(CellBuffer.pad("\(attempt.provider)/\(attempt.model)", 30) + " "),
                Span(
                    CellBuffer.pad(attempt.httpStatus.map(String.init) ?? attempt.errorClass ?? "—", 4) + " ",
                    (attempt.httpStatus ?? 500) < 400 ? .ok : .crit
                ),
                Span(CellBuffer.pad(Format.milliseconds(attempt.latencyMilliseconds), 8, right: true) + " "),
            ]
            if attempt.backoffMilliseconds > 0 {
                spans.append(Span("backoff \(Format.milliseconds(attempt.backoffMilliseconds)) ", .dim))
            }
            if let retryAfter = attempt.retryAfterMilliseconds {
                spans.append(Span("Retry-After \(Format.milliseconds(retryAfter)) ", .rateLimited))
            }
            // The id before the message, which may run past the edge.
            if let id = attempt.providerRequestID { spans.append(Span("provider id \(id) ", .dim)) }
            if let message = attempt.errorMessage { spans.append(Span(message, .dim)) }
            lines.append(spans)
            let limits = attempt.rateLimitHeaders.filter { !$0.key.hasSuffix("request-id") }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }
            if !limits.isEmpty { wrap(limits.joined(separator: " "), indent: "      ", role: .dim) }
        }
        if !detail.events.isEmpty {
            section("Events")
            for event in detail.events {
                lines.append([
                    Span("  \(Format.clock(event.at))  ", .dim), Span(CellBuffer.pad(event.kind, 10) + " ", .accent),
                    Span(event.scope + "  "), Span(event.detail?.serialized() ?? "", .dim),
                ])
            }
        }
        section("Cost")
        let tokens = call.tokens
        lines.append([
            Span(
                "  input \(Format.grouped(tokens.input)) · cached \(Format.grouped(tokens.cachedInput)) · cache write \(Format.grouped(tokens.cacheWrite5m + tokens.cacheWrite1h))\(tokens.cacheWrite1h > 0 ? " (\(Format.grouped(tokens.cacheWrite1h)) for 1h)" : "") · output \(Format.grouped(tokens.output)) · reasoning \(Format.grouped(tokens.reasoning)) = \(call.costNanoUSD.map(Format.dollars) ?? "unknown")"
            )
        ])
        section("Verdicts")
        lines.append([Span("  moderation ", .dim), Span(detail.moderation?.serialized() ?? "pass")])
        lines.append([Span("  validation ", .dim), Span(detail.validation?.serialized() ?? "none")])
        section("Request")
        wrap(Self.readable(detail.requestBody))
        section("Response")
        wrap(Self.readable(detail.responseBody))
        return lines
    }

    /// The messages of a request or the text of an answer, when the body is one; else the body.
    static func readable(_ body: String?) -> String {
        guard let body else { return "(not stored: journal.store_bodies is none)" }
        guard let json = try? JSONValue.parse(Array(body.utf8)) else { return body }
        var parts: [String] = []
        if let system = json["system"] { parts.append("system  " + text(system)) }
        for message in json["messages"]?.arrayValue ?? [] {
            parts.append("\(message["role"]?.stringValue ?? "?")  " + text(message["content"] ?? .null))
        }
        if let content = json["choices"]?[0]?["message"]?["content"] { parts.append(text(content)) }
        if json["type"]?.stringValue == "message", let content = json["content"] { parts.append(text(content)) }
        if let error = json["error"] { parts.append("error  " + (error["message"]?.stringValue ?? error.serialized())) }
        return parts.isEmpty ? body : parts.joined(separator: "\n")
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .array(let parts):
            parts.map { $0["text"]?.stringValue ?? $0["input"]?.serialized() ?? $0.serialized() }.joined(separator: " ")
        case .null: ""
        default: value.serialized()
        }
    }

    /// - Returns: the first line shown: `scroll`, held between the top and the last screenful.
    @discardableResult
    func render(into buffer: inout CellBuffer, top: Int) -> Int {
        let all = lines(width: buffer.width - 2)
        let visible = buffer.height - 1 - top
        let first = max(0, min(scroll, all.count - visible))
        for (offset, line) in all.dropFirst(first).prefix(visible).enumerated() {
            buffer.put(line, x: 1, y: top + offset, limit: buffer.width - 2)
        }
        return first
    }
}
