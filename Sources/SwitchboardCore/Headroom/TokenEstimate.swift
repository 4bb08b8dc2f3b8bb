import SwitchboardWire

/// What a call will take from a provider's token limits, estimated before it is sent: prompt
/// characters / 4 (rounded up) for input, and the requested output ceiling for output (both
/// providers count the ceiling against the limit when the call starts).
public struct TokenEstimate: Sendable, Equatable, Codable {
    public var input: Int
    public var output: Int

    public init(input: Int, output: Int) {
        self.input = input
        self.output = output
    }

    public var total: Int { input + output }

    /// The documented estimator: characters / 4, rounded up.
    public static func tokens(characters: Int) -> Int { (characters + 3) / 4 }

    /// An OpenAI-format request: every message's text (and tool arguments), plus the tools' JSON.
    public init(_ request: OpenAI.ChatCompletionRequest, defaultMaxOutput: Int) {
        var characters = 0
        for message in request.messages {
            characters += message.content?.text.count ?? 0
            for call in message.toolCalls ?? [] { characters += call.function.arguments.count }
        }
        for tool in request.tools ?? [] { characters += tool.json.serialized().count }
        self.init(
            input: Self.tokens(characters: characters),
            output: request.requestedMaxOutputTokens ?? defaultMaxOutput
        )
    }

    /// An Anthropic-format request: the system prompt, every block's text or JSON, plus the tools.
    public init(_ request: Anthropic.MessagesRequest) {
        var characters = request.system?.text.count ?? 0
        for message in request.messages {
            for block in message.content.blocks {
                characters += block.text?.count ?? 0
                if let input = block.input { characters += input.serialized().count }
                if let content = block.content {
                    characters += content.stringValue?.count ?? content.serialized().count
                }
            }
        }
        for tool in request.tools ?? [] { characters += tool.json.serialized().count }
        self.init(input: Self.tokens(characters: characters), output: request.maxTokens)
    }
}
