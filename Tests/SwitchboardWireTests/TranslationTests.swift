import SwitchboardTesting
import Testing

@testable import SwitchboardWire

struct TranslationRequestTests {
    static let weather: JSONValue = [
        "type": "object", "properties": ["city": ["type": "string"]], "required": ["city"],
    ]

    @Test func anOpenAIConversationBecomesAnAnthropicOne() throws {
        var request = OpenAI.ChatCompletionRequest(
            model: "default",
            messages: [
                .system("You are terse."), .developer("Answer in English."), .user("Weather in Oslo?"),
                OpenAI.ChatMessage(
                    role: "assistant",
                    content: nil,
                    toolCalls: [
                        OpenAI.ToolCall(
                            id: "call_1",
                            function: OpenAI.FunctionCall(name: "get_weather", arguments: #"{"city":"Oslo"}"#)
                        )
                    ]
                ),
                OpenAI.ChatMessage(role: "tool", content: .text("12 C, rain"), toolCallID: "call_1"),
                .user("And tomorrow?"),
            ],
            temperature: 1.4,
            maxCompletionTokens: 300,
            stream: true
        )
        request.stop = ["END"]
        request.tools = [
            OpenAI.Tool(
                function: OpenAI.FunctionDefinition(
                    name: "get_weather",
                    description: "Weather",
                    parameters: Self.weather
                )
            )
        ]
        request.toolChoice = .required
        request.user = "user-42"
        let (translated, plan) = try Translation.anthropicRequest(from: request, model: "claude-haiku-4-5")
        #expect(plan == Translation.Plan(requestedModel: "default"))
        #expect(translated.model == "claude-haiku-4-5")
        #expect(translated.system == .text("You are terse.\n\nAnswer in English."))
        #expect(translated.maxTokens == 300)
        #expect(translated.temperature == 1, "Anthropic's temperature stops at 1")
        #expect(translated.stopSequences == ["END"])
        #expect(translated.stream == true)
        #expect(translated.metadataUserID == "user-42")
        #expect(translated.toolChoice == Anthropic.ToolChoice(type: "any"))
        #expect(translated.tools?.first?.inputSchema == Self.weather)
        #expect(translated.messages.map(\.role) == ["user", "assistant", "user"])
        let toolUse = translated.messages[1].content.blocks[0]
        #expect(toolUse.type == "tool_use")
        #expect(toolUse.input == ["city": "Oslo"])
        let followUp = translated.messages[2].content.blocks
        #expect(
            followUp.map(\.type) == ["tool_result", "text"],
            "the tool result and the next question share one user turn"
        )
        #expect(followUp[0].toolUseID == "call_1")
        #expect(followUp[1].text == "And tomorrow?")
    }

    @Test func structuredOutputBecomesAForcedTool() throws {
        var request = OpenAI.ChatCompletionRequest(model: "m", messages: [.user("Refund window?")])
        request.responseFormat = .jsonSchema(
            name: "refund",
            schema: ["type": "object", "properties": ["days": ["type": "integer"]]]
        )
        let (translated, plan) = try Translation.anthropicRequest(from: request, model: "claude-haiku-4-5")
        #expect(plan.structuredOutputTool == "refund")
        #expect(translated.toolChoice == .tool("refund"))
        #expect(translated.tools?.map(\.name) == ["refund"])
        #expect(translated.maxTokens == Translation.defaultMaxTokens)
    }

    @Test func imagesTravelAsURLsOrBase64() throws {
        let parts: [OpenAI.ContentPart] = [
            OpenAI.ContentPart(type: "text", text: "What is this?"),
            OpenAI.ContentPart(type: "image_url", extra: ["image_url": ["url": "data:image/jpeg;base64,AAAA"]]),
            OpenAI.ContentPart(type: "image_url", extra: ["image_url": ["url": "https://example.com/cat.png"]]),
        ]
        let request = OpenAI.ChatCompletionRequest(
            model: "m",
            messages: [OpenAI.ChatMessage(role: "user", content: .parts(parts))]
        )
        let blocks = try Translation.anthropicRequest(from: request, model: "claude").request.messages[0].content.blocks
        #expect(blocks.map(\.type) == ["text", "image", "image"])
        #expect(blocks[1].extra["source"] == ["type": "base64", "media_type": "image/jpeg", "data": "AAAA"])
        #expect(blocks[2].extra["source"] == ["type": "url", "url": "https://example.com/cat.png"])
        let back = Translation.openAIRequest(
            from: Anthropic.MessagesRequest(
                model: "claude",
                maxTokens: 10,
                messages: [Anthropic.Message(role: "user", content: .blocks(blocks))]
            ),
            model: "gpt-4o"
        ).request
        guard case .parts(let roundTrip) = back.messages[0].content else {
            Issue.record("an image should come back as parts")
            return
        }
        #expect(roundTrip.map(\.type) == ["text", "image_url", "image_url"])
        #expect(roundTrip[1].extra["image_url"]?["url"] == "data:image/jpeg;base64,AAAA")
    }

    @Test func severalChoicesCannotGoToAnthropic() {
        var request = OpenAI.ChatCompletionRequest(model: "m", messages: [.user("x")])
        request.n = 3
        #expect(throws: Translation.Unsupported.self) {
            try Translation.anthropicRequest(from: request, model: "claude")
        }
    }

    @Test func anAnthropicConversationBecomesAnOpenAIOne() {
        var request = Anthropic.MessagesRequest(
            model: "premium",
            maxTokens: 200,
            messages: [
                .user("Weather in Oslo?"),
                Anthropic.Message(
                    role: "assistant",
                    content: .blocks([
                        .text("Let me look."), .toolUse(id: "toolu_1", name: "get_weather", input: ["city": "Oslo"]),
                    ])
                ),
                Anthropic.Message(
                    role: "user",
                    content: .blocks([
                        .toolResult(toolUseID: "toolu_1", content: [["type": "text", "text": "12 C"]]),
                        .text("Thanks!"),
                    ])
                ),
            ],
            system: .blocks([.text("Be brief.", cacheControl: Anthropic.CacheControl())]),
            temperature: 0.3,
            stream: true
        )
        request.tools = [Anthropic.Tool(name: "get_weather", inputSchema: TranslationRequestTests.weather)]
        request.toolChoice = Anthropic.ToolChoice(type: "any")
        request.stopSequences = ["###"]
        request.metadata = ["user_id": "u-7"]
        let translated = Translation.openAIRequest(from: request, model: "gpt-4o-mini").request
        #expect(translated.messages.map(\.role) == ["system", "user", "assistant", "tool", "user"])
        #expect(translated.messages[0].content == .text("Be brief."))
        #expect(translated.messages[2].toolCalls?.first?.function.arguments == #"{"city":"Oslo"}"#)
        #expect(translated.messages[3].toolCallID == "toolu_1")
        #expect(translated.messages[3].content == .text("12 C"))
        #expect(translated.messages[4].content == .text("Thanks!"))
        #expect(translated.maxCompletionTokens == 200)
        #expect(translated.streamOptions?.includeUsage == true, "usage must come back on a translated stream")
        #expect(translated.toolChoice == .required)
        #expect(translated.stop == ["###"])
        #expect(translated.user == "u-7")
    }
}

struct TranslationResponseTests {
    @Test func anAnthropicAnswerReadsAsAnOpenAICompletion() {
        let message = Anthropic.MessageResponse(
            id: "msg_01abc",
            content: [.text("Thirty days.")],
            model: "claude-haiku-4-5",
            stopReason: "max_tokens",
            usage: Anthropic.Usage(
                inputTokens: 20,
                cacheCreationInputTokens: 100,
                cacheReadInputTokens: 1000,
                outputTokens: 7
            )
        )
        let completion = Translation.openAICompletion(
            from: message,
            plan: Translation.Plan(requestedModel: "default"),
            created: 1_795_000_000
        )
        #expect(completion.id == "chatcmpl-01abc")
        #expect(completion.choices[0].message.content == .text("Thirty days."))
        #expect(completion.choices[0].finishReason == "length")
        #expect(completion.usage?.promptTokens == 1120, "OpenAI's prompt tokens include cache reads and writes")
        #expect(completion.usage?.cachedTokens == 1000)
        #expect(completion.usage?.completionTokens == 7)
    }

    @Test func toolUseBecomesToolCallsAndAStructuredToolBecomesContent() {
        let input: JSONValue = ["days": 30]
        let message = Anthropic.MessageResponse(
            id: "msg_1",
            content: [.toolUse(id: "toolu_9", name: "refund", input: input)],
            model: "claude",
            stopReason: "tool_use",
            usage: Anthropic.Usage(inputTokens: 1, outputTokens: 1)
        )
        let asTool = Translation.openAICompletion(
            from: message,
            plan: Translation.Plan(requestedModel: "m"),
            created: 0
        )
        #expect(asTool.choices[0].finishReason == "tool_calls")
        #expect(asTool.choices[0].message.toolCalls?.first?.function.arguments == #"{"days":30}"#)
        #expect(asTool.choices[0].message.content == nil)
        let asContent = Translation.openAICompletion(
            from: message,
            plan: Translation.Plan(structuredOutputTool: "refund", requestedModel: "m"),
            created: 0
        )
        #expect(asContent.choices[0].finishReason == "stop")
        #expect(asContent.choices[0].message.content == .text(#"{"days":30}"#))
        #expect(asContent.choices[0].message.toolCalls == nil)
    }

    @Test func anOpenAIAnswerReadsAsAnAnthropicMessage() {
        let completion = OpenAI.ChatCompletion(
            id: "chatcmpl-xyz",
            created: 0,
            model: "gpt-4o-mini",
            choices: [
                OpenAI.Choice(
                    index: 0,
                    message: OpenAI.ChatMessage(
                        role: "assistant",
                        content: .text("Checking."),
                        toolCalls: [
                            OpenAI.ToolCall(
                                id: "call_2",
                                function: OpenAI.FunctionCall(name: "lookup", arguments: #"{"q":"x"}"#)
                            )
                        ]
                    ),
                    finishReason: "tool_calls"
                )
            ],
            usage: OpenAI.Usage(
                promptTokens: 1500,
                completionTokens: 40,
                promptTokensDetails: OpenAI.PromptTokensDetails(cachedTokens: 1024)
            )
        )
        let message = Translation.anthropicMessage(from: completion, plan: Translation.Plan(requestedModel: "premium"))
        #expect(message.id == "msg_xyz")
        #expect(message.content.map(\.type) == ["text", "tool_use"])
        #expect(message.content[1].input == ["q": "x"])
        #expect(message.stopReason == "tool_use")
        #expect(message.usage.inputTokens == 476, "Anthropic's input tokens exclude cache reads")
        #expect(message.usage.cacheReadInputTokens == 1024)
        #expect(message.usage.outputTokens == 40)
    }
}

struct TranslationStreamTests {
    func anthropicEvents(_ text: String) throws -> [Anthropic.StreamEvent] {
        var parser = ServerSentEventParser()
        return try parser.feed(Array(text.utf8)).map { try Anthropic.StreamEvent(json: JSONValue.parse($0.data)) }
    }

    @Test func anAnthropicStreamBecomesOpenAIChunksWithUsage() throws {
        var translator = AnthropicToOpenAIStream(
            plan: Translation.Plan(requestedModel: "default"),
            includeUsage: true,
            created: 7
        )
        let items = try anthropicEvents(RecordedStreams.anthropicBasic).flatMap { translator.translate($0) }
        let chunks = items.compactMap { item -> OpenAI.ChatCompletionChunk? in
            if case .chunk(let chunk) = item { return chunk }
            return nil
        }
        #expect(items.last == .done)
        #expect(chunks.first?.choices.first?.delta.role == "assistant")
        #expect(chunks.compactMap { $0.choices.first?.delta.content }.joined() == "Hello there")
        #expect(chunks.compactMap { $0.choices.first?.finishReason } == ["stop"])
        #expect(chunks.last?.choices.isEmpty == true)
        #expect(chunks.last?.usage?.value?.completionTokens == 6)
        #expect(chunks.last?.usage?.value?.promptTokens == 11)
        #expect(Set(chunks.map(\.id)).count == 1)
    }

    @Test func streamedToolUseBecomesToolCallFragments() {
        var translator = AnthropicToOpenAIStream(
            plan: Translation.Plan(requestedModel: "m"),
            includeUsage: false,
            created: 0
        )
        let events: [Anthropic.StreamEvent] = [
            .messageStart(
                Anthropic.MessageResponse(
                    id: "msg_1",
                    content: [],
                    model: "claude",
                    stopReason: nil,
                    usage: Anthropic.Usage(inputTokens: 5, outputTokens: 1)
                )
            ),
            .contentBlockStart(index: 0, block: .toolUse(id: "toolu_1", name: "get_weather", input: [:])),
            .contentBlockDelta(index: 0, delta: .inputJSON("")),
            .contentBlockDelta(index: 0, delta: .inputJSON(#"{"city":"#)),
            .contentBlockDelta(index: 0, delta: .inputJSON(#""Oslo"}"#)),
            .contentBlockStop(index: 0),
            .messageDelta(Anthropic.MessageDelta(stopReason: "tool_use"), usage: Anthropic.DeltaUsage(outputTokens: 9)),
            .messageStop,
        ]
        let deltas = events.flatMap { translator.translate($0) }.compactMap { item -> OpenAI.ChunkChoice? in
            if case .chunk(let chunk) = item { return chunk.choices.first }
            return nil
        }
        let calls = deltas.flatMap { $0.delta.toolCalls ?? [] }
        #expect(
            calls.first
                == OpenAI.ToolCallDelta(index: 0, id: "toolu_1", type: "function", name: "get_weather", arguments: "")
        )
        #expect(calls.compactMap(\.arguments).joined() == #"{"city":"Oslo"}"#)
        #expect(deltas.last?.finishReason == "tool_calls")
    }

    @Test func anOpenAIStreamBecomesAnthropicEventsInOrder() throws {
        var parser = ServerSentEventParser()
        var translator = OpenAIToAnthropicStream(plan: Translation.Plan(requestedModel: "premium"))
        var events: [Anthropic.StreamEvent] = []
        for event in try parser.feed(Array(RecordedStreams.openAIChatTail.utf8)) {
            if event.data == "[DONE]" {
                events += translator.finish()
            } else {
                events += translator.translate(try OpenAI.ChatCompletionChunk(json: JSONValue.parse(event.data)))
            }
        }
        #expect(
            events.map(\.name) == [
                "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
                "message_stop",
            ]
        )
        guard case .messageDelta(let delta, let usage) = events[4] else {
            Issue.record("message_delta expected")
            return
        }
        #expect(delta.stopReason == "end_turn")
        #expect(usage.outputTokens == 14)
        #expect(usage.inputTokens == 79)
        #expect(translator.finish().isEmpty, "finishing twice adds nothing")
    }
}
