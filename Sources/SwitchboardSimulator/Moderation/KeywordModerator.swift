import OrderedCollections
import SwitchboardWire

/// The simulator's moderation model: deterministic keyword rules per category, with the full
/// response shape of `omni-moderation-latest`.
///
/// A category whose phrases appear in the input scores 0.85–0.99 and is flagged (a sub-category also
/// flags its parent); other categories score a small deterministic value below 0.01.
enum KeywordModerator {
    static let phrases: [OpenAI.ModerationCategory: [String]] = [
        .harassment: ["you idiot", "you are worthless", "stupid loser", "nobody likes you"],
        .harassmentThreatening: ["i will hurt you", "you will regret this", "i know where you live"],
        .hate: ["inferior race", "those people are vermin", "hate all of them"],
        .hateThreatening: ["exterminate them all", "wipe them out"],
        .illicit: [
            "buy stolen credit cards", "launder money", "make meth", "counterfeit money", "evade taxes illegally",
        ],
        .illicitViolent: ["build a bomb", "make a pipe bomb", "untraceable gun"],
        .selfHarm: ["hurt myself", "self-harm", "cut myself"],
        .selfHarmInstructions: ["how to kill myself", "ways to commit suicide"],
        .selfHarmIntent: ["i want to die", "i am going to kill myself"],
        .sexual: ["explicit sex", "porn", "nsfw content"],
        .sexualMinors: ["sexual content involving minors"],
        .violence: ["kill him", "murder", "beat them up", "stab"],
        .violenceGraphic: ["gore", "dismember", "blood everywhere", "graphic violence"],
    ]

    static let parents: [OpenAI.ModerationCategory: OpenAI.ModerationCategory] = [
        .harassmentThreatening: .harassment, .hateThreatening: .hate, .illicitViolent: .illicit,
        .selfHarmInstructions: .selfHarm, .selfHarmIntent: .selfHarm, .sexualMinors: .sexual,
        .violenceGraphic: .violence,
    ]

    static func classify(_ text: String, hasImage: Bool) -> OpenAI.ModerationResult {
        let lowered = text.lowercased()
        var matched = Set<OpenAI.ModerationCategory>()
        for (category, list) in phrases where list.contains(where: lowered.contains) {
            matched.insert(category)
            if let parent = parents[category] { matched.insert(parent) }
        }
        var categories = OrderedDictionary<String, Bool>()
        var scores = OrderedDictionary<String, Double>()
        var applied = OrderedDictionary<String, [String]>()
        for category in OpenAI.ModerationCategory.allCases {
            let jitter = Double(StableHash.of(category.rawValue, text) % 1000) / 1000
            let score = matched.contains(category) ? 0.85 + 0.14 * jitter : 0.00001 + 0.0099 * jitter * jitter
            categories[category.rawValue] = matched.contains(category)
            scores[category.rawValue] = score
            applied[category.rawValue] = hasImage && category.acceptsImages ? ["text", "image"] : ["text"]
        }
        return OpenAI.ModerationResult(
            flagged: !matched.isEmpty,
            categories: categories,
            categoryScores: scores,
            categoryAppliedInputTypes: applied
        )
    }
}
