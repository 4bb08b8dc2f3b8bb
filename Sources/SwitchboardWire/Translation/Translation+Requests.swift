import Foundation

extension Translation {
    /// An OpenAI Chat Completions request as an Anthropic Messages request for `model`.
    /// - Throws: ``Unsupported`` for `n` > 1 (Anthropic answers once).
    public static func anthropicRequest(
        from request: OpenAI.ChatCompletionRequest,
        model: String
    ) throws(Unsupported) -> (request: Anthropic.MessagesRequest, plan: Plan) {
        if let n = request.n, n > 1 {
            throw Unsupported(
                field: "n",
                reason: "Anthropic models answer once; ask for n=1 or route to an OpenAI model"
            )
        }
        var system: [String] = []
        var messages: [Anthropic.Message] = []
        func append(_ role: String, _ blocks: [Anthropic.ContentBlock]) {
            guard !blocks.isEmpty else { return }
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].content = .blocks(last.content.blocks + blocks)
            } else {
                messages.append(Anthropic.Message(role: role, content: .blocks(blocks)))
            }
        }
        for message in request.messages {
            switch message.role {
            case "system", "developer":
                if let text = message.content?.text, !text.isEmpty { system.append(text) }
            case "assistant":
                var blocks: [Anthropic.ContentBlock] = []
                if let text = message.content?.text, !text.isEmpty { blocks.append(.text(text)) }
                for call in message.toolCalls ?? [] {
                    blocks.append(
                        .toolUse(id: call.id, name: call.function.name, input: arguments(call.function.arguments))
                    )
                }
                append("assistant", blocks)
            case "tool", "function":
                let id = message.toolCallID ?? message.name ?? ""
                append("user", [.toolResult(toolUseID: id, content: .string(message.content?.text ?? ""))])
            default:
                append("user", anthropicBlocks(message.content))
            }
        }
        var translated = Anthropic.MessagesRequest(
            model: model,
            maxTokens: request.requestedMaxOutputTokens ?? defaultMaxTokens,
            messages: messages,
            system: system.isEmpty ? nil : .text(system.joined(separator: "\n\n")),
            temperature: request.temperature.map { min($0, 1) },
            stream: request.stream
        )
        translated.topP = request.topP
        translated.stopSequences = request.stop
        if let user = request.safetyIdentifier ?? request.user { translated.metadata = ["user_id": .string(user)] }
        var tools: [Anthropic.Tool] = (request.tools ?? []).compactMap { tool in
            guard let function = tool.function else { return nil }
            return Anthropic.Tool(
                name: function.name,
                description: function.description,
                inputSchema: function.parameters ?? ["type": "object"]
            )
        }
        switch request.toolChoice {
        case .noTools: translated.toolChoice = Anthropic.ToolChoice(type: "none")
        case .auto: translated.toolChoice = Anthropic.ToolChoice(type: "auto")
        case .required: translated.toolChoice = Anthropic.ToolChoice(type: "any")
        case .function(let name): translated.toolChoice = .tool(name)
        case .other, nil: break
        }
        if request.parallelToolCalls == false, translated.toolChoice != nil {
            translated.toolChoice?.disableParallelToolUse = true
        }
        var plan = Plan(requestedModel: request.model)
        if let format = request.responseFormat, format.type == "json_schema" || format.type == "json_object" {
            let name = format.jsonSchema?.name ?? "json_response"
            let schema = format.jsonSchema?.schema ?? ["type": "object"]
            tools.append(
                Anthropic.Tool(
                    name: name,
                    description: "Respond with the answer as this tool's input.",
                    inputSchema: schema
                )
            )
            translated.toolChoice = .tool(name)
            plan.structuredOutputTool = name
        }
        translated.tools = tools.isEmpty ? nil : tools
        return (translated, plan)
    }

    static func anthropicBlocks(_ content: OpenAI.ChatContent?) -> [Anthropic.ContentBlock] {
        switch content {
        case .text(let text): text.isEmpty ? [] : [.text(text)]
        case .parts(let parts):
            parts.compactMap { part in
                switch part.type {
                case "text": part.text.map { .text($0) }
                case "image_url": anthropicImage(part)
                default: nil
                }
            }
        case nil: []
        }
    }

    /// An Anthropic Messages request as an OpenAI Chat Completions request for `model`.
    public static func openAIRequest(from request: Anthropic.MessagesRequest, model: String) -> (
        request: OpenAI.ChatCompletionRequest, plan: Plan
    ) {
        var messages: [OpenAI.ChatMessage] = []
        if let system = request.system?.text, !system.isEmpty { messages.append(.system(system)) }
        for message in request.messages {
            let blocks = message.content.blocks
            if message.role == "assistant" {
                let text = blocks.compactMap(\.text).joined()
                let calls = blocks.filter { $0.type == "tool_use" }.map { block in
                    OpenAI.ToolCall(
                        id: block.id ?? "",
                        function: OpenAI.FunctionCall(
                            name: block.name ?? "",
                            arguments: (block.input ?? [:]).serialized()
                        )
                    )
                }
                messages.append(
                    OpenAI.ChatMessage(
                        role: "assistant",
                        content: text.isEmpty && !calls.isEmpty ? nil : .text(text),
                        toolCalls: calls.isEmpty ? nil : calls
                    )
                )
                continue
            }
            for block in blocks where block.type == "tool_result" {
                var result = OpenAI.ChatMessage(role: "tool", content: .text(toolResultText(block.content)))
                result.toolCallID = block.toolUseID
                messages.append(result)
            }
            let parts: [OpenAI.ContentPart] = blocks.compactMap { block in
                switch block.type {
                case "text": block.text.map { OpenAI.ContentPart(type: "text", text: $0) }
                case "image": openAIImage(block)
                default: nil
                }
            }
            if parts.isEmpty { continue }
            let content: OpenAI.ChatContent =
                parts.allSatisfy({ $0.type == "text" })
                ? .text(parts.compactMap(\.text).joined(separator: "\n")) : .parts(parts)
            messages.append(OpenAI.ChatMessage(role: "user", content: content))
        }
        var translated = OpenAI.ChatCompletionRequest(
            model: model,
            messages: messages,
            temperature: request.temperature,
            maxCompletionTokens: request.maxTokens,
            stream: request.stream
        )
        translated.topP = request.topP
        translated.stop = request.stopSequences
        translated.user = request.metadataUserID
        if request.isStreaming { translated.streamOptions = OpenAI.StreamOptions(includeUsage: true) }
        let tools: [OpenAI.Tool] = (request.tools ?? []).filter { $0.type == nil || $0.type == "custom" }.map { tool in
            OpenAI.Tool(
                function: OpenAI.FunctionDefinition(
                    name: tool.name,
                    description: tool.description,
                    parameters: tool.inputSchema
                )
            )
        }
        translated.tools = tools.isEmpty ? nil : tools
        switch request.toolChoice?.type {
        case "none": translated.toolChoice = .noTools
        case "auto": translated.toolChoice = .auto
        case "any": translated.toolChoice = .required
        case "tool": translated.toolChoice = request.toolChoice?.name.map { .function($0) }
        default: break
        }
        if request.toolChoice?.disableParallelToolUse == true, translated.tools != nil {
            translated.parallelToolCalls = false
        }
        return (translated, Plan(requestedModel: request.model))
    }
}
