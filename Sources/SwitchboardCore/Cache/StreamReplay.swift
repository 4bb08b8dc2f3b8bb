import Foundation
import SwitchboardWire

/// A whole answer told again as a stream: what a streaming cache hit sends. The events are
/// Anthropic's (the pipeline's translators turn them into OpenAI chunks for OpenAI callers), cut
/// as a provider would: the message, each content block with its text in short deltas (a tool's
/// input in one), the stop reason and usage, the end.
enum StreamReplay {
    /// Characters per text delta.
    static let pieceLength = 24

    static func events(of message: Anthropic.MessageResponse) -> [Anthropic.StreamEvent] {
        var start = message
        start.content = []
        start.stopReason = nil
        start.stopSequence = nil
        var startUsage = message.usage
        startUsage.outputTokens = min(1, message.usage.outputTokens)
        start.usage = startUsage
        var events: [Anthropic.StreamEvent] = [.messageStart(start)]
        for (index, block) in message.content.enumerated() {
            switch block.type {
            case "text":
                events.append(.contentBlockStart(index: index, block: .text("")))
                for piece in pieces(of: block.text ?? "") {
                    events.append(.contentBlockDelta(index: index, delta: .text(piece)))
                }
            case "tool_use":
                var opening = block
                opening.input = .object([:])
                events.append(.contentBlockStart(index: index, block: opening))
                var delta = Anthropic.BlockDelta(type: "input_json_delta")
                delta.partialJSON = block.input?.serialized() ?? "{}"
                events.append(.contentBlockDelta(index: index, delta: delta))
            default:
                events.append(.contentBlockStart(index: index, block: block))
            }
            events.append(.contentBlockStop(index: index))
        }
        events.append(
            .messageDelta(
                Anthropic.MessageDelta(stopReason: message.stopReason, stopSequence: message.stopSequence),
                usage: Anthropic.DeltaUsage(outputTokens: message.usage.outputTokens)
            )
        )
        events.append(.messageStop)
        return events
    }

    /// `text` in pieces of about ``pieceLength`` characters, cut after spaces where possible.
    static func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count >= pieceLength, character == " " || current.count >= pieceLength * 2 {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
