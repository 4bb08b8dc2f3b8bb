import Foundation
import SwitchboardSimulator
import SwitchboardTesting
import Testing

@testable import SwitchboardCore

/// The moderator's own phrase matcher gives ICU's answer on every category, for the labelled
/// table and for a seeded corpus of phrases, near misses and phrases in context.
struct PhraseMatcherTests {
    @Test func everyCategoryIsMatchedWithoutICUForASCIIText() {
        for (category, rules) in LocalModerator.categories {
            for rule in rules { #expect(rule.matcher != nil, "\(category) fell back to ICU") }
        }
        #expect(PhraseMatcher.lowercased("Ignore ALL previous") == Array("ignore all previous".utf8))
        #expect(PhraseMatcher.lowercased("naïve") == nil, "non-ASCII text goes to ICU")
    }

    @Test(arguments: ["a{2}", #"\d+"#, "(a)", "a+?", "a??", "[^a]", ".", "a|(?=b)", "[a", "(?:a", "x]", "[]", "é"])
    func syntaxOutsideTheSubsetIsRefused(pattern: String) {
        #expect(PhraseMatcher(pattern) == nil)
    }

    @Test func theLabelledTableMatchesAsICUDoes() {
        for (_, prompt) in ModerationTests.table {
            Self.expectAgreement(prompt)
        }
    }

    @Test func aSeededCorpusMatchesAsICUDoes() {
        var random = SeededRandom(seed: 11)
        let contexts = ["", " ", "a", "Z", "7", "_", ".", "-", "'", "\n", "so ", " ok", "x y "]
        var matched = 0
        var total = 0
        for (_, rules) in LocalModerator.categories {
            for rule in rules {
                guard let matcher = rule.matcher else { continue }
                for _ in 0..<150 {
                    var phrase = Self.sample(matcher.root, &random)
                    // Near misses: a byte dropped, doubled or replaced.
                    if Bool.random(using: &random), !phrase.isEmpty {
                        let at = Int.random(in: 0..<phrase.count, using: &random)
                        switch Int.random(in: 0..<3, using: &random) {
                        case 0: phrase.remove(at: at)
                        case 1: phrase.insert(phrase[at], at: at)
                        default: phrase[at] = Array("aeo s'-19_".utf8).randomElement(using: &random)!
                        }
                    }
                    let text =
                        contexts.randomElement(using: &random)! + String(decoding: phrase, as: UTF8.self)
                        + contexts.randomElement(using: &random)!
                    if Self.expectAgreement(text) { matched += 1 }
                    total += 1
                }
            }
        }
        // Not a corpus of misses only: both answers are exercised.
        #expect(matched > total / 10 && matched < total, "\(matched) of \(total) matched")
    }

    /// Compares every category's answer on `text`; whether any matched.
    @discardableResult
    static func expectAgreement(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        let lowered = PhraseMatcher.lowercased(text)
        var any = false
        for (category, rules) in LocalModerator.categories {
            for rule in rules {
                let icu = rule.pattern.firstMatch(in: text, range: range) != nil
                let own = rule.matches(text, lowered: lowered, range: range)
                #expect(own == icu, "\(category) on \(text.debugDescription)")
                any = any || icu
            }
        }
        return any
    }

    /// A random text the node matches, in random case.
    static func sample(_ node: PhraseMatcher.Node, _ random: inout SeededRandom) -> [UInt8] {
        switch node {
        case .byte(let byte):
            return [byte >= 0x61 && byte <= 0x7A && Bool.random(using: &random) ? byte ^ 0x20 : byte]
        case .set(let set):
            return [set.members.randomElement(using: &random)!]
        case .boundary:
            return []
        case .sequence(let nodes):
            return nodes.flatMap { sample($0, &random) }
        case .alternatives(let nodes):
            return sample(nodes.randomElement(using: &random)!, &random)
        case .repeated(let inner, let least, let most):
            let count = Int.random(in: least...(most ?? least + 2), using: &random)
            return (0..<count).flatMap { _ in sample(inner, &random) }
        }
    }
}
