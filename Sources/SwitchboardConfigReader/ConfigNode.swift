import Foundation
import SwitchboardWire
import Yams

/// Where a configuration value came from: file, line and column (1-based).
public struct ConfigLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int
    public var column: Int

    public init(file: String?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// An environment override such as `SWITCHBOARD__JOURNAL__PATH`, which has no line.
    public static func environment(_ name: String) -> ConfigLocation {
        ConfigLocation(file: "$\(name)", line: 0, column: 0)
    }

    public var description: String {
        line == 0 ? (file ?? "<config>") : "\(file ?? "<config>"):\(line):\(column)"
    }
}

/// A configuration file that cannot be used, with the file, line and key at fault.
///
/// Printed as `switchboard.yaml:12:5: limits.openai.rpm: expected an integer, got 'fast'`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: ConfigLocation?
    /// Dotted key path, e.g. `limits.openai.rpm`; empty for the document itself.
    public var keyPath: String
    public var message: String

    public init(location: ConfigLocation?, keyPath: String, message: String) {
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        if !keyPath.isEmpty { text += "\(keyPath): " }
        return text + message
    }
}

/// One node of a YAML configuration document, with its location and key path, and typed readers
/// whose errors say where and what.
public struct ConfigNode: Sendable {
    public indirect enum Value: Sendable {
        case null
        /// A scalar's text; `quoted` when it was written in quotes (so `"60"` stays a string).
        case scalar(String, quoted: Bool)
        case mapping([(key: String, node: ConfigNode)])
        case sequence([ConfigNode])
    }

    public let value: Value
    public let keyPath: String
    /// Where the value starts.
    public let location: ConfigLocation?
    /// Where the key that introduced this value is; errors about the key itself point here.
    public let keyLocation: ConfigLocation?

    public init(value: Value, keyPath: String, location: ConfigLocation?, keyLocation: ConfigLocation? = nil) {
        self.value = value
        self.keyPath = keyPath
        self.location = location
        self.keyLocation = keyLocation
    }

    /// An empty mapping: what an empty file reads as.
    public static func emptyMapping(file: String?) -> ConfigNode {
        ConfigNode(value: .mapping([]), keyPath: "", location: ConfigLocation(file: file, line: 1, column: 1))
    }

    public func error(_ message: String) -> ConfigError {
        ConfigError(location: location, keyPath: keyPath, message: message)
    }

    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    // MARK: - Structure

    /// The members of a mapping, in file order.
    public func members() throws(ConfigError) -> [(key: String, node: ConfigNode)] {
        switch value {
        case .mapping(let members): return members
        case .null: return []
        default: throw error("expected a mapping of keys to values, got \(kindDescription)")
        }
    }

    /// The member `key` of a mapping, or `nil` when absent or null.
    public func member(_ key: String) throws(ConfigError) -> ConfigNode? {
        guard let node = try members().first(where: { $0.key == key })?.node, !node.isNull else { return nil }
        return node
    }

    /// The elements of a sequence (a single scalar reads as a one-element sequence).
    public func elements() throws(ConfigError) -> [ConfigNode] {
        switch value {
        case .sequence(let elements): return elements
        case .null: return []
        case .scalar: return [self]
        case .mapping: throw error("expected a list, got a mapping")
        }
    }

    /// Refuses keys this part of the configuration does not define, suggesting the closest one.
    public func requireKnownKeys(_ known: [String]) throws(ConfigError) {
        for (key, node) in try members() where !known.contains(key) {
            let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }
            var message = "unknown key '\(key)'"
            if let suggestion, editDistance(suggestion, key) <= max(2, key.count / 3) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; expected one of: \(known.joined(separator: ", "))"
            }
            throw ConfigError(location: node.keyLocation ?? node.location, keyPath: node.keyPath, message: message)
        }
    }

    // MARK: - Scalars

    /// The text of a scalar.
    public func string() throws(ConfigError) -> String {
        guard case .scalar(let text, _) = value else { throw error("expected a text value, got \(kindDescription)") }
        return text
    }

    public func int() throws(ConfigError) -> Int {
        let text = try string()
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected an integer, got '\(text)'")
        }
        return value
    }

    public func double() throws(ConfigError) -> Double {
        let text = try string()
        guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
            throw error("expected a number, got '\(text)'")
        }
        return value
    }

    public func bool() throws(ConfigError) -> Bool {
        let text = try string()
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got '\(text)'")
        }
    }

    /// A duration: `500ms`, `10s`, `1m30s`, `1h` (Go syntax), or a plain number of seconds.
    public func duration() throws(ConfigError) -> Duration {
        let text = try string()
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return .seconds(seconds) }
        guard let duration = GoDuration.parse(text), duration >= .zero else {
            throw error("expected a duration such as 500ms, 10s, 1m30s or 1h, got '\(text)'")
        }
        return duration
    }

    /// A size in bytes: `4MB`, `64MiB`, `512KB`, `1GB`, or a plain number of bytes. `KB`/`MB`/`GB`
    /// are binary multiples here (1 MB = 1,048,576 bytes), as memory and body limits usually are.
    public func byteSize() throws(ConfigError) -> Int {
        let text = try string().replacingOccurrences(of: " ", with: "")
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        for (suffix, scale) in units where text.uppercased().hasSuffix(suffix.uppercased()) {
            if let number = Double(text.dropLast(suffix.count)), number >= 0 { return Int(number * Double(scale)) }
        }
        if let bytes = Int(text), bytes >= 0 { return bytes }
        throw error("expected a size such as 512KB, 4MB or 1GB, got '\(text)'")
    }

    /// One of the listed words.
    public func oneOf(_ choices: [String]) throws(ConfigError) -> String {
        let text = try string()
        guard choices.contains(text) else {
            throw error("expected one of \(choices.map { "'\($0)'" }.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    var kindDescription: String {
        switch value {
        case .null: "nothing"
        case .scalar(let text, _): "'\(text)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

extension ConfigNode {
    /// Parses YAML text into a tree; an empty document is an empty mapping.
    /// - Parameter file: the file name used in error locations.
    public static func parse(yaml: String, file: String? = nil) throws(ConfigError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(
                location: yamlErrorLocation(error, file: file),
                keyPath: "",
                message: "not valid YAML: \(yamlErrorSummary(error))"
            )
        } catch {
            throw ConfigError(
                location: ConfigLocation(file: file, line: 1, column: 1),
                keyPath: "",
                message: "not valid YAML: \(error)"
            )
        }
        guard let root else { return .emptyMapping(file: file) }
        return try convert(root, keyPath: "", file: file)
    }

    /// Reads and parses a YAML file.
    public static func load(path: String) throws(ConfigError) -> ConfigNode {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(
                location: nil,
                keyPath: "",
                message: "cannot read configuration file \(path): \(describeFileError(error))"
            )
        }
        return try parse(yaml: text, file: path)
    }

    private static func convert(_ node: Node, keyPath: String, file: String?, keyLocation: ConfigLocation? = nil)
        throws(ConfigError)
        -> ConfigNode
    {
        let location = node.mark.map { ConfigLocation(file: file, line: $0.line, column: $0.column) }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                return ConfigNode(value: .null, keyPath: keyPath, location: location, keyLocation: keyLocation)
            }
            return ConfigNode(
                value: .scalar(scalar.string, quoted: scalar.style != .plain),
                keyPath: keyPath,
                location: location,
                keyLocation: keyLocation
            )
        case .mapping(let mapping):
            var members: [(key: String, node: ConfigNode)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw ConfigError(location: location, keyPath: keyPath, message: "mapping keys must be plain text")
                }
                let key = keyScalar.string
                let childPath = keyPath.isEmpty ? key : "\(keyPath).\(key)"
                let childKeyLocation = keyNode.mark.map { ConfigLocation(file: file, line: $0.line, column: $0.column) }
                if members.contains(where: { $0.key == key }) {
                    throw ConfigError(
                        location: childKeyLocation,
                        keyPath: childPath,
                        message: "the key '\(key)' appears twice"
                    )
                }
                members.append(
                    (key, try convert(valueNode, keyPath: childPath, file: file, keyLocation: childKeyLocation))
                )
            }
            return ConfigNode(value: .mapping(members), keyPath: keyPath, location: location, keyLocation: keyLocation)
        case .sequence(let sequence):
            var elements: [ConfigNode] = []
            for (index, element) in sequence.enumerated() {
                elements.append(try convert(element, keyPath: "\(keyPath)[\(index)]", file: file))
            }
            return ConfigNode(
                value: .sequence(elements),
                keyPath: keyPath,
                location: location,
                keyLocation: keyLocation
            )
        case .alias:
            throw ConfigError(location: location, keyPath: keyPath, message: "YAML aliases are not supported here")
        }
    }

    private static func yamlErrorLocation(_ error: YamlError, file: String?) -> ConfigLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return ConfigLocation(file: file, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(_, let context):
            return ConfigLocation(file: file, line: context.mark.line, column: context.mark.column)
        default:
            return ConfigLocation(file: file, line: 1, column: 1)
        }
    }

    private static func yamlErrorSummary(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "a key appears twice in one mapping: \(duplicates.joined(separator: ", "))"
        default:
            return "\(error)"
        }
    }

    private static func describeFileError(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        return nsError.localizedDescription
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension ConfigNode {
    /// This document with environment overrides applied: `PREFIXA__B=value` sets the key `a.b`
    /// (keys lower-cased, double underscores between them), creating mappings as needed. The
    /// value reads as if written unquoted in the file, so numbers, durations and booleans work.
    /// - Throws: when an override reaches into a value that is not a mapping.
    public func applyingEnvironmentOverrides(_ environment: [String: String], prefix: String) throws(ConfigError)
        -> ConfigNode
    {
        var result = self
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) {
            let keys = name.dropFirst(prefix.count).components(separatedBy: "__").map { $0.lowercased() }
            guard !keys.contains(where: \.isEmpty) else {
                throw ConfigError(
                    location: .environment(name),
                    keyPath: "",
                    message: "an override names keys separated by double underscores, as in \(prefix)JOURNAL__PATH"
                )
            }
            result = try result.setting(keys[...], to: value, variable: name)
        }
        return result
    }

    private func setting(_ keys: ArraySlice<String>, to text: String, variable: String) throws(ConfigError)
        -> ConfigNode
    {
        guard let key = keys.first else {
            return ConfigNode(value: .scalar(text, quoted: false), keyPath: keyPath, location: .environment(variable))
        }
        var members: [(key: String, node: ConfigNode)]
        switch value {
        case .mapping(let existing): members = existing
        case .null: members = []
        default:
            throw ConfigError(
                location: .environment(variable),
                keyPath: keyPath,
                message: "\(variable) sets a key inside '\(keyPath)', which is \(kindDescription), not a mapping"
            )
        }
        let childPath = keyPath.isEmpty ? key : "\(keyPath).\(key)"
        let index = members.firstIndex { $0.key == key }
        let child =
            index.map { members[$0].node }
            ?? ConfigNode(
                value: .null,
                keyPath: childPath,
                location: .environment(variable),
                keyLocation: .environment(variable)
            )
        let updated = try child.setting(keys.dropFirst(), to: text, variable: variable)
        if let index { members[index].node = updated } else { members.append((key, updated)) }
        return ConfigNode(value: .mapping(members), keyPath: keyPath, location: location, keyLocation: keyLocation)
    }
}
