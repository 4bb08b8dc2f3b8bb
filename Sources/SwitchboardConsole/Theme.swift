import Foundation

/// A theme that cannot be used.
public struct ThemeError: Error, Sendable, Equatable {
    public var message: String
}

/// How each role looks: a colour (as RGB, mapped down to the terminal's 256 or 16 colours) and
/// attributes. `mono` uses attributes only, and is what `NO_COLOR` selects.
public struct Theme: Sendable {
    public struct Style: Sendable, Equatable {
        public var foreground: UInt32?
        public var bold = false
        public var dim = false
        public var reverse = false
        public var underline = false

        public init(
            foreground: UInt32? = nil,
            bold: Bool = false,
            dim: Bool = false,
            reverse: Bool = false,
            underline: Bool = false
        ) {
            self.foreground = foreground
            self.bold = bold
            self.dim = dim
            self.reverse = reverse
            self.underline = underline
        }
    }

    public var name: String
    public var styles: [Role: Style]

    public func style(_ role: Role) -> Style { styles[role] ?? Style() }

    /// The shipped themes (`Sources/SwitchboardConsole/themes/*.theme`).
    public static let names = ["default", "light", "high-contrast", "amber", "mono"]

    /// A theme by name: a `.theme` file path, `~/.config/switchboard/themes/NAME.theme`, or a
    /// shipped one. `nil` when there is none of that name.
    public static func named(_ name: String) -> Theme? {
        try? load(name)
    }

    /// Like ``named(_:)``, saying why a theme cannot be used (a bad line names its number).
    public static func load(_ name: String) throws(ThemeError) -> Theme {
        let wanted = name == "dark" ? "default" : name
        var candidates: [String] = []
        if wanted.contains("/") || wanted.hasSuffix(".theme") { candidates.append(wanted) }
        if let home = ProcessInfo.processInfo.environment["HOME"] {
            candidates.append("\(home)/.config/switchboard/themes/\(wanted).theme")
        }
        if let shipped = Bundle.module.url(forResource: wanted, withExtension: "theme", subdirectory: "themes") {
            candidates.append(shipped.path)
        }
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ThemeError(message: "\(path) cannot be read")
            }
            return try parse(text, name: wanted, source: path)
        }
        if wanted == "mono" { return mono }
        throw ThemeError(
            message: "no theme '\(name)'; themes: \(names.joined(separator: ", ")), or a path to a .theme file"
        )
    }

    /// Reads `role = "#rrggbb" bold` lines (`none` for no colour); `#` starts a comment.
    public static func parse(_ text: String, name: String, source: String = "theme") throws(ThemeError) -> Theme {
        var styles: [Role: Style] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let location = "\(source):\(number + 1)"
            guard parts.count == 2, let role = Role(rawValue: parts[0]) else {
                throw ThemeError(
                    message:
                        "\(location): expected ROLE = \"#rrggbb\" [bold] [dim] [reverse] [underline], roles: \(Role.allCases.map(\.rawValue).joined(separator: " "))"
                )
            }
            var style = Style()
            for (index, word) in parts[1].split(separator: " ").enumerated() {
                let token = word.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if index == 0 {
                    if token == "none" { continue }
                    guard token.hasPrefix("#"), token.count == 7, let rgb = UInt32(token.dropFirst(), radix: 16) else {
                        throw ThemeError(message: "\(location): '\(token)' is not a colour; write \"#rrggbb\" or none")
                    }
                    style.foreground = rgb
                    continue
                }
                switch token {
                case "bold": style.bold = true
                case "dim": style.dim = true
                case "reverse": style.reverse = true
                case "underline": style.underline = true
                default: throw ThemeError(message: "\(location): unknown attribute '\(token)'")
                }
            }
            styles[role] = style
        }
        return Theme(name: name, styles: styles)
    }

    /// Attributes only: what a missing theme directory still leaves.
    public static let mono: Theme = {
        var styles: [Role: Style] = [:]
        for role in Role.allCases { styles[role] = Style() }
        for role: Role in [.title, .heading, .crit, .key] { styles[role]?.bold = true }
        styles[.dim]?.dim = true
        styles[.border]?.dim = true
        styles[.selection]?.reverse = true
        return Theme(name: "mono", styles: styles)
    }()

    /// The default theme (falling back to ``mono``).
    public static var dark: Theme { named("default") ?? mono }

    /// The nearest of the xterm 256-colour palette's 6×6×6 cube and grey ramp.
    public static func xterm256(_ rgb: UInt32) -> Int16 {
        let (r, g, b) = (Int(rgb >> 16 & 0xFF), Int(rgb >> 8 & 0xFF), Int(rgb & 0xFF))
        func level(_ value: Int) -> Int { value < 48 ? 0 : value < 115 ? 1 : (value - 35) / 40 }
        let cube = 16 + 36 * level(r) + 6 * level(g) + level(b)
        let grey = (r + g + b) / 3
        if abs(r - grey) < 10 && abs(g - grey) < 10 && abs(b - grey) < 10 && grey > 8 && grey < 238 {
            return Int16(232 + min(23, (grey - 8) / 10))
        }
        return Int16(cube)
    }

    /// The nearest of the 8 basic colours (bright ones are the same with bold).
    public static func basic(_ rgb: UInt32) -> Int16 {
        let (r, g, b) = (rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF)
        let bits = (r > 0x80 ? 1 : 0) | (g > 0x80 ? 2 : 0) | (b > 0x80 ? 4 : 0)
        return Int16(bits == 0 ? 7 : bits)
    }
}
