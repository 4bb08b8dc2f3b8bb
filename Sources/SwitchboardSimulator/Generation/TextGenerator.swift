import Foundation

/// Deterministic answer text: the same seed, model and prompt always give the same pieces.
///
/// Each piece is one output token: a word with its leading space, or punctuation. An answer is an
/// opening sentence naming the model, then sentences of plain words, 16–63 pieces in all.
enum TextGenerator {
    static let vocabulary: [String] = [
        "account", "answer", "plan", "refund", "window", "policy", "order", "support", "team", "request",
        "customer", "service", "invoice", "billing", "period", "days", "update", "change", "setting", "limit",
        "report", "detail", "summary", "question", "option", "feature", "access", "user", "data", "record",
        "the", "a", "your", "our", "this", "that", "each", "every", "any", "some",
        "is", "are", "was", "can", "will", "should", "may", "must", "does", "has",
        "within", "after", "before", "during", "from", "with", "for", "about", "under", "over",
        "simple", "clear", "quick", "annual", "monthly", "standard", "current", "previous", "new", "valid",
        "review", "check", "confirm", "send", "open", "close", "keep", "start", "finish", "apply",
        "and", "or", "but", "so", "then", "also", "only", "usually", "often", "always",
        "thirty", "seven", "two", "first", "last", "next", "full", "partial", "free", "paid",
    ]

    /// The pieces of an answer to `prompt`.
    static func pieces(seed: UInt64, model: String, prompt: String) -> [String] {
        var random = SplitMix64(seed: seed ^ StableHash.of(model, prompt))
        let count = 16 + Int(random.next() % 48)
        var pieces = ["Simulated", " answer", " from", " \(model)", "."]
        var sentenceLength = 0
        while pieces.count < count {
            let word = vocabulary[Int(random.next() % UInt64(vocabulary.count))]
            if sentenceLength == 0 {
                pieces.append(" " + word.prefix(1).uppercased() + word.dropFirst())
            } else {
                pieces.append(" " + word)
            }
            sentenceLength += 1
            if sentenceLength >= 6 + Int(random.next() % 9) || pieces.count == count - 1 {
                pieces.append(".")
                sentenceLength = 0
            }
        }
        return pieces
    }

    /// Applies `max_tokens` and stop sequences to generated pieces.
    ///
    /// - Returns: the pieces kept, why generation ended, and the stop sequence that matched.
    static func truncate(_ pieces: [String], maxTokens: Int?, stop: [String]) -> (
        pieces: [String], reason: StopReason, matched: String?
    ) {
        var kept: [String] = []
        var text = ""
        for piece in pieces {
            if let maxTokens, kept.count >= maxTokens { return (kept, .maxTokens, nil) }
            let candidate = text + piece
            if let (sequence, range) = stop.compactMap({ s in candidate.range(of: s).map { (s, $0) } }).min(by: {
                $0.1.lowerBound < $1.1.lowerBound
            }) {
                let before = String(candidate[..<range.lowerBound])
                let remainder = String(before.dropFirst(text.count))
                if !remainder.isEmpty { kept.append(remainder) }
                return (kept, .stopSequence, sequence)
            }
            kept.append(piece)
            text = candidate
        }
        return (kept, .endTurn, nil)
    }

    enum StopReason {
        case endTurn, maxTokens, stopSequence, toolUse

        var openAI: String {
            switch self {
            case .endTurn, .stopSequence: "stop"
            case .maxTokens: "length"
            case .toolUse: "tool_calls"
            }
        }

        var anthropic: String {
            switch self {
            case .endTurn: "end_turn"
            case .maxTokens: "max_tokens"
            case .stopSequence: "stop_sequence"
            case .toolUse: "tool_use"
            }
        }
    }
}
