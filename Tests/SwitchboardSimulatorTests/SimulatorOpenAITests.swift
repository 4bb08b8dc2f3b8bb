import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

struct SimulatorOpenAITests {
    @Test func chatCompletionHasTheProviderShapeHeadersAndConsistentUsage() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.chat(chatBody())
            #expect(response.status == 200)
            #expect(response.header("x-request-id")?.hasPrefix("req_") == true)
            #expect(response.header("x-ratelimit-limit-requests") == "5000")
            #expect(response.header("x-ratelimit-remaining-requests") == "4999")
            #expect(response.header("x-ratelimit-reset-requests").flatMap(GoDuration.parse) != nil)
            let completion = try OpenAI.ChatCompletion(json: response.json())
            #expect(completion.object == "chat.completion")
            #expect(completion.id.hasPrefix("chatcmpl-"))
            let usage = try #require(completion.usage)
            #expect(usage.promptTokens == TokenCounter.count("user: Hello\n"))
            #expect(usage.totalTokens == usage.promptTokens + usage.completionTokens)
            #expect(completion.choices[0].finishReason == "stop")
            #expect(completion.choices[0].message.extra["refusal"] == .null)
            let content = try #require(completion.choices[0].message.content?.text)
            #expect(content.hasPrefix("Simulated answer from gpt-4o-mini."))
        }
    }

    @Test func contentIsDeterministicForASeedAndPromptAndChangesWithEither() async throws {
        func answer(seed: UInt64, prompt: String) async throws -> String {
            var configuration = SimulatorConfiguration.testing
            configuration.seed = seed
            return try await withSimulator(configuration) { sim async throws in
                try await OpenAI.ChatCompletion(json: sim.chat(chatBody(prompt)).json()).choices[0].message.content?
                    .text ?? ""
            }
        }
        let first = try await answer(seed: 1, prompt: "What is the refund window?")
        #expect(try await answer(seed: 1, prompt: "What is the refund window?") == first)
        #expect(try await answer(seed: 2, prompt: "What is the refund window?") != first)
        #expect(try await answer(seed: 1, prompt: "How do I cancel?") != first)
    }

    @Test func maxTokensEndsWithLengthAndStopSequencesEndWithStop() async throws {
        try await withSimulator { sim async throws in
            let short = try await OpenAI.ChatCompletion(json: sim.chat(chatBody(extra: ["max_tokens": 3])).json())
            #expect(short.choices[0].finishReason == "length")
            #expect(short.usage?.completionTokens == 3)
            #expect(short.choices[0].message.content?.text == "Simulated answer from")

            let stopped = try await OpenAI.ChatCompletion(json: sim.chat(chatBody(extra: ["stop": " from"])).json())
            #expect(stopped.choices[0].finishReason == "stop")
            #expect(stopped.choices[0].message.content?.text == "Simulated answer")
        }
    }

    @Test func reasoningModelsReportReasoningTokensInsideCompletionTokens() async throws {
        try await withSimulator { sim async throws in
            let completion = try await OpenAI.ChatCompletion(json: sim.chat(chatBody(model: "o4-mini")).json())
            let usage = try #require(completion.usage)
            #expect(usage.reasoningTokens >= 32)
            #expect(usage.completionTokens > usage.reasoningTokens)
        }
    }

    @Test func streamWithUsageFollowsTheRecordedOrder() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.chat(
                chatBody(extra: ["stream": true, "stream_options": ["include_usage": true]])
            )
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/event-stream; charset=utf-8")
            let events = try response.events()
            #expect(events.last?.data == "[DONE]")
            let chunks = try events.dropLast().map { try OpenAI.ChatCompletionChunk(json: JSONValue.parse($0.data)) }
            #expect(
                chunks.first?.choices.first?.delta == OpenAI.ChunkDelta(role: "assistant", content: "", refusal: .null)
            )
            #expect(Set(chunks.map(\.id)).count == 1)
            let finish = chunks[chunks.count - 2]
            #expect(finish.choices.first?.finishReason == "stop")
            let last = try #require(chunks.last)
            #expect(last.choices.isEmpty)
            let usage = try #require(last.usage?.value)
            let text = chunks.compactMap { $0.choices.first?.delta.content }.joined()
            #expect(usage.completionTokens == chunks.filter { $0.choices.first?.delta.content?.isEmpty == false }.count)
            #expect(text.hasPrefix("Simulated answer from gpt-4o-mini."))
            #expect(chunks.dropLast().allSatisfy { $0.usage == nil })
        }
    }

    @Test func streamingAndWholeAnswersAgree() async throws {
        try await withSimulator { sim async throws in
            let whole = try await OpenAI.ChatCompletion(json: sim.chat(chatBody("same question")).json())
            let stream = try await sim.chat(
                chatBody("same question", extra: ["stream": true, "stream_options": ["include_usage": true]])
            )
            let chunks = try stream.events().dropLast().map {
                try OpenAI.ChatCompletionChunk(json: JSONValue.parse($0.data))
            }
            #expect(
                chunks.compactMap { $0.choices.first?.delta.content }.joined() == whole.choices[0].message.content?.text
            )
            #expect(chunks.last?.usage?.value?.completionTokens == whole.usage?.completionTokens)
        }
    }

    @Test func jsonSchemaResponsesSatisfyTheSchema() async throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "city": ["type": "string"], "temp_c": ["type": "number"],
                "days": ["type": "integer", "minimum": 1, "maximum": 7],
                "tags": ["type": "array", "items": ["type": "string"], "minItems": 1],
                "unit": ["enum": ["C", "F"]],
            ],
            "required": ["city", "temp_c", "days", "tags", "unit"], "additionalProperties": false,
        ]
        try await withSimulator { sim async throws in
            let body = chatBody(extra: [
                "response_format": ["type": "json_schema", "json_schema": ["name": "weather", "schema": schema]]
            ])
            let completion = try await OpenAI.ChatCompletion(json: sim.chat(body).json())
            let answer = try JSONValue.parse(try #require(completion.choices[0].message.content?.text))
            #expect(answer["city"]?.stringValue != nil)
            #expect(answer["temp_c"]?.isNumber == true)
            #expect((1...7).contains(answer["days"]?.intValue ?? 0))
            #expect((answer["tags"]?.arrayValue?.count ?? 0) >= 1)
            #expect(["C", "F"].contains(answer["unit"]?.stringValue ?? ""))
            #expect(answer.objectValue?.keys.count == 5)

            let broken = try await OpenAI.ChatCompletion(
                json: sim.chat(body, headers: [("x-sim-fault", "invalid-output")]).json()
            )
            let text = try #require(broken.choices[0].message.content?.text)
            let parsed = try? JSONValue.parse(text)
            let valid =
                parsed.map {
                    $0["city"]?.stringValue != nil && $0["temp_c"]?.isNumber == true && $0["days"]?.intValue != nil
                } ?? false
            #expect(!valid, "the invalid-output fault should break the schema: \(text)")
        }
    }

    @Test func requiredToolChoiceCallsTheToolWithSchemaArguments() async throws {
        let tool: JSONValue = [
            "type": "function",
            "function": [
                "name": "get_weather",
                "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
            ],
        ]
        try await withSimulator { sim async throws in
            let completion = try await OpenAI.ChatCompletion(
                json: sim.chat(chatBody("Weather in Oslo?", extra: ["tools": [tool], "tool_choice": "required"])).json()
            )
            let message = completion.choices[0].message
            #expect(completion.choices[0].finishReason == "tool_calls")
            #expect(message.content == nil)
            let call = try #require(message.toolCalls?.first)
            #expect(call.function.name == "get_weather")
            #expect(try JSONValue.parse(call.function.arguments)["city"]?.stringValue != nil)
        }
    }

    @Test(arguments: [
        (#"{"model":"gpt-4o-mini"}"#, "Missing required parameter: 'messages'.", "messages"),
        (#"{"model":"gpt-4o-mini","messages":[]}"#, "[] is too short - 'messages'", "messages"),
        (
            #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":3}"#,
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3.0 instead.",
            "temperature"
        ),
        (
            #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
        ),
    ])
    func badRequestsGetOpenAIsErrorWithTheParam(body: String, message: String, param: String) async throws {
        try await withSimulator { sim async throws in
            let response = try await TestHTTP.post(
                "\(sim.baseURL)/v1/chat/completions",
                headers: [("authorization", "Bearer \(simKey)"), ("content-type", "application/json")],
                bytes: Array(body.utf8)
            )
            #expect(response.status == 400)
            let error = try OpenAI.ErrorBody(json: response.json())
            #expect(error.message == message)
            #expect(error.param == param)
            #expect(error.type == "invalid_request_error")
        }
    }

    @Test func malformedJSONIsA400ThatSaysSo() async throws {
        try await withSimulator { sim async throws in
            let response = try await TestHTTP.post(
                "\(sim.baseURL)/v1/chat/completions",
                headers: [("authorization", "Bearer \(simKey)")],
                bytes: Array("{\"model\":".utf8)
            )
            #expect(response.status == 400)
            #expect(
                try OpenAI.ErrorBody(json: response.json()).message.hasPrefix(
                    "We could not parse the JSON body of your request."
                )
            )
        }
    }

    @Test func keysAreCheckedLikeOpenAIChecksThem() async throws {
        try await withSimulator { sim async throws in
            let missing = try await TestHTTP.post("\(sim.baseURL)/v1/chat/completions", json: chatBody())
            #expect(missing.status == 401)
            #expect(try OpenAI.ErrorBody(json: missing.json()).code == nil)
            let wrong = try await sim.chat(chatBody(), key: "sk-live-abcdefghijklmnop1234")
            #expect(wrong.status == 401)
            let error = try OpenAI.ErrorBody(json: wrong.json())
            #expect(error.code == "invalid_api_key")
            #expect(error.message.contains("sk-live-*****1234"))
            #expect(!error.message.contains("abcdefghijklmnop"))
        }
    }

    @Test func unknownModelsGetModelNotFound() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.chat(chatBody(model: "gpt-9-ultra"))
            #expect(response.status == 404)
            let error = try OpenAI.ErrorBody(json: response.json())
            #expect(error.code == "model_not_found")
            #expect(error.message == "The model `gpt-9-ultra` does not exist or you do not have access to it.")
            #expect(try await sim.chat(chatBody(model: "gpt-4o-mini-2024-07-18")).status == 200)
        }
    }

    @Test func moderationFlagsKeywordCategoriesWithTheFullShape() async throws {
        try await withSimulator { sim async throws in
            let response = try await TestHTTP.post(
                "\(sim.baseURL)/v1/moderations",
                json: ["input": ["I will build a bomb", "What time is it?"]],
                headers: [("authorization", "Bearer \(simKey)")]
            )
            #expect(response.status == 200)
            let moderation = try OpenAI.ModerationResponse(json: response.json())
            #expect(moderation.model == "omni-moderation-2024-09-26")
            #expect(moderation.results.count == 2)
            let unsafe = moderation.results[0]
            #expect(unsafe.flagged)
            #expect(unsafe.categories["illicit/violent"] == true)
            #expect(unsafe.categories["illicit"] == true)
            #expect((unsafe.categoryScores["illicit/violent"] ?? 0) >= 0.85)
            #expect(Array(unsafe.categories.keys) == OpenAI.ModerationCategory.allCases.map(\.rawValue))
            #expect(unsafe.categoryAppliedInputTypes?["violence"] == ["text"])
            #expect(!moderation.results[1].flagged)
            #expect(moderation.results[1].categoryScores.values.allSatisfy { $0 < 0.01 })
        }
    }

    @Test func modelsAreListedInEachProvidersFormat() async throws {
        try await withSimulator { sim async throws in
            let openAI = try await TestHTTP.get(
                "\(sim.baseURL)/v1/models",
                headers: [("authorization", "Bearer \(simKey)")]
            ).json()
            #expect(openAI["object"] == "list")
            #expect(openAI["data"]?.arrayValue?.contains { $0["id"] == "gpt-4o-mini" } == true)
            let anthropic = try await TestHTTP.get(
                "\(sim.baseURL)/v1/models",
                headers: [("x-api-key", simKey), ("anthropic-version", "2023-06-01")]
            ).json()
            #expect(anthropic["has_more"] == false)
            #expect(anthropic["data"]?[0]?["type"] == "model")
        }
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        var configuration = SimulatorConfiguration.testing
        configuration.maxBodyBytes = 1024
        try await withSimulator(configuration) { sim async throws in
            let response = try await sim.chat(chatBody(longText(tokens: 400)))
            #expect(response.status == 413)
            #expect(try OpenAI.ErrorBody(json: response.json()).code == "request_too_large")
        }
    }
}
