/// What a cell means; a theme maps each role to colours and attributes, so views never name a
/// colour.
public enum Role: String, Sendable, CaseIterable {
    case normal, dim, title, heading, accent, border, key
    case ok, warn, crit
    case rateLimited = "rate_limited"
    case cached, blocked
    case barFull = "bar_full"
    case barEmpty = "bar_empty"
    case selection, footer
}

/// One terminal cell: a grapheme cluster and its role. A wide character takes two cells; the
/// second holds an empty string.
public struct Cell: Sendable, Equatable {
    public var text: String
    public var role: Role

    public static let blank = Cell(text: " ", role: .normal)
}

/// The screen as views draw it: a grid of cells, never touching the terminal. Backends send only
/// the cells that changed since the last frame.
public struct CellBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes `text` from column `x` of row `y`, cut to `limit` columns (default: to the edge).
    /// - Returns: the columns written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role = .normal, limit: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let end = min(width, x + (limit ?? width))
        var column = x
        for character in text {
            let columns = Self.columns(of: character)
            if columns == 0 { continue }
            guard column + columns <= end else { break }
            if column >= 0 {
                self[column, y] = Cell(text: String(character), role: role)
                if columns == 2 { self[column + 1, y] = Cell(text: "", role: role) }
            }
            column += columns
        }
        return max(0, column - x)
    }

    /// Fills `columns` cells from (`x`, `y`) with `character`.
    public mutating func fill(_ character: Character, x: Int, y: Int, columns: Int, role: Role = .normal) {
        guard columns > 0 else { return }
        put(String(repeating: character, count: columns), x: x, y: y, role: role, limit: columns)
    }

    /// A row as text (wide characters once, trailing spaces kept).
    public func line(_ y: Int) -> String {
        (0..<width).map { self[$0, y].text }.joined()
    }

    /// The whole buffer as text, one line per row, trailing spaces trimmed: what tests read.
    public var text: String {
        (0..<height).map { row in
            var line = self.line(row)
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// The positions whose cells differ from `previous` (all of them when the size changed).
    public func changes(since previous: CellBuffer?) -> [(x: Int, y: Int)] {
        guard let previous, previous.width == width, previous.height == height else {
            return (0..<height).flatMap { y in (0..<width).map { (x: $0, y: y) } }
        }
        var changed: [(x: Int, y: Int)] = []
        for index in cells.indices where cells[index] != previous.cells[index] {
            changed.append((x: index % width, y: index / width))
        }
        return changed
    }

    // MARK: - Widths

    /// Terminal columns a character takes: 2 for East Asian wide and most emoji, 0 for controls.
    public static func columns(of character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        let value = first.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// Terminal columns a string takes.
    public static func columns(of text: String) -> Int {
        // ASCII, nearly every string drawn, without splitting it into characters: a column per
        // byte, none for controls.
        var count = 0
        for byte in text.utf8 {
            guard byte < 0x80 else { return text.reduce(0) { $0 + columns(of: $1) } }
            if byte >= 0x20, byte != 0x7F { count += 1 }
        }
        return count
    }

    /// `text` in at most `width` columns: whole when it fits, else cut at the last word boundary
    /// that leaves room for `…` (mid-word only when a single word is wider than `width`).
    public static func fit(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        if columns(of: text) <= width { return text }
        var kept = ""
        var used = 0
        for character in text {
            let columns = columns(of: character)
            if used + columns > width - 1 { break }
            kept.append(character)
            used += columns
        }
        if let space = kept.lastIndex(of: " "), kept.distance(from: kept.startIndex, to: space) > 0 {
            kept = String(kept[..<space])
            while kept.last == " " || kept.last == "," || kept.last == "·" { kept.removeLast() }
        }
        return kept + "…"
    }

    /// `text` padded with spaces (or fitted) to exactly `width` columns, aligned left or right.
    public static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fitted = fit(text, width)
        let padding = String(repeating: " ", count: max(0, width - columns(of: fitted)))
        return right ? padding + fitted : fitted + padding
    }
}
