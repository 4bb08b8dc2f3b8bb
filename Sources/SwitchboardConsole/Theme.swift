/// How each role looks: a colour (as RGB, mapped down to the terminal's 256 or 16 colours) and
/// attributes. `mono` uses attributes only, and is what `NO_COLOR` selects.
public struct Theme: Sendable {
    public struct Style: Sendable, Equatable {
        public var foreground: UInt32?
        public var bold = false
        public var dim = false
        public var reverse = false
        public var underline = false
    }

    public var name: String
    public var styles: [Role: Style]

    public func style(_ role: Role) -> Style { styles[role] ?? Style() }

    public static let names = ["default", "light", "high-contrast", "amber", "mono"]

    public static func named(_ name: String) -> Theme? {
        switch name {
        case "default", "dark": .dark
        case "light": .light
        case "high-contrast": .highContrast
        case "amber": .amber
        case "mono": .mono
        default: nil
        }
    }

    private static func palette(_ name: String, _ colours: [Role: UInt32], bold: Set<Role> = [.title, .heading, .crit])
        -> Theme
    {
        var styles: [Role: Style] = [:]
        for role in Role.allCases {
            styles[role] = Style(foreground: colours[role], bold: bold.contains(role))
        }
        styles[.selection] = Style(foreground: colours[.selection], bold: true, reverse: true)
        styles[.dim]?.dim = colours[.dim] == nil
        return Theme(name: name, styles: styles)
    }

    public static let dark = palette(
        "default",
        [
            .title: 0x7AA2F7, .heading: 0xC0CAF5, .accent: 0x7DCFFF, .border: 0x565F89, .key: 0xE0AF68, .dim: 0x737AA2,
            .ok: 0x9ECE6A, .warn: 0xE0AF68, .crit: 0xF7768E, .rateLimited: 0xFF9E64, .cached: 0x7DCFFF,
            .blocked: 0xBB9AF7, .barFull: 0x9ECE6A, .barEmpty: 0x3B4261, .footer: 0xA9B1D6,
        ]
    )

    public static let light = palette(
        "light",
        [
            .title: 0x2E59A8, .heading: 0x1F2335, .accent: 0x007197, .border: 0x9699A3, .key: 0x8C6C3E, .dim: 0x6172B0,
            .ok: 0x387068, .warn: 0x8C6C3E, .crit: 0xC64343, .rateLimited: 0xB15C00, .cached: 0x007197,
            .blocked: 0x7847BD, .barFull: 0x387068, .barEmpty: 0xC4C8DA, .footer: 0x3760BF,
        ]
    )

    public static let highContrast = palette(
        "high-contrast",
        [
            .title: 0xFFFFFF, .heading: 0xFFFFFF, .accent: 0x00FFFF, .border: 0xFFFFFF, .key: 0xFFFF00, .dim: 0xC0C0C0,
            .ok: 0x00FF00, .warn: 0xFFFF00, .crit: 0xFF0000, .rateLimited: 0xFF8000, .cached: 0x00FFFF,
            .blocked: 0xFF00FF, .barFull: 0x00FF00, .barEmpty: 0x808080, .footer: 0xFFFFFF,
        ],
        bold: [.title, .heading, .crit, .warn, .key]
    )

    public static let amber = palette(
        "amber",
        [
            .title: 0xFFB000, .heading: 0xFFCC66, .accent: 0xFFD580, .border: 0x996A00, .key: 0xFFE0A0, .dim: 0xA07020,
            .ok: 0xFFB000, .warn: 0xFFD580, .crit: 0xFF5500, .rateLimited: 0xFF8C00, .cached: 0xFFCC66,
            .blocked: 0xFF7F50, .barFull: 0xFFB000, .barEmpty: 0x4D3500, .footer: 0xFFCC66,
        ]
    )

    public static let mono: Theme = {
        var styles: [Role: Style] = [:]
        for role in Role.allCases { styles[role] = Style() }
        for role: Role in [.title, .heading, .crit, .key] { styles[role]?.bold = true }
        styles[.dim]?.dim = true
        styles[.border]?.dim = true
        styles[.warn]?.underline = true
        styles[.selection]?.reverse = true
        return Theme(name: "mono", styles: styles)
    }()

    /// The nearest of the xterm 256-colour palette's 6×6×6 cube and grey ramp.
    static func xterm256(_ rgb: UInt32) -> Int16 {
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
    static func basic(_ rgb: UInt32) -> Int16 {
        let (r, g, b) = (rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF)
        let bits = (r > 0x80 ? 1 : 0) | (g > 0x80 ? 2 : 0) | (b > 0x80 ? 4 : 0)
        return Int16(bits == 0 ? 7 : bits)
    }
}
