import Foundation

/// Checks that the facts an answer states can be found in what the model was given: numbers,
/// dates, URLs and configured entity names in the answer must appear in the request's context
/// (system prompt, documents, earlier messages) or in the configured knowledge. Each one that does
/// not is reported with its text.
///
/// Matching is by normalised value, not by wording: `1,200` and `1200` are one number, `2026-03-05`
/// and `March 5, 2026` one date, a URL with or without its trailing slash one URL. Integers below
/// 10 are not checked (counts and list numbers are rarely claims).
public struct GroundingValidator: OutputValidator {
    public let name = "grounding"
    /// Names the answer may only use when the context does (products, people, places).
    public let entities: [String]
    /// Text always counted as context (the files of `knowledge_dir`).
    public let knowledge: [String]

    public init(entities: [String] = [], knowledge: [String] = []) {
        self.entities = entities
        self.knowledge = knowledge
    }

    /// Reads every `.txt`, `.md`, `.json`, `.yaml`, `.csv` file under `directory` as knowledge.
    public static func knowledge(in directory: String) throws -> [String] {
        let base = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        var texts: [String] = []
        for case let url as URL in walker
        where ["txt", "md", "json", "yaml", "yml", "csv"].contains(url.pathExtension.lowercased()) {
            texts.append(try String(contentsOf: url, encoding: .utf8))
        }
        return texts
    }

    public func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation] {
        let sources = context.sources + knowledge
        let facts = Facts(sources.joined(separator: "\n"))
        let answer = Facts(output.text)
        var found: [Violation] = []
        for (span, value) in answer.numbers where !facts.numberValues.contains(value) {
            found.append(Violation(validator: name, message: "the number \(span) is not in the context", span: span))
        }
        for (span, value) in answer.dates where !facts.dateValues.contains(value) {
            found.append(Violation(validator: name, message: "the date \(span) is not in the context", span: span))
        }
        for (span, value) in answer.urls where !facts.urlValues.contains(value) {
            found.append(Violation(validator: name, message: "the URL \(span) is not in the context", span: span))
        }
        let lowerSources = sources.joined(separator: "\n").lowercased()
        let lowerAnswer = output.text.lowercased()
        for entity in entities {
            let key = entity.lowercased()
            if Facts.containsWord(lowerAnswer, key) && !Facts.containsWord(lowerSources, key) {
                found.append(
                    Violation(validator: name, message: "\(entity) is not mentioned in the context", span: entity)
                )
            }
        }
        return found
    }
}

/// The checkable facts of a text, each with the text it was found as and its normalised value.
struct Facts {
    var numbers: [(String, String)] = []
    var dates: [(String, String)] = []
    var urls: [(String, String)] = []

    var numberValues: Set<String> { Set(numbers.map(\.1)) }
    var dateValues: Set<String> { Set(dates.map(\.1)) }
    var urlValues: Set<String> { Set(urls.map(\.1)) }

    private static let url = try! NSRegularExpression(pattern: #"https?://[^\s<>()\[\]"'`]+"#)
    private static let isoDate = try! NSRegularExpression(pattern: #"\b(\d{4})-(\d{2})-(\d{2})\b"#)
    private static let monthFirst = try! NSRegularExpression(
        pattern:
            #"\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b"#,
        options: [.caseInsensitive]
    )
    private static let dayFirst = try! NSRegularExpression(
        pattern:
            #"\b(\d{1,2})(?:st|nd|rd|th)? (January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?,? (\d{4})\b"#,
        options: [.caseInsensitive]
    )
    private static let number = try! NSRegularExpression(pattern: #"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?%?"#)

    init(_ text: String) {
        var covered: [NSRange] = []
        let whole = NSRange(text.startIndex..., in: text)
        func string(_ range: NSRange) -> String { Range(range, in: text).map { String(text[$0]) } ?? "" }
        for match in Self.url.matches(in: text, range: whole) {
            var span = string(match.range)
            while let last = span.last, ".,;:!?".contains(last) { span.removeLast() }
            var value = span.lowercased()
            while value.hasSuffix("/") { value.removeLast() }
            urls.append((span, value))
            covered.append(match.range)
        }
        for match in Self.isoDate.matches(in: text, range: whole) where !Self.inside(match.range, covered) {
            dates.append((string(match.range), string(match.range)))
            covered.append(match.range)
        }
        for (expression, monthGroup, dayGroup) in [(Self.monthFirst, 1, 2), (Self.dayFirst, 2, 1)] {
            for match in expression.matches(in: text, range: whole) where !Self.inside(match.range, covered) {
                guard let month = Self.month(string(match.range(at: monthGroup))),
                    let day = Int(string(match.range(at: dayGroup)))
                else { continue }
                let value = String(format: "%@-%02d-%02d", string(match.range(at: 3)), month, day)
                dates.append((string(match.range), value))
                covered.append(match.range)
            }
        }
        for match in Self.number.matches(in: text, range: whole) where !Self.inside(match.range, covered) {
            let span = string(match.range)
            var digits = span.filter { $0.isNumber || $0 == "." || $0 == "-" }
            if digits.hasPrefix("-") && !span.hasPrefix("-") { digits.removeFirst() }
            guard let value = Double(digits) else { continue }
            if value.rounded() == value && abs(value) < 10 && !span.contains(".") && !span.contains("%") { continue }
            let normalised = value.rounded() == value ? String(Int64(value)) : String(value)
            numbers.append((span, normalised + (span.hasSuffix("%") ? "%" : "")))
        }
    }

    static func inside(_ range: NSRange, _ covered: [NSRange]) -> Bool {
        covered.contains { NSIntersectionRange($0, range).length > 0 }
    }

    static func month(_ name: String) -> Int? {
        let names = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        return names.firstIndex(of: String(name.lowercased().prefix(3))).map { $0 + 1 }
    }

    /// `needle` occurs in `text` as whole words (both lowercased).
    static func containsWord(_ text: String, _ needle: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: needle, range: searchRange) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            let boundary = { (character: Character?) in character.map { !$0.isLetter && !$0.isNumber } ?? true }
            if boundary(before) && boundary(after) { return true }
            searchRange = found.upperBound..<text.endIndex
        }
        return false
    }
}
