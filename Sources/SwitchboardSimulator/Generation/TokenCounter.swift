import SwitchboardWire

/// The simulator's token approximation, documented so that tests and the core's estimator can
/// agree with it: **one token per four Unicode scalars, rounded up**, over the prompt as rendered
/// below. Output tokens are counted exactly: each generated piece (a word with its leading space,
/// or a JSON fragment) is one token.
public enum TokenCounter {
    /// ⌈scalars / 4⌉.
    public static func count(_ text: String) -> Int {
        (text.unicodeScalars.count + 3) / 4
    }
}

/// A prompt rendered as the blocks a provider would tokenize, in order, for counting tokens and for
/// finding cached prefixes.
struct RenderedPrompt {
    struct Block {
        /// The text the block contributes.
        var text: String
        /// Tokens of the text.
        var tokens: Int
        /// Anthropic: the block carries a `cache_control` breakpoint, with this TTL.
        var breakpoint: Anthropic.CacheControl?
    }

    var blocks: [Block]

    var totalTokens: Int { blocks.reduce(0) { $0 + $1.tokens } }

    /// All of the prompt as one text (for seeding generation and OpenAI prefix caching).
    var text: String { blocks.map(\.text).joined() }

    init(blocks: [Block]) { self.blocks = blocks }

    /// OpenAI: tools, then the response schema, then one `role: content` line per message.
    init(openAI request: OpenAI.ChatCompletionRequest) {
        var blocks: [Block] = []
        func add(_ text: String) { blocks.append(Block(text: text, tokens: TokenCounter.count(text), breakpoint: nil)) }
        if let tools = request.tools, !tools.isEmpty { add("tools: \(tools.json.serialized())\n") }
        if let schema = request.responseFormat?.jsonSchema?.schema { add("schema: \(schema.serialized())\n") }
        for message in request.messages {
            var line = "\(message.role): \(message.content?.text ?? "")"
            if let calls = message.toolCalls { line += " \(calls.json.serialized())" }
            add(line + "\n")
        }
        self.blocks = blocks
    }

    /// Anthropic: tools, then system blocks, then message blocks, each a block (so that breakpoints
    /// fall on block boundaries as the API's do). Prefixes are cached in that order.
    init(anthropic request: Anthropic.MessagesRequest) {
        var blocks: [Block] = []
        func add(_ text: String, _ breakpoint: Anthropic.CacheControl?) {
            blocks.append(Block(text: text, tokens: TokenCounter.count(text), breakpoint: breakpoint))
        }
        for tool in request.tools ?? [] {
            var plain = tool
            plain.cacheControl = nil
            add("tool: \(plain.json.serialized())\n", tool.cacheControl)
        }
        for block in request.system?.blocks ?? [] {
            add("system: \(Self.blockText(block))\n", block.cacheControl)
        }
        for message in request.messages {
            for (index, block) in message.content.blocks.enumerated() {
                add("\(index == 0 ? message.role + ": " : "")\(Self.blockText(block))\n", block.cacheControl)
            }
        }
        if let topLevel = request.cacheControl, !blocks.isEmpty, blocks[blocks.count - 1].breakpoint == nil {
            blocks[blocks.count - 1].breakpoint = topLevel
        }
        self.blocks = blocks
    }

    private static func blockText(_ block: Anthropic.ContentBlock) -> String {
        if block.type == "text", let text = block.text { return text }
        var plain = block
        plain.cacheControl = nil
        return plain.json.serialized()
    }
}
