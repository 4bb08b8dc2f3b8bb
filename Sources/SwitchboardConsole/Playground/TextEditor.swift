import Foundation

/// The playground's multi-line text field: text as lines of grapheme clusters, a cursor, soft
/// wrap by terminal columns (wide characters take two and are never split), word motions, pasting
/// as one step, and undo / redo that group a run of typing into one step as editors do.
///
/// A value type with no I/O: the console feeds it keys and draws its ``rows(width:)``.
public struct TextEditor: Sendable, Equatable {
    /// A place in the text: a line and a character (grapheme cluster) index in it.
    public struct Position: Sendable, Equatable, Comparable {
        public var line: Int
        public var column: Int

        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        public static func < (left: Position, right: Position) -> Bool {
            (left.line, left.column) < (right.line, right.column)
        }
    }

    /// One screen row of the wrapped text: part of one line.
    public struct Row: Sendable, Equatable {
        public var line: Int
        /// The characters of the line on this row.
        public var range: Range<Int>
        public var text: String
    }

    public enum Motion: Sendable {
        case left, right, up, down, lineStart, lineEnd, wordLeft, wordRight, documentStart, documentEnd
    }

    private struct Snapshot: Sendable, Equatable {
        var lines: [[Character]]
        var cursor: Position
    }

    /// What the last edit was, so a run of the same kind undoes as one step.
    private enum EditKind: Sendable, Equatable {
        case typing, deleting, other
    }

    public private(set) var lines: [[Character]]
    public private(set) var cursor: Position
    /// The display column up and down aim for (kept across short rows).
    private var goalColumn: Int?
    private var undoStack: [Snapshot] = []
    private var redoStack: [Snapshot] = []
    private var lastEdit: EditKind?
    /// Steps kept for undo.
    static let undoLimit = 200

    public init(text: String = "") {
        lines = Self.split(text)
        cursor = Position(line: lines.count - 1, column: lines[lines.count - 1].count)
    }

    /// The whole text, lines joined by `\n`.
    public var text: String { lines.map { String($0) }.joined(separator: "\n") }

    public var isEmpty: Bool { lines.count == 1 && lines[0].isEmpty }

    // MARK: - Editing

    /// Types `text` at the cursor (a key press; `\n` starts a new line). Consecutive typing undoes
    /// as one step, ended by a space, a new line, a move or another kind of edit.
    public mutating func type(_ text: String) {
        let endsGroup = text.contains { $0 == " " || $0 == "\n" }
        record(.typing)
        insert(Self.split(text))
        if endsGroup { lastEdit = nil }
    }

    /// Inserts pasted text as one step: `\r\n` and `\r` become new lines, tabs four spaces, other
    /// control characters are dropped.
    public mutating func paste(_ text: String) {
        let cleaned = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\t", with: "    ")
            .filter { $0 == "\n" || CellBuffer.columns(of: $0) > 0 }
        guard !cleaned.isEmpty else { return }
        record(.other)
        insert(Self.split(cleaned))
        lastEdit = nil
    }

    /// Deletes the character before the cursor (joining lines at a line's start).
    public mutating func backspace() {
        guard cursor != Position(line: 0, column: 0) else { return }
        record(.deleting)
        if cursor.column > 0 {
            lines[cursor.line].remove(at: cursor.column - 1)
            cursor.column -= 1
        } else {
            let previous = lines[cursor.line - 1].count
            lines[cursor.line - 1] += lines.remove(at: cursor.line)
            cursor = Position(line: cursor.line - 1, column: previous)
        }
    }

    /// Deletes the character after the cursor (joining the next line at a line's end).
    public mutating func deleteForward() {
        let line = lines[cursor.line]
        guard cursor.column < line.count || cursor.line < lines.count - 1 else { return }
        record(.deleting)
        if cursor.column < line.count {
            lines[cursor.line].remove(at: cursor.column)
        } else {
            lines[cursor.line] += lines.remove(at: cursor.line + 1)
        }
    }

    /// Deletes back to the start of the word before the cursor (Ctrl-W).
    public mutating func deleteWordBackward() {
        let end = cursor
        var start = cursor
        start = wordLeft(from: start)
        guard start < end else { return }
        record(.other)
        remove(from: start, to: end)
        lastEdit = nil
    }

    /// Replaces the whole text (a call's request loaded into the playground), as one step.
    public mutating func replaceAll(with text: String) {
        record(.other)
        lines = Self.split(text)
        cursor = Position(line: lines.count - 1, column: lines[lines.count - 1].count)
        lastEdit = nil
    }

    public mutating func undo() {
        guard let snapshot = undoStack.popLast() else { return }
        redoStack.append(Snapshot(lines: lines, cursor: cursor))
        (lines, cursor) = (snapshot.lines, snapshot.cursor)
        lastEdit = nil
        goalColumn = nil
    }

    public mutating func redo() {
        guard let snapshot = redoStack.popLast() else { return }
        undoStack.append(Snapshot(lines: lines, cursor: cursor))
        (lines, cursor) = (snapshot.lines, snapshot.cursor)
        lastEdit = nil
        goalColumn = nil
    }

    /// Saves the state before an edit of `kind`, unless it continues a run of the same kind.
    private mutating func record(_ kind: EditKind) {
        goalColumn = nil
        if kind != .other, lastEdit == kind { return }
        undoStack.append(Snapshot(lines: lines, cursor: cursor))
        if undoStack.count > Self.undoLimit { undoStack.removeFirst() }
        redoStack.removeAll()
        lastEdit = kind
    }

    private mutating func insert(_ pieces: [[Character]]) {
        let tail = Array(lines[cursor.line][cursor.column...])
        lines[cursor.line].replaceSubrange(cursor.column..., with: pieces[0])
        if pieces.count == 1 {
            cursor.column += pieces[0].count
            lines[cursor.line] += tail
            return
        }
        lines.insert(contentsOf: pieces.dropFirst(), at: cursor.line + 1)
        cursor = Position(line: cursor.line + pieces.count - 1, column: pieces[pieces.count - 1].count)
        lines[cursor.line] += tail
    }

    private mutating func remove(from start: Position, to end: Position) {
        let tail = Array(lines[end.line][end.column...])
        lines.removeSubrange((start.line + 1)..<(end.line + 1))
        lines[start.line].replaceSubrange(start.column..., with: tail)
        cursor = start
    }

    private static func split(_ text: String) -> [[Character]] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
    }

    // MARK: - Moving

    /// Moves the cursor; `width` is the columns the text wraps at (up and down move by screen
    /// row, keeping the column they aimed for).
    public mutating func move(_ motion: Motion, width: Int) {
        lastEdit = nil
        if motion != .up, motion != .down { goalColumn = nil }
        switch motion {
        case .left:
            if cursor.column > 0 {
                cursor.column -= 1
            } else if cursor.line > 0 {
                cursor = Position(line: cursor.line - 1, column: lines[cursor.line - 1].count)
            }
        case .right:
            if cursor.column < lines[cursor.line].count {
                cursor.column += 1
            } else if cursor.line < lines.count - 1 {
                cursor = Position(line: cursor.line + 1, column: 0)
            }
        case .lineStart:
            cursor.column = 0
        case .lineEnd:
            cursor.column = lines[cursor.line].count
        case .documentStart:
            cursor = Position(line: 0, column: 0)
        case .documentEnd:
            cursor = Position(line: lines.count - 1, column: lines[lines.count - 1].count)
        case .wordLeft:
            cursor = wordLeft(from: cursor)
        case .wordRight:
            cursor = wordRight(from: cursor)
        case .up, .down:
            let rows = rows(width: width)
            let (row, column) = place(of: cursor, in: rows)
            let goal = goalColumn ?? column
            let target = motion == .up ? row - 1 : row + 1
            guard rows.indices.contains(target) else {
                cursor =
                    motion == .up
                    ? Position(line: 0, column: 0)
                    : Position(line: lines.count - 1, column: lines[lines.count - 1].count)
                goalColumn = nil
                return
            }
            cursor = position(
                atColumn: goal,
                of: rows[target],
                lastOfLine: target + 1 == rows.count || rows[target + 1].line != rows[target].line
            )
            goalColumn = goal
        }
    }

    private static func isWord(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }

    private func wordLeft(from start: Position) -> Position {
        var position = start
        if position.column == 0 {
            return position.line > 0
                ? Position(line: position.line - 1, column: lines[position.line - 1].count) : position
        }
        let line = lines[position.line]
        while position.column > 0, !Self.isWord(line[position.column - 1]) { position.column -= 1 }
        while position.column > 0, Self.isWord(line[position.column - 1]) { position.column -= 1 }
        return position
    }

    private func wordRight(from start: Position) -> Position {
        var position = start
        let line = lines[position.line]
        if position.column == line.count {
            return position.line < lines.count - 1 ? Position(line: position.line + 1, column: 0) : position
        }
        while position.column < line.count, Self.isWord(line[position.column]) { position.column += 1 }
        while position.column < line.count, !Self.isWord(line[position.column]) { position.column += 1 }
        return position
    }

    // MARK: - Layout

    /// The text wrapped at `width` columns: at the last space that fits, else where the row is
    /// full; a character never splits. An empty line is one empty row.
    public func rows(width: Int) -> [Row] {
        let width = max(2, width)
        var rows: [Row] = []
        for (number, line) in lines.enumerated() {
            var start = 0
            var used = 0
            var breakAfterSpace: Int?
            var index = 0
            while index < line.count {
                let columns = CellBuffer.columns(of: line[index])
                if used + columns > width, index > start {
                    let end = breakAfterSpace.map { $0 > start ? $0 : index } ?? index
                    rows.append(Row(line: number, range: start..<end, text: String(line[start..<end])))
                    start = end
                    used = CellBuffer.columns(of: String(line[start..<index]))
                    breakAfterSpace = nil
                    continue
                }
                used += columns
                if line[index] == " " { breakAfterSpace = index + 1 }
                index += 1
            }
            rows.append(Row(line: number, range: start..<line.count, text: String(line[start...])))
        }
        return rows
    }

    /// The cursor's screen row and column in the text wrapped at `width`.
    public func cursorPlace(width: Int) -> (row: Int, column: Int) {
        place(of: cursor, in: rows(width: width))
    }

    private func place(of position: Position, in rows: [Row]) -> (row: Int, column: Int) {
        for (index, row) in rows.enumerated() where row.line == position.line {
            let lastOfLine = index + 1 == rows.count || rows[index + 1].line != row.line
            // A position at a wrap belongs to the next row, except at the line's very end.
            if position.column < row.range.upperBound || (lastOfLine && position.column == row.range.upperBound) {
                let before = lines[row.line][row.range.lowerBound..<position.column]
                return (index, CellBuffer.columns(of: String(before)))
            }
        }
        return (max(0, rows.count - 1), 0)
    }

    private func position(atColumn goal: Int, of row: Row, lastOfLine: Bool) -> Position {
        let line = lines[row.line]
        var used = 0
        var column = row.range.lowerBound
        while column < row.range.upperBound {
            let columns = CellBuffer.columns(of: line[column])
            if used + columns > goal { break }
            used += columns
            column += 1
        }
        // Not past a wrapped row's end, which is the next row's start.
        if !lastOfLine, column == row.range.upperBound, column > row.range.lowerBound { column -= 1 }
        return Position(line: row.line, column: column)
    }
}

extension CellBuffer {
    /// Draws `editor` wrapped to `rect`, scrolled so the cursor's row is visible (from `scroll`,
    /// the first row shown last time); the cursor is a reversed cell when `focused`.
    /// - Returns: the first row shown, to pass back next frame.
    @discardableResult
    public mutating func draw(_ editor: TextEditor, in rect: Rect, scroll: Int = 0, focused: Bool) -> Int {
        guard rect.width > 1, rect.height > 0 else { return 0 }
        // One column kept free for the cursor after a full row.
        let rows = editor.rows(width: rect.width - 1)
        let (cursorRow, cursorColumn) = editor.cursorPlace(width: rect.width - 1)
        var first = min(max(0, scroll), max(0, rows.count - rect.height))
        if cursorRow < first { first = cursorRow }
        if cursorRow >= first + rect.height { first = cursorRow - rect.height + 1 }
        for (offset, row) in rows.dropFirst(first).prefix(rect.height).enumerated() {
            put(row.text, x: rect.x, y: rect.y + offset, limit: rect.width)
        }
        if focused, cursorRow - first < rect.height {
            let x = rect.x + cursorColumn
            let y = rect.y + cursorRow - first
            let under = self[x, y].text
            self[x, y] = Cell(text: under.isEmpty || under == " " ? " " : under, role: .selection)
        }
        return first
    }
}
