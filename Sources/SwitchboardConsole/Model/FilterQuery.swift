import SwitchboardJournal

/// A calls filter as typed after `/`: `user:alice status:error model:gpt-4o route:default
/// text:refund`; words without a `key:` are searched for in the bodies too.
public struct FilterQuery: Sendable, Equatable {
    public var filter: CallFilter
    public var text: String

    public static let keys = ["user", "tenant", "status", "model", "route", "provider", "origin", "text"]

    /// - Throws: a message naming the key it does not know.
    public init(_ text: String) throws(FilterError) {
        self.text = text
        var filter = CallFilter()
        var words: [String] = []
        for token in text.split(separator: " ") {
            guard let colon = token.firstIndex(of: ":"), colon != token.startIndex else {
                words.append(String(token))
                continue
            }
            let key = token[..<colon].lowercased()
            let value = String(token[token.index(after: colon)...])
            guard !value.isEmpty else { throw FilterError(message: "\(key): needs a value, e.g. \(key):alice") }
            switch key {
            case "user": filter.userID = value
            case "tenant": filter.tenantID = value
            case "status": filter.status = value
            case "model": filter.model = value
            case "route": filter.route = value
            case "provider": filter.provider = value
            case "origin": filter.origin = value
            case "text": words.append(value)
            default:
                throw FilterError(
                    message: "unknown filter '\(key):'; use \(Self.keys.map { $0 + ":" }.joined(separator: " "))"
                )
            }
        }
        if !words.isEmpty { filter.text = words.joined(separator: " ") }
        self.filter = filter
    }
}

public struct FilterError: Error, Sendable, Equatable {
    public var message: String
}
