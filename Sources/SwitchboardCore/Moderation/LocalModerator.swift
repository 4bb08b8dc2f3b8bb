import Foundation
import SwitchboardWire

/// What moderation found in a request: scores per category (OpenAI's thirteen, plus
/// `prompt_injection` and `pii`), what was flagged and what blocks it under the policy.
public struct ModerationVerdict: Sendable {
    /// Scores 0…1 of the categories that matched anything.
    public var scores: [String: Double] = [:]
    /// Personal data found, by kind (`email`, `phone`, `card`, `secret`), with counts.
    public var pii: [String: Int] = [:]
    /// Categories at or over the threshold whose action is `flag`.
    public var flagged: [String] = []
    /// Categories at or over the threshold whose action is `block`.
    public var blocked: [String] = []
    public var latency: Duration = .zero
    /// What OpenAI's moderation endpoint said, when it was asked: its model, or why it failed.
    public var endpoint: (model: String?, error: String?)?

    public var isBlocked: Bool { !blocked.isEmpty }

    /// As journaled in the call's `moderation` column.
    public var json: JSONValue {
        var object: JSONObject = [
            "action": .string(isBlocked ? "block" : flagged.isEmpty ? "allow" : "flag"),
            "latency_ms": .double((latency.millisecondsDouble * 1000).rounded() / 1000),
        ]
        if !flagged.isEmpty { object["flagged"] = .array(flagged.map(JSONValue.string)) }
        if !blocked.isEmpty { object["blocked"] = .array(blocked.map(JSONValue.string)) }
        if !scores.isEmpty {
            var scored = JSONObject()
            for (category, score) in scores.sorted(by: { $0.key < $1.key }) { scored[category] = .double(score) }
            object["scores"] = .object(scored)
        }
        if !pii.isEmpty {
            var found = JSONObject()
            for (kind, count) in pii.sorted(by: { $0.key < $1.key }) { found[kind] = .integer(count) }
            object["pii"] = .object(found)
        }
        if let endpoint {
            object["endpoint"] =
                endpoint.error.map { ["error": .string($0)] } ?? [
                    "model": endpoint.model.map(JSONValue.string) ?? .null
                ]
        }
        return .object(object)
    }
}

/// Moderation that needs no network: phrase rules for OpenAI's thirteen categories, heuristics for
/// prompt injection, and detectors for personal data (e-mail addresses, phone numbers, card
/// numbers that pass the Luhn check, key-shaped secrets). Always on, deterministic, and measured
/// against a labelled table in the tests (precision and recall per category).
public enum LocalModerator {
    /// A rule: a pattern (case-insensitive, whole words) and the score a match gives.
    struct Rule: Sendable {
        let pattern: NSRegularExpression
        /// The same phrases for ASCII text, without ICU; `nil` should they use syntax it lacks.
        let matcher: PhraseMatcher?
        let score: Double
    }

    /// A category's phrases as one rule: one pass over the text per category rather than one per
    /// phrase. A text matches it exactly when it matches one of the phrases alone: the expression
    /// backtracks through every alternative at every position.
    static func rules(_ patterns: [String], score: Double = 0.9) -> [Rule] {
        // Whole words: no letter or digit right before or after (also around `<system>`).
        let phrases = patterns.map { "(?:\($0))" }.joined(separator: "|")
        return [
            Rule(
                pattern: try! NSRegularExpression(
                    pattern: "(?<![A-Za-z0-9])(?:\(phrases))(?![A-Za-z0-9])",
                    options: [.caseInsensitive]
                ),
                matcher: PhraseMatcher(phrases),
                score: score
            )
        ]
    }

    /// Rules per category. A sub-category's match also scores its parent.
    static let categories: [(category: String, rules: [Rule])] = [
        (
            "harassment",
            rules([
                "you(?:'re| are) (?:an? )?(?:idiot|moron|loser|pathetic|worthless|stupid)", "shut up,? you",
                "nobody (?:likes|loves|wants) you", "you(?:'re| are) (?:so )?ugly", "go away,? (?:loser|freak)",
                "(?:stupid|worthless|pathetic) (?:idiot|loser|piece of (?:trash|garbage))",
            ])
        ),
        (
            "harassment/threatening",
            rules([
                "i(?:'ll| will) (?:hurt|find|get) you", "i know where you live", "you(?:'ll| will) regret (?:this|it)",
                "watch your back", "i(?:'m| am) (?:going|gonna) to (?:hurt|destroy|end) you",
            ])
        ),
        (
            "hate",
            rules([
                "(?:inferior|subhuman) (?:race|people|religion)",
                "(?:those|these) people are (?:vermin|animals|parasites)",
                "i hate (?:all )?(?:immigrants|muslims|jews|christians|gays|black people|white people|women|men)\\b",
                "(?:immigrants|foreigners) are (?:vermin|parasites|a disease)",
            ])
        ),
        (
            "hate/threatening",
            rules([
                "(?:exterminate|eradicate|wipe out) (?:them|all of them|every one of them|the [a-z]+s)",
                "(?:kill|deport) (?:all|every) (?:immigrants|muslims|jews|christians|foreigners)",
            ])
        ),
        (
            "illicit",
            rules([
                "(?:buy|sell|get) (?:stolen )?credit card (?:numbers|dumps)",
                "launder(?:ing)? (?:money|cash|the proceeds)",
                "(?:make|cook|synthesi[sz]e) (?:meth|methamphetamine|crack|heroin|fentanyl)",
                "counterfeit (?:money|bills|currency)", "evade taxes", "pick a lock to (?:break|get) into",
                "hack into (?:my |an? |someone(?:'s)? )?(?:ex'?s? |neighbou?r'?s? )?(?:email|account|phone|wifi)",
                "phishing (?:email|page|kit) (?:to|that) steal",
            ])
        ),
        (
            "illicit/violent",
            rules([
                "(?:build|make|assemble) (?:a|an) (?:pipe )?(?:bomb|explosive|ied)",
                "untraceable (?:gun|firearm|weapon)", "(?:3d[- ]print|make) (?:a|an) (?:untraceable )?(?:gun|firearm)",
                "poison (?:someone|my (?:husband|wife|boss|neighbou?r))",
            ])
        ),
        (
            "self-harm",
            rules([
                "(?:hurt|cut|harm) myself", "self[- ]harm(?:ing)?", "burn(?:ed|ing)? myself",
            ])
        ),
        (
            "self-harm/intent",
            rules([
                "i want to (?:die|end it all|end my life)", "i(?:'m| am) going to (?:kill myself|end my life)",
                "i don'?t want to (?:live|be alive) anymore",
            ])
        ),
        (
            "self-harm/instructions",
            rules([
                "(?:how|ways|best way) to (?:kill myself|commit suicide|end my life)",
                "how many (?:pills|sleeping pills) (?:to|would) (?:kill|overdose)",
                "painless(?:ly)? (?:suicide|way to die)",
            ])
        ),
        (
            "sexual",
            rules([
                "explicit sex(?:ual)? (?:scene|story|content)", "\\bporn(?:ographic)?\\b",
                "nsfw (?:story|content|image)",
                "erotic (?:story|roleplay)", "describe (?:them )?having sex",
            ])
        ),
        (
            "sexual/minors",
            rules([
                "sexual (?:content|story|images?) (?:involving|with|about) (?:a )?(?:minors?|children|kids|a child)",
                "(?:child|underage|minor) (?:porn|sexual|nudes?)", "sexy (?:child|kid|minor|12[- ]year[- ]old)",
            ])
        ),
        (
            "violence",
            rules([
                "(?:kill|murder|stab|shoot) (?:him|her|them|my (?:boss|neighbou?r|teacher|husband|wife))",
                "beat (?:him|her|them) (?:up|to death)", "(?:murder|kill) (?:someone|somebody) and get away",
                "(?:how|ways) to (?:kill|murder) (?:a person|someone|people)",
            ])
        ),
        (
            "violence/graphic",
            rules([
                "(?:describe|show) (?:the )?(?:gore|dismember(?:ment|ing)?|mutilation)",
                "blood (?:and guts )?everywhere", "graphic (?:violence|torture|gore)",
                "(?:dismember|disembowel|flay)(?:ed|ing)? (?:the )?(?:body|victim|corpse)",
            ])
        ),
        (
            "prompt_injection",
            rules([
                "ignore (?:all |any |the )?(?:previous|prior|above|earlier) (?:instructions|prompts?|rules|directions)",
                "disregard (?:all |any |the |your )?(?:previous |prior |system )?(?:instructions|prompt|rules)",
                "forget (?:all |everything )?(?:your|the) (?:instructions|rules|system prompt)",
                "(?:reveal|print|show|repeat|output) (?:me )?(?:your|the) (?:system prompt|hidden instructions|initial instructions)",
                "you are now (?:dan|in developer mode|unrestricted|jailbroken)", "developer mode (?:enabled|on)",
                "act as (?:an? )?(?:unrestricted|unfiltered|jailbroken) (?:ai|model|assistant)",
                "pretend (?:you have|there are) no (?:rules|restrictions|guidelines)",
                "new instructions:? (?:you must|from now on)", "</?system>",
            ])
        ),
    ]

    static let parents = [
        "harassment/threatening": "harassment", "hate/threatening": "hate", "illicit/violent": "illicit",
        "self-harm/intent": "self-harm", "self-harm/instructions": "self-harm", "sexual/minors": "sexual",
        "violence/graphic": "violence",
    ]

    static let email = try! NSRegularExpression(
        pattern: "\\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\\.[A-Z]{2,}\\b",
        options: [.caseInsensitive]
    )
    static let phone = try! NSRegularExpression(
        pattern: "(?<![\\d-])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{2,4}\\)|\\d{2,4})[ .-]\\d{3,4}[ .-]\\d{3,4}(?![\\d-])"
    )
    static let card = try! NSRegularExpression(pattern: "(?<!\\d)(?:\\d[ -]?){12,18}\\d(?!\\d)")

    /// Scores `text`: every category's rules, and the personal data in it.
    public static func scan(_ text: String) -> (scores: [String: Double], pii: [String: Int]) {
        let range = NSRange(text.startIndex..., in: text)
        let lowered = PhraseMatcher.lowercased(text)
        var scores: [String: Double] = [:]
        for (category, rules) in categories {
            for rule in rules where rule.matches(text, lowered: lowered, range: range) {
                scores[category] = max(scores[category] ?? 0, rule.score)
                if let parent = parents[category] { scores[parent] = max(scores[parent] ?? 0, rule.score) }
            }
        }
        var pii: [String: Int] = [:]
        // The detectors below need an `@`, or enough digits: most texts have neither, and are
        // spared the expressions. (Non-ASCII text may hold other scripts' digits: it is scanned.)
        let ascii = lowered != nil
        let digits = text.utf8.reduce(0) { $0 + ($1 >= 0x30 && $1 <= 0x39 ? 1 : 0) }
        let emails = text.utf8.contains(UInt8(ascii: "@")) ? email.numberOfMatches(in: text, range: range) : 0
        if emails > 0 { pii["email"] = emails }
        let phones = (ascii && digits < 9 ? [] : phone.matches(in: text, range: range)).filter { match in
            let digits = (text as NSString).substring(with: match.range).filter(\.isNumber)
            return (9...15).contains(digits.count)
        }
        if !phones.isEmpty { pii["phone"] = phones.count }
        let cards = (ascii && digits < 13 ? [] : card.matches(in: text, range: range)).filter { match in
            luhn((text as NSString).substring(with: match.range).filter(\.isNumber))
        }
        if !cards.isEmpty { pii["card"] = cards.count }
        let secrets = SecretScanner.matches(in: text).filter { !$0.secret.hasPrefix("sk-sim-") }.count
        if secrets > 0 { pii["secret"] = secrets }
        if !pii.isEmpty { scores["pii"] = 0.95 }
        return (scores, pii)
    }

    /// Whether a 13–19 digit number passes the Luhn check cards carry.
    public static func luhn(_ digits: String) -> Bool {
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (offset, character) in digits.reversed().enumerated() {
            guard var digit = character.wholeNumberValue else { return false }
            if offset % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }

    /// The verdict on `text` under the configured policy: categories scoring at least their
    /// threshold are blocked, flagged or allowed as the policy says.
    public static func moderate(_ text: String, policy: SwitchboardConfiguration.Moderation) -> ModerationVerdict {
        let clock = ContinuousClock()
        let start = clock.now
        let (scores, pii) = scan(text)
        var verdict = decide(scores: scores, pii: pii, policy: policy)
        verdict.latency = clock.now - start
        return verdict
    }

    /// The verdict on `scores` (from any source) under the policy.
    public static func decide(
        scores: [String: Double],
        pii: [String: Int],
        policy: SwitchboardConfiguration.Moderation
    ) -> ModerationVerdict {
        var verdict = ModerationVerdict(scores: scores, pii: pii)
        for (category, score) in scores.sorted(by: { $0.key < $1.key })
        where score >= policy.thresholds[category] ?? policy.threshold {
            let action: SwitchboardConfiguration.Moderation.Action =
                switch category {
                case "prompt_injection": policy.promptInjection
                case "pii": policy.pii
                default: policy.block.contains(category) ? .block : policy.defaultAction
                }
            switch action {
            case .block: verdict.blocked.append(category)
            case .flag: verdict.flagged.append(category)
            case .allow: break
            }
        }
        return verdict
    }
}

extension LocalModerator.Rule {
    /// Whether the rule's phrases occur in `text` (`lowered`: its bytes lower-cased when it is
    /// ASCII, for the matcher; ICU otherwise).
    func matches(_ text: String, lowered: [UInt8]?, range: NSRange) -> Bool {
        if let lowered, let matcher { return matcher.matches(lowered) }
        return pattern.firstMatch(in: text, range: range) != nil
    }
}
