/// A category's phrases matched over ASCII text without ICU: the phrase rules' expressions run on
/// every request, and ICU took ~60–90 µs for a short prompt over the fourteen of them.
///
/// It takes the subset of the expression syntax the rules use — literal characters, `\` escapes,
/// `(?:…|…)` groups, `[…]` classes with ranges, the quantifiers `?`, `*` and `+`, and `\b` — and
/// matches as ``LocalModerator/rules(_:score:)``'s expressions do: case-insensitively, with no
/// letter or digit right before or after the phrase. Whether some phrase matches somewhere does not
/// depend on the order alternatives are tried in, so a search of every path gives ICU's answer
/// (`ModerationTests` compare the two over the labelled table and a seeded corpus). Text with
/// anything but ASCII goes to ICU, whose case folding it does not repeat.
struct PhraseMatcher: Sendable {
    indirect enum Node: Sendable {
        /// One byte, lower case.
        case byte(UInt8)
        /// Any byte of a class, lower case.
        case set(ByteSet)
        /// `\b`: a word character on one side only (letters, digits and `_`).
        case boundary
        case sequence([Node])
        case alternatives([Node])
        /// `?` (at most 1), `*` and `+` (no most).
        case repeated(Node, least: Int, most: Int?)
    }

    /// 256 bits.
    struct ByteSet: Sendable {
        private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        func contains(_ byte: UInt8) -> Bool {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: return words.0 & bit != 0
            case 1: return words.1 & bit != 0
            case 2: return words.2 & bit != 0
            default: return words.3 & bit != 0
            }
        }

        mutating func insert(_ byte: UInt8) {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }

        mutating func formUnion(_ other: ByteSet) {
            words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
        }

        var members: [UInt8] { (0...255).map(UInt8.init).filter(contains) }
    }

    /// An instruction of the compiled phrases: a backtracking machine over the text's bytes, as
    /// in Thompson's and Pike's constructions (no reference counting in the loop, unlike a walk of
    /// the ``Node`` tree).
    enum Instruction: Sendable {
        case byte(UInt8)
        case set(ByteSet)
        case boundary
        case jump(Int)
        /// Try the first; failing that, the second.
        case split(Int, Int)
        /// The end of a phrase: no letter or digit may follow.
        case match
    }

    /// The phrases as parsed (for tests that generate text from them).
    let root: Node
    let program: [Instruction]
    /// The bytes a match can begin with, so that most positions are passed over at once; `nil`
    /// when a match can begin with anything (or with nothing).
    let first: ByteSet?

    /// - Returns: `nil` for an expression outside the subset.
    init?(_ pattern: String) {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let root = parser.alternatives(), parser.index == parser.bytes.count else { return nil }
        var program: [Instruction] = []
        guard Self.compile(root, into: &program) else { return nil }
        program.append(.match)
        self.root = root
        self.program = program
        let (set, canBeEmpty) = Self.firstBytes(root)
        first = canBeEmpty ? nil : set
    }

    /// Whether a phrase occurs in `text`: lower-cased ASCII bytes (``lowercased(_:)``).
    func matches(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { text in
            program.withUnsafeBufferPointer { program in
                for start in 0...text.count {
                    if start > 0 && Self.isAlphanumeric(text[start - 1]) { continue }
                    if let first, start == text.count || !first.contains(text[start]) { continue }
                    if Self.run(program, text, from: 0, at: start) { return true }
                }
                return false
            }
        }
    }

    /// Whether the program, from instruction `pc` at byte `index`, reaches `match`.
    private static func run(
        _ program: UnsafeBufferPointer<Instruction>,
        _ text: UnsafeBufferPointer<UInt8>,
        from pc: Int,
        at index: Int
    ) -> Bool {
        var pc = pc
        var index = index
        while true {
            switch program[pc] {
            case .byte(let byte):
                guard index < text.count, text[index] == byte else { return false }
                pc += 1
                index += 1
            case .set(let set):
                guard index < text.count, set.contains(text[index]) else { return false }
                pc += 1
                index += 1
            case .boundary:
                let before = index > 0 && isWord(text[index - 1])
                let after = index < text.count && isWord(text[index])
                guard before != after else { return false }
                pc += 1
            case .jump(let target):
                pc = target
            case .split(let first, let second):
                if run(program, text, from: first, at: index) { return true }
                pc = second
            case .match:
                return index == text.count || !isAlphanumeric(text[index])
            }
        }
    }

    /// Appends the instructions of `node`; `false` for a repetition of something that can match
    /// nothing (the machine would go round for ever).
    private static func compile(_ node: Node, into program: inout [Instruction]) -> Bool {
        switch node {
        case .byte(let byte):
            program.append(.byte(byte))
        case .set(let set):
            program.append(.set(set))
        case .boundary:
            program.append(.boundary)
        case .sequence(let nodes):
            for node in nodes { guard compile(node, into: &program) else { return false } }
        case .alternatives(let nodes):
            // split L1, next; L1: first; jump end; next: split L2, … ; last
            var jumps: [Int] = []
            for (offset, node) in nodes.enumerated() {
                if offset < nodes.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    guard compile(node, into: &program) else { return false }
                    jumps.append(program.count)
                    program.append(.jump(-1))
                    program[split] = .split(split + 1, program.count)
                } else {
                    guard compile(node, into: &program) else { return false }
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repeated(let inner, let least, let most):
            if most == nil && firstBytes(inner).canBeEmpty { return false }
            for _ in 0..<least { guard compile(inner, into: &program) else { return false } }
            if let most {
                // Each optional copy: split body, end.
                var splits: [Int] = []
                for _ in least..<most {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, -1))
                    guard compile(inner, into: &program) else { return false }
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                // loop: split body, end; body; jump loop
                let loop = program.count
                program.append(.split(loop + 1, -1))
                guard compile(inner, into: &program) else { return false }
                program.append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
        return true
    }

    /// The text as the matcher reads it, or `nil` when it is not all ASCII.
    static func lowercased(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            bytes.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
        return bytes
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
    }

    static func isWord(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == UInt8(ascii: "_") }

    /// The bytes `node` can begin with, and whether it can match nothing.
    static func firstBytes(_ node: Node) -> (ByteSet, canBeEmpty: Bool) {
        switch node {
        case .byte(let byte):
            var set = ByteSet()
            set.insert(byte)
            return (set, false)
        case .set(let set):
            return (set, false)
        case .boundary:
            return (ByteSet(), true)
        case .sequence(let nodes):
            var set = ByteSet()
            for node in nodes {
                let (first, canBeEmpty) = firstBytes(node)
                set.formUnion(first)
                if !canBeEmpty { return (set, false) }
            }
            return (set, true)
        case .alternatives(let nodes):
            var set = ByteSet()
            var canBeEmpty = false
            for node in nodes {
                let (first, empty) = firstBytes(node)
                set.formUnion(first)
                canBeEmpty = canBeEmpty || empty
            }
            return (set, canBeEmpty)
        case .repeated(let inner, let least, _):
            let (set, canBeEmpty) = firstBytes(inner)
            return (set, canBeEmpty || least == 0)
        }
    }

    /// A recursive-descent parser of the subset; `nil` for anything else.
    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func alternatives() -> Node? {
            var branches: [Node] = []
            while true {
                guard let branch = sequence() else { return nil }
                branches.append(branch)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "|") else { break }
                index += 1
            }
            return branches.count == 1 ? branches[0] : .alternatives(branches)
        }

        mutating func sequence() -> Node? {
            var nodes: [Node] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "|"), bytes[index] != UInt8(ascii: ")") {
                guard var atom = atom() else { return nil }
                if index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "?"): atom = .repeated(atom, least: 0, most: 1)
                    case UInt8(ascii: "*"): atom = .repeated(atom, least: 0, most: nil)
                    case UInt8(ascii: "+"): atom = .repeated(atom, least: 1, most: nil)
                    case UInt8(ascii: "{"): return nil
                    default:
                        nodes.append(atom)
                        continue
                    }
                    index += 1
                    // Lazy and possessive quantifiers are outside the subset.
                    if index < bytes.count, bytes[index] == UInt8(ascii: "?") || bytes[index] == UInt8(ascii: "+") {
                        return nil
                    }
                }
                nodes.append(atom)
            }
            return nodes.count == 1 ? nodes[0] : .sequence(nodes)
        }

        mutating func atom() -> Node? {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "("):
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "?"), bytes[index + 1] == UInt8(ascii: ":")
                else { return nil }
                index += 2
                guard let inner = alternatives(), index < bytes.count, bytes[index] == UInt8(ascii: ")") else {
                    return nil
                }
                index += 1
                return inner
            case UInt8(ascii: "["):
                return set()
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                if escaped == UInt8(ascii: "b") { return .boundary }
                // Only punctuation escapes stand for themselves (`\d`, `\w`, `\s`… are classes).
                guard escaped < 0x80, !PhraseMatcher.isWord(escaped) else { return nil }
                return .byte(escaped)
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "?"), UInt8(ascii: "*"),
                UInt8(ascii: "+"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return nil
            default:
                guard byte < 0x80 else { return nil }
                return .byte(Self.lower(byte))
            }
        }

        /// After `[`: members and ranges up to `]`, lower-cased (the text is).
        mutating func set() -> Node? {
            var set = ByteSet()
            var members = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: "]") {
                var low = bytes[index]
                index += 1
                if low == UInt8(ascii: "^") && members == 0 { return nil }
                if low == UInt8(ascii: "\\") || low == UInt8(ascii: "[") || low >= 0x80 { return nil }
                var high = low
                if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 1] != UInt8(ascii: "]") {
                    high = bytes[index + 1]
                    index += 2
                    guard high >= low, high < 0x80, high != UInt8(ascii: "\\") else { return nil }
                }
                while true {
                    set.insert(Self.lower(low))
                    if low == high { break }
                    low += 1
                }
                members += 1
            }
            guard index < bytes.count, members > 0 else { return nil }
            index += 1
            return .set(set)
        }

        static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
    }
}
