import Foundation

extension Translation {
    /// An Anthropic answer as the OpenAI answer to the request `plan` came from.
    public static func openAICompletion(from message: Anthropic.MessageResponse, plan: Plan, created: Int)
        -> OpenAI.ChatCompletion
    {
        let structured = plan.structuredOutputTool != nil
        var content = message.content.compactMap(\.text).joined()
        var calls: [OpenAI.ToolCall] = []
        for block in message.content where block.type == "tool_use" {
            let input = (block.input ?? [:]).serialized()
            if structured, block.name == plan.structuredOutputTool {
                content = input
            } else {
                calls.append(
                    OpenAI.ToolCall(
                        id: block.id ?? "",
                        function: OpenAI.FunctionCall(name: block.name ?? "", arguments: input)
                    )
                )
            }
        }
        let reply = OpenAI.ChatMessage(
            role: "assistant",
            content: calls.isEmpty || !content.isEmpty ? .text(content) : nil,
            toolCalls: calls.isEmpty ? nil : calls,
            extra: ["refusal": .null]
        )
        return OpenAI.ChatCompletion(
            id: "chatcmpl-" + message.id.replacingOccurrences(of: "msg_", with: ""),
            created: created,
            model: message.model,
            choices: [
                OpenAI.Choice(
                    index: 0,
                    message: reply,
                    finishReason: openAIFinishReason(message.stopReason, structured: structured)
                )
            ],
            usage: openAIUsage(message.usage)
        )
    }

    /// An OpenAI answer as the Anthropic answer to the request `plan` came from.
    public static func anthropicMessage(from completion: OpenAI.ChatCompletion, plan: Plan) -> Anthropic.MessageResponse
    {
        let choice = completion.choices.first
        var blocks: [Anthropic.ContentBlock] = []
        if let text = choice?.message.content?.text, !text.isEmpty { blocks.append(.text(text)) }
        for call in choice?.message.toolCalls ?? [] {
            blocks.append(.toolUse(id: call.id, name: call.function.name, input: arguments(call.function.arguments)))
        }
        let usage = completion.usage.map(anthropicUsage) ?? Anthropic.Usage(inputTokens: 0, outputTokens: 0)
        return Anthropic.MessageResponse(
            id: "msg_" + completion.id.replacingOccurrences(of: "chatcmpl-", with: ""),
            content: blocks,
            model: completion.model,
            stopReason: anthropicStopReason(choice?.finishReason) ?? "end_turn",
            usage: usage
        )
    }
}

/// Translates an Anthropic event stream into the OpenAI chunk stream of the same answer.
public struct AnthropicToOpenAIStream: Sendable {
    /// One item of an OpenAI stream: a chunk, or the `[DONE]` line.
    public enum Item: Sendable, Equatable {
        case chunk(OpenAI.ChatCompletionChunk)
        case done
    }

    private let plan: Translation.Plan
    private let includeUsage: Bool
    private var id = "chatcmpl-"
    private var model = ""
    private let created: Int
    private var usage = Anthropic.Usage(inputTokens: 0, outputTokens: 0)
    /// Anthropic block index → OpenAI tool-call index, for tool blocks.
    private var toolIndexes: [Int: Int] = [:]
    private var structuredBlocks: Set<Int> = []

    public init(plan: Translation.Plan, includeUsage: Bool, created: Int) {
        self.plan = plan
        self.includeUsage = includeUsage
        self.created = created
    }

    private func chunk(_ delta: OpenAI.ChunkDelta, finish: String? = nil) -> Item {
        .chunk(
            OpenAI.ChatCompletionChunk(
                id: id,
                created: created,
                model: model,
                choices: [OpenAI.ChunkChoice(delta: delta, finishReason: finish)]
            )
        )
    }

    public mutating func translate(_ event: Anthropic.StreamEvent) -> [Item] {
        switch event {
        case .messageStart(let message):
            id = "chatcmpl-" + message.id.replacingOccurrences(of: "msg_", with: "")
            model = message.model
            usage = message.usage
            return [chunk(OpenAI.ChunkDelta(role: "assistant", content: "", refusal: .null))]
        case .contentBlockStart(let index, let block):
            guard block.type == "tool_use" else { return [] }
            if block.name == plan.structuredOutputTool {
                structuredBlocks.insert(index)
                return []
            }
            let toolIndex = toolIndexes.count
            toolIndexes[index] = toolIndex
            return [
                chunk(
                    OpenAI.ChunkDelta(toolCalls: [
                        OpenAI.ToolCallDelta(
                            index: toolIndex,
                            id: block.id,
                            type: "function",
                            name: block.name,
                            arguments: ""
                        )
                    ])
                )
            ]
        case .contentBlockDelta(let index, let delta):
            if let text = delta.text { return [chunk(OpenAI.ChunkDelta(content: text))] }
            guard let partial = delta.partialJSON, !partial.isEmpty else { return [] }
            if structuredBlocks.contains(index) { return [chunk(OpenAI.ChunkDelta(content: partial))] }
            guard let toolIndex = toolIndexes[index] else { return [] }
            return [chunk(OpenAI.ChunkDelta(toolCalls: [OpenAI.ToolCallDelta(index: toolIndex, arguments: partial)]))]
        case .messageDelta(let delta, let deltaUsage):
            usage.outputTokens = deltaUsage.outputTokens
            if let input = deltaUsage.inputTokens { usage.inputTokens = input }
            if let read = deltaUsage.cacheReadInputTokens { usage.cacheReadInputTokens = read }
            if let written = deltaUsage.cacheCreationInputTokens { usage.cacheCreationInputTokens = written }
            let finish =
                Translation.openAIFinishReason(delta.stopReason, structured: plan.structuredOutputTool != nil) ?? "stop"
            return [chunk(OpenAI.ChunkDelta(), finish: finish)]
        case .messageStop:
            var items: [Item] = []
            if includeUsage {
                items.append(
                    .chunk(
                        OpenAI.ChatCompletionChunk(
                            id: id,
                            created: created,
                            model: model,
                            choices: [],
                            usage: .value(Translation.openAIUsage(usage))
                        )
                    )
                )
            }
            items.append(.done)
            return items
        case .contentBlockStop, .ping, .unknown, .error:
            return []
        }
    }

    /// The usage seen so far, as OpenAI reports it.
    public var openAIUsage: OpenAI.Usage { Translation.openAIUsage(usage) }
}

/// Translates an OpenAI chunk stream into the Anthropic event stream of the same answer.
public struct OpenAIToAnthropicStream: Sendable {
    private let plan: Translation.Plan
    private var started = false
    private var openBlock: (index: Int, isTool: Bool)?
    private var nextBlock = 0
    /// OpenAI tool-call index → Anthropic block index.
    private var toolBlocks: [Int: Int] = [:]
    private var stopReason: String?
    private var usage: OpenAI.Usage?
    private var finished = false

    public init(plan: Translation.Plan) {
        self.plan = plan
    }

    public mutating func translate(_ chunk: OpenAI.ChatCompletionChunk) -> [Anthropic.StreamEvent] {
        var events: [Anthropic.StreamEvent] = []
        if !started {
            started = true
            let message = Anthropic.MessageResponse(
                id: "msg_" + chunk.id.replacingOccurrences(of: "chatcmpl-", with: ""),
                content: [],
                model: chunk.model,
                stopReason: nil,
                usage: Anthropic.Usage(inputTokens: 0, outputTokens: 0)
            )
            events.append(.messageStart(message))
        }
        if let value = chunk.usage?.value { usage = value }
        guard let choice = chunk.choices.first else { return events }
        if let text = choice.delta.content, !text.isEmpty {
            if openBlock?.isTool != false {
                closeBlock(&events)
                openBlock = (nextBlock, false)
                events.append(.contentBlockStart(index: nextBlock, block: .text("")))
                nextBlock += 1
            }
            events.append(.contentBlockDelta(index: openBlock!.index, delta: .text(text)))
        }
        for call in choice.delta.toolCalls ?? [] {
            if toolBlocks[call.index] == nil {
                closeBlock(&events)
                toolBlocks[call.index] = nextBlock
                openBlock = (nextBlock, true)
                events.append(
                    .contentBlockStart(
                        index: nextBlock,
                        block: .toolUse(id: call.id ?? "", name: call.name ?? "", input: [:])
                    )
                )
                nextBlock += 1
            }
            if let arguments = call.arguments, !arguments.isEmpty, let block = toolBlocks[call.index] {
                events.append(.contentBlockDelta(index: block, delta: .inputJSON(arguments)))
            }
        }
        if let finish = choice.finishReason { stopReason = Translation.anthropicStopReason(finish) }
        return events
    }

    /// The closing events, once the OpenAI stream has ended (`[DONE]`).
    public mutating func finish() -> [Anthropic.StreamEvent] {
        guard started, !finished else { return [] }
        finished = true
        var events: [Anthropic.StreamEvent] = []
        closeBlock(&events)
        let anthropicUsage = usage.map(Translation.anthropicUsage) ?? Anthropic.Usage(inputTokens: 0, outputTokens: 0)
        events.append(
            .messageDelta(
                Anthropic.MessageDelta(stopReason: stopReason ?? "end_turn"),
                usage: Anthropic.DeltaUsage(
                    inputTokens: anthropicUsage.inputTokens,
                    cacheCreationInputTokens: anthropicUsage.cacheCreationInputTokens,
                    cacheReadInputTokens: anthropicUsage.cacheReadInputTokens,
                    outputTokens: anthropicUsage.outputTokens
                )
            )
        )
        events.append(.messageStop)
        return events
    }

    private mutating func closeBlock(_ events: inout [Anthropic.StreamEvent]) {
        if let block = openBlock {
            events.append(.contentBlockStop(index: block.index))
            openBlock = nil
        }
    }
}
