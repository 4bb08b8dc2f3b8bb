import Testing

@testable import SwitchboardWire

/// Round trips of payloads recorded from (or documented for) the real APIs: decoding keeps every
/// member, encoding gives back the same JSON.
struct WireModelTests {
    static let openAIRequest = #"""
        {"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hi"}],
         "temperature":0.2,"max_completion_tokens":256,"n":1,"seed":42,"user":"user-1234","stream":true,
         "stream_options":{"include_usage":true},
         "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,
           "schema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}}}}
        """#

    static let openAIResponse = #"""
        {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-5.4",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},
                     "logprobs":null,"finish_reason":"stop"}],
         "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,
                  "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
                  "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
         "service_tier":"default"}
        """#

    static let anthropicRequest = #"""
        {"model":"claude-sonnet-4-5","max_tokens":1024,
         "system":[{"type":"text","text":"<long stable instructions…>","cache_control":{"type":"ephemeral","ttl":"1h"}}],
         "messages":[{"role":"user","content":"Hello, Claude"}],"stream":false}
        """#

    static let anthropicResponse = #"""
        {"content":[{"text":"Hi! My name is Claude.","type":"text"}],"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF",
         "model":"claude-sonnet-4-20250514","role":"assistant","stop_reason":"end_turn","stop_sequence":null,"type":"message",
         "usage":{"input_tokens":2095,"output_tokens":503}}
        """#

    static let anthropicUsageBothTTLs = #"""
        {"input_tokens":50,"cache_read_input_tokens":100000,"cache_creation_input_tokens":556,"output_tokens":300,
         "cache_creation":{"ephemeral_5m_input_tokens":456,"ephemeral_1h_input_tokens":100}}
        """#

    @Test func openAIRequestRoundTripsWithEveryField() throws {
        let original = try JSONValue.parse(Self.openAIRequest)
        let request = try OpenAI.ChatCompletionRequest(json: original)
        #expect(request.model == "gpt-4o-mini")
        #expect(request.messages.map(\.role) == ["system", "user"])
        #expect(request.requestedMaxOutputTokens == 256)
        #expect(request.streamOptions?.includeUsage == true)
        #expect(request.responseFormat?.jsonSchema?.name == "answer")
        #expect(request.seed == 42)
        #expect(request.json == original)
    }

    @Test func unknownFieldsPassThroughUntouched() throws {
        let text = #"""
            {"model":"gpt-4o-mini","messages":[{"role":"user","content":"x","future_message_field":[1,2]}],
             "reasoning_effort":"low","prompt_cache_options":{"mode":"explicit","ttl":"30m"}}
            """#
        let original = try JSONValue.parse(text)
        let request = try OpenAI.ChatCompletionRequest(json: original)
        #expect(request.extra["prompt_cache_options"]?["ttl"] == "30m")
        #expect(request.messages[0].extra["future_message_field"] == [1, 2])
        #expect(request.json == original)
    }

    @Test func openAIResponseRoundTripsAndExposesUsage() throws {
        let original = try JSONValue.parse(Self.openAIResponse)
        let completion = try OpenAI.ChatCompletion(json: original)
        #expect(completion.choices[0].message.content?.text == "Hello! How can I assist you today?")
        #expect(completion.usage?.totalTokens == 29)
        #expect(completion.usage?.cachedTokens == 0)
        #expect(completion.json == original)
    }

    @Test func usageDetailsAreOptionalAsInOlderResponses() throws {
        let usage = try OpenAI.Usage(
            json: JSONValue.parse(
                #"{"prompt_tokens":79,"completion_tokens":14,"total_tokens":93,"completion_tokens_details":{"reasoning_tokens":0}}"#
            )
        )
        #expect(usage.promptTokensDetails == nil)
        #expect(usage.cachedTokens == 0)
        #expect(usage.reasoningTokens == 0)
    }

    @Test func anthropicRequestKeepsSystemBlocksAndCacheControl() throws {
        let original = try JSONValue.parse(Self.anthropicRequest)
        let request = try Anthropic.MessagesRequest(json: original)
        guard case .blocks(let blocks) = request.system else {
            Issue.record("system should be blocks")
            return
        }
        #expect(blocks[0].cacheControl?.ttl == "1h")
        #expect(request.messages[0].content.text == "Hello, Claude")
        #expect(request.json == original)
    }

    @Test func anthropicResponseAndUsageRoundTrip() throws {
        let original = try JSONValue.parse(Self.anthropicResponse)
        let message = try Anthropic.MessageResponse(json: original)
        #expect(message.text == "Hi! My name is Claude.")
        #expect(message.usage.inputTokens == 2095)
        #expect(message.json == original)

        let usageJSON = try JSONValue.parse(Self.anthropicUsageBothTTLs)
        let usage = try Anthropic.Usage(json: usageJSON)
        #expect(
            usage.cacheCreation == Anthropic.CacheCreation(ephemeral5mInputTokens: 456, ephemeral1hInputTokens: 100)
        )
        #expect(usage.json == usageJSON)
    }

    @Test(arguments: [
        #"{"error":{"message":"Incorrect API key provided: sk-VKMIs***wjh3.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        #"{"error":{"message":"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
        #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        #"{"error":{"code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later.","param":null,"type":"service_unavailable_error"}}"#,
    ])
    func openAIErrorBodiesRoundTrip(text: String) throws {
        let original = try JSONValue.parse(text)
        let body = try OpenAI.ErrorBody(json: original)
        #expect(body.json == original)
    }

    @Test(arguments: [
        #"{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}"#,
        #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CZquRQNtQiXTvkLNPnid4"}"#,
    ])
    func anthropicErrorBodiesRoundTrip(text: String) throws {
        let original = try JSONValue.parse(text)
        let body = try Anthropic.ErrorBody(json: original)
        #expect(body.error.type == "overloaded_error")
        #expect(body.json == original)
    }

    @Test func moderationResponseRoundTripsWithAllThirteenCategories() throws {
        let text = #"""
            {"id":"modr-0d9740456c391e43c445bf0f010940c7","model":"omni-moderation-latest","results":[{"flagged":true,
             "categories":{"harassment":true,"harassment/threatening":true,"sexual":false,"hate":false,"hate/threatening":false,"illicit":false,"illicit/violent":false,"self-harm/intent":false,"self-harm/instructions":false,"self-harm":false,"sexual/minors":false,"violence":true,"violence/graphic":true},
             "category_scores":{"harassment":0.8189693396524255,"harassment/threatening":0.804985420696006,"sexual":1.573112165348997e-6,"hate":0.007562942636942845,"hate/threatening":0.004208854591835476,"illicit":0.030535955153511665,"illicit/violent":0.008925306722380033,"self-harm/intent":0.00023023930975076432,"self-harm/instructions":0.0002293869201073356,"self-harm":0.012598046106750154,"sexual/minors":2.212566909570261e-8,"violence":0.9999992735124786,"violence/graphic":0.843064871157054},
             "category_applied_input_types":{"harassment":["text"],"harassment/threatening":["text"],"sexual":["text","image"],"hate":["text"],"hate/threatening":["text"],"illicit":["text"],"illicit/violent":["text"],"self-harm/intent":["text","image"],"self-harm/instructions":["text","image"],"self-harm":["text","image"],"sexual/minors":["text"],"violence":["text","image"],"violence/graphic":["text","image"]}}]}
            """#
        let original = try JSONValue.parse(text)
        let response = try OpenAI.ModerationResponse(json: original)
        #expect(Set(response.results[0].categories.keys) == Set(OpenAI.ModerationCategory.allCases.map(\.rawValue)))
        #expect(response.results[0].categoryScores["violence"] == 0.9999992735124786)
        #expect(response.json == original)
    }

    @Test(arguments: [
        (#"{"messages":[]}"#, "model: is required"),
        (
            #"{"model":"m","messages":[{"role":"user","content":5}]}"#,
            "messages[0].content: expected a string or an array of content parts, got integer"
        ),
        (#"{"model":"m","messages":[{"content":"x"}]}"#, "messages[0].role: is required"),
        (#"{"model":"m","messages":{}}"#, "messages: expected an array, got object"),
        (#"{"model":"m","messages":[],"stop":7}"#, "stop: expected a string or an array of strings, got integer"),
        (
            #"{"model":"m","messages":[],"tool_choice":"sometimes"}"#,
            "tool_choice: must be 'none', 'auto', 'required' or an object, got 'sometimes'"
        ),
        (
            #"{"model":"m","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"bad name"}}}"#,
            "response_format.json_schema.name: must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'"
        ),
        (#"[1]"#, "expected an object, got array"),
    ])
    func decodingErrorsNameTheFieldAndTheProblem(text: String, message: String) throws {
        #expect(throws: Never.self) { try JSONValue.parse(text) }
        do {
            _ = try OpenAI.ChatCompletionRequest(parsing: Array(text.utf8))
            Issue.record("decoding should have failed")
        } catch let error as WireDecodingError {
            #expect(error.description == message)
        }
    }

    @Test func bodiesThatAreNotJSONReportLineAndColumn() {
        do {
            _ = try Anthropic.MessagesRequest(parsing: Array("{\"model\": \"x\",\n \"max_tokens\": }".utf8))
            Issue.record("decoding should have failed")
        } catch let error as WireDecodingError {
            #expect(
                error.description
                    == "the body is not valid JSON: unexpected character '}'; expected a JSON value at line 2, column 16"
            )
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func stopAcceptsAStringOrAList() throws {
        let single = try OpenAI.ChatCompletionRequest(
            json: JSONValue.parse(#"{"model":"m","messages":[],"stop":"END"}"#)
        )
        #expect(single.stop == ["END"])
        let list = try OpenAI.ChatCompletionRequest(
            json: JSONValue.parse(#"{"model":"m","messages":[],"stop":["a","b"]}"#)
        )
        #expect(list.stop == ["a", "b"])
    }

    @Test func toolChoiceFormsDecode() throws {
        func choice(_ text: String) throws -> OpenAI.ToolChoice { try OpenAI.ToolChoice(json: JSONValue.parse(text)) }
        #expect(try choice(#""none""#) == .noTools)
        #expect(try choice(#""required""#) == .required)
        #expect(try choice(#"{"type":"function","function":{"name":"get_weather"}}"#) == .function("get_weather"))
        #expect(
            try choice(#"{"type":"allowed_tools","mode":"auto"}"#) == .other(["type": "allowed_tools", "mode": "auto"])
        )
    }

    @Test func assistantToolCallMessagesWriteAnExplicitNullContent() {
        let message = OpenAI.ChatMessage(
            role: "assistant",
            content: nil,
            toolCalls: [OpenAI.ToolCall(id: "call_1", function: OpenAI.FunctionCall(name: "f", arguments: "{}"))]
        )
        #expect(
            message.serialized()
                == #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}"#
        )
    }
}
