/// The glyphs the console draws with, and their ASCII fallbacks (`--ascii`, or a terminal that
/// cannot show UTF-8).
public struct Glyphs: Sendable {
    public var horizontal: Character
    public var vertical: Character
    public var corners: (topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character)
    public var barFull: Character
    public var barEmpty: Character
    public var sparks: [Character]
    public var live: String
    public var paused: String
    public var arrow: String

    public static let unicode = Glyphs(
        horizontal: "─",
        vertical: "│",
        corners: ("┌", "┐", "└", "┘"),
        barFull: "█",
        barEmpty: "░",
        sparks: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        live: "●",
        paused: "❚❚",
        arrow: "▸"
    )

    public static let ascii = Glyphs(
        horizontal: "-",
        vertical: "|",
        corners: ("+", "+", "+", "+"),
        barFull: "#",
        barEmpty: ".",
        sparks: ["_", ".", "-", "=", "+", "*", "#", "#"],
        live: "*",
        paused: "||",
        arrow: ">"
    )
}

/// A rectangle of the screen.
public struct Rect: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// A piece of a line in one role.
public struct Span: Sendable, Equatable {
    public var text: String
    public var role: Role

    public init(_ text: String, _ role: Role = .normal) {
        self.text = text
        self.role = role
    }
}

extension CellBuffer {
    /// A bordered pane with its title in the top edge; returns the inner rectangle.
    @discardableResult
    public mutating func box(_ rect: Rect, title: String, glyphs: Glyphs, focused: Bool = false) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let role: Role = focused ? .accent : .border
        let right = rect.x + rect.width - 1
        let bottom = rect.y + rect.height - 1
        put(String(glyphs.corners.topLeft), x: rect.x, y: rect.y, role: role)
        fill(glyphs.horizontal, x: rect.x + 1, y: rect.y, columns: rect.width - 2, role: role)
        put(String(glyphs.corners.topRight), x: right, y: rect.y, role: role)
        for row in (rect.y + 1)..<bottom {
            put(String(glyphs.vertical), x: rect.x, y: row, role: role)
            put(String(glyphs.vertical), x: right, y: row, role: role)
        }
        put(String(glyphs.corners.bottomLeft), x: rect.x, y: bottom, role: role)
        fill(glyphs.horizontal, x: rect.x + 1, y: bottom, columns: rect.width - 2, role: role)
        put(String(glyphs.corners.bottomRight), x: right, y: bottom, role: role)
        let label = " " + CellBuffer.fit(title, max(0, rect.width - 4)) + " "
        put(label, x: rect.x + 1, y: rect.y, role: focused ? .accent : .heading, limit: rect.width - 2)
        return Rect(x: rect.x + 1, y: rect.y + 1, width: rect.width - 2, height: rect.height - 2)
    }

    /// Writes spans one after another from (`x`, `y`), cut at `limit` columns.
    @discardableResult
    public mutating func put(_ spans: [Span], x: Int, y: Int, limit: Int) -> Int {
        var used = 0
        for span in spans {
            guard used < limit else { break }
            // A span that does not fit ends at a word boundary with `…`, never mid-word.
            let room = limit - used
            let text = CellBuffer.columns(of: span.text) > room ? CellBuffer.fit(span.text, room) : span.text
            used += put(text, x: x + used, y: y, role: span.role, limit: room)
        }
        return used
    }
}

/// Small text graphics: gauges and sparklines.
enum Graphics {
    /// `████░░░░`: `share` (0…1) of `width` cells full.
    static func bar(_ share: Double, width: Int, glyphs: Glyphs, full: Role = .barFull) -> [Span] {
        guard width > 0 else { return [] }
        let clamped = share.isFinite ? min(1, max(0, share)) : 0
        let filled = Int((clamped * Double(width)).rounded())
        return [
            Span(String(repeating: glyphs.barFull, count: filled), full),
            Span(String(repeating: glyphs.barEmpty, count: width - filled), .barEmpty),
        ]
    }

    /// One glyph per value, scaled between the smallest and the largest.
    static func sparkline(_ values: [Double], glyphs: Glyphs) -> String {
        let present = values.filter(\.isFinite)
        guard let high = present.max(), high > 0 else {
            return String(repeating: glyphs.sparks[0], count: values.count)
        }
        return String(
            values.map { value -> Character in
                guard value.isFinite, value > 0 else { return glyphs.sparks[0] }
                let index = Int((value / high * Double(glyphs.sparks.count - 1)).rounded())
                return glyphs.sparks[min(glyphs.sparks.count - 1, max(0, index))]
            }
        )
    }
}
