import CNCurses
import Foundation
import SwitchboardWire
import Synchronization

/// A key the operator pressed.
public enum Key: Sendable, Equatable {
    case character(Character)
    /// Ctrl with a letter (`control("s")` for Ctrl-S).
    case control(Character)
    /// Alt (or Esc then a key) with a character.
    case alt(Character)
    /// Text the terminal delivered as one bracketed paste.
    case paste(String)
    case up, down, left, right, enter, escape, tab, backTab, pageUp, pageDown, home, end, backspace, delete, resize
    /// Ctrl-← and Ctrl-→.
    case wordLeft, wordRight
}

/// Where frames go and keys come from: curses on a real terminal, a headless screen in tests.
public protocol Terminal: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// Shows `buffer`, sending only the cells that changed since the last frame.
    func draw(_ buffer: CellBuffer)
    /// The next key, or `nil` when none came within `timeout`.
    func readKey(timeout: Duration) -> Key?
    /// Puts `text` on the clipboard of the operator's terminal (OSC 52), wherever it runs.
    func copy(_ text: String)
    /// Draws with `theme` from the next frame on.
    func apply(_ theme: Theme)
}

/// A terminal in memory: the last frame as text, keys fed by the test (or pressed from another
/// thread, for a loop that runs on its own).
public final class HeadlessTerminal: Terminal, @unchecked Sendable {
    public let width: Int
    public let height: Int
    /// Whether ``readKey(timeout:)`` waits out its timeout when no key is queued, as a real
    /// terminal does (for running the loop); tests that step the app pass false.
    private let waits: Bool
    private let state = Mutex<(keys: [Key], screen: CellBuffer?, cells: Int)>(([], nil, 0))
    public private(set) var clipboard: String?
    public private(set) var themeName: String?

    public init(width: Int, height: Int, waits: Bool = false) {
        self.width = width
        self.height = height
        self.waits = waits
    }

    public var screen: CellBuffer? { state.withLock { $0.screen } }
    /// Cells sent over all frames (what a real terminal would have been written).
    public var cellsWritten: Int { state.withLock { $0.cells } }

    public func press(_ key: Key) {
        state.withLock { $0.keys.append(key) }
    }

    public func draw(_ buffer: CellBuffer) {
        state.withLock { state in
            state.cells += buffer.changes(since: state.screen).count
            state.screen = buffer
        }
    }

    public func readKey(timeout: Duration) -> Key? {
        if let key = state.withLock({ $0.keys.isEmpty ? nil : $0.keys.removeFirst() }) { return key }
        if waits { Thread.sleep(forTimeInterval: timeout.secondsDouble) }
        return nil
    }

    /// The screen as text.
    public var text: String { screen?.text ?? "" }

    public func copy(_ text: String) { clipboard = text }
    public func apply(_ theme: Theme) { themeName = theme.name }
}

/// The real terminal through ncursesw: colours from the theme mapped to what the terminal has
/// (256, 16 or none), only changed cells written, the cursor hidden.
public final class CursesTerminal: Terminal {
    private let colour: Bool
    private var previous: CellBuffer?
    private var pairs: [Role: (attributes: attr_t, pair: Int16)] = [:]

    /// - Parameter colour: use colours when the terminal has them (false: attributes only).
    public init(theme: Theme, colour: Bool) {
        setlocale(LC_ALL, "")
        setenv("ESCDELAY", "25", 1)
        initscr()
        // Raw: Ctrl-S, Ctrl-Q, Ctrl-Z and Ctrl-C come as keys (the playground sends with Ctrl-S;
        // Ctrl-C quits through the app, which restores the terminal).
        raw()
        noecho()
        keypad(sb_stdscr(), true)
        curs_set(0)
        // Bracketed paste: pasted text arrives between markers, as one key, not as typing.
        FileHandle.standardOutput.write(Data("\u{1B}[?2004h".utf8))
        self.colour = colour && has_colors()
        if self.colour {
            start_color()
            use_default_colors()
        }
        apply(theme)
    }

    /// Maps the theme's roles to attributes and colour pairs (256 colours when the terminal has
    /// them, else the 8 basic ones), and redraws everything.
    public func apply(_ theme: Theme) {
        let colours = colour && theme.name != "mono"
        let deep = sb_colors() >= 256
        for (index, role) in Role.allCases.enumerated() {
            let style = theme.style(role)
            var attributes = sb_attr_normal()
            if style.bold { attributes |= sb_attr_bold() }
            if style.dim { attributes |= sb_attr_dim() }
            if style.reverse { attributes |= sb_attr_reverse() }
            if style.underline { attributes |= sb_attr_underline() }
            var pair: Int16 = 0
            if colours, let rgb = style.foreground {
                pair = Int16(index + 1)
                init_pair(pair, deep ? Theme.xterm256(rgb) : Theme.basic(rgb), -1)
            }
            pairs[role] = (attributes, pair)
        }
        previous = nil
    }

    deinit {
        FileHandle.standardOutput.write(Data("\u{1B}[?2004l".utf8))
        endwin()
    }

    public var width: Int { Int(sb_getmaxx(sb_stdscr())) }
    public var height: Int { Int(sb_getmaxy(sb_stdscr())) }

    public func draw(_ buffer: CellBuffer) {
        let window = sb_stdscr()
        if previous?.width != buffer.width || previous?.height != buffer.height { clear() }
        for (x, y) in buffer.changes(since: previous) {
            let cell = buffer[x, y]
            guard !cell.text.isEmpty else { continue }
            let style = pairs[cell.role] ?? (sb_attr_normal(), 0)
            var wide = Array(cell.text.unicodeScalars.map { wchar_t($0.value) })
            wide.append(0)
            _ = sb_put_cell(window, Int32(y), Int32(x), wide, style.attributes, style.pair)
        }
        refresh()
        previous = buffer
    }

    /// OSC 52 straight to the terminal (curses does not know it); terminals that do not support
    /// it ignore it.
    public func copy(_ text: String) {
        let sequence = "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
        FileHandle.standardOutput.write(Data(sequence.utf8))
    }

    public func readKey(timeout wait: Duration) -> Key? {
        CNCurses.timeout(Int32(wait.secondsDouble * 1000))
        guard let (code, isKey) = nextCode() else { return nil }
        if isKey {
            let key = Self.key(code: code)
            // After a resize everything is drawn again.
            if key == .resize { previous = nil }
            return key
        }
        switch code {
        case 27: return escapeSequence()
        case 127, 8: return .backspace
        case 10, 13: return .enter
        case 9: return .tab
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(code) + 96)))
        default:
            guard code >= 32, let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The next character or key code (`isKey` for a function key), waiting as set by `timeout`.
    private func nextCode() -> (code: Int32, isKey: Bool)? {
        var character: wint_t = 0
        switch get_wch(&character) {
        case KEY_CODE_YES: return (Int32(character), true)
        case OK: return (Int32(character), false)
        default: return nil
        }
    }

    private static func key(code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_NPAGE: return .pageDown
        case KEY_PPAGE: return .pageUp
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_ENTER: return .enter
        case sb_key_resize(): return .resize
        default:
            // Modified arrows have codes of their own, named by terminfo: kLFT5 is Ctrl-←.
            guard let name = keyname(code).map({ String(cString: $0) }) else { return nil }
            if name.hasPrefix("kLFT") { return .wordLeft }
            if name.hasPrefix("kRIT") { return .wordRight }
            return nil
        }
    }

    /// After Esc: a bracketed paste (`[200~ … ESC[201~`), Alt with a key, or Esc alone.
    private func escapeSequence() -> Key {
        CNCurses.timeout(25)
        guard let (first, isKey) = nextCode(), !isKey else { return .escape }
        guard first == 91 /* [ */ else {
            return Unicode.Scalar(UInt32(first)).map { .alt(Character($0)) } ?? .escape
        }
        var sequence = ""
        while sequence.count < 8, let (code, isKey) = nextCode(), !isKey, let scalar = Unicode.Scalar(UInt32(code)) {
            sequence.unicodeScalars.append(scalar)
            if scalar == "~" || scalar.properties.isAlphabetic { break }
        }
        guard sequence == "200~" else { return .escape }
        // The paste, to its end marker (bounded: a terminal that never ends it loses nothing
        // typed after 1 MB).
        CNCurses.timeout(100)
        let end = Array("\u{1B}[201~".unicodeScalars)
        var pasted: [Unicode.Scalar] = []
        while pasted.count < 1 << 20, let (code, isKey) = nextCode() {
            guard !isKey, let scalar = Unicode.Scalar(UInt32(code)) else { continue }
            pasted.append(scalar)
            if pasted.count >= end.count, pasted.suffix(end.count).elementsEqual(end) {
                pasted.removeLast(end.count)
                break
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: pasted)
        return .paste(String(text))
    }
}
