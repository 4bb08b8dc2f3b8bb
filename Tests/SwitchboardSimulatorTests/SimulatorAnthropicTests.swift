import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

struct SimulatorAnthropicTests {
    @Test func messageHasTheProviderShapeAndHeaderFamily() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.messages(messagesBody())
            #expect(response.status == 200)
            #expect(response.header("request-id")?.hasPrefix("req_011C") == true)
            #expect(response.header("anthropic-ratelimit-requests-limit") == "4000")
            #expect(response.header("anthropic-ratelimit-tokens-limit") == "2400000")
            #expect(response.header("anthropic-ratelimit-input-tokens-reset").flatMap(RFC3339.parse) != nil)
            let message = try Anthropic.MessageResponse(json: response.json())
            #expect(message.id.hasPrefix("msg_01"))
            #expect(message.stopReason == "end_turn")
            #expect(message.usage.inputTokens == TokenCounter.count("user: Hello\n"))
            #expect(message.usage.outputTokens > 5)
            #expect(message.text.hasPrefix("Simulated answer from claude-haiku-4-5."))
        }
    }

    @Test func bearerKeysAreAcceptedAsTheNewerSDKSendsThem() async throws {
        try await withSimulator { sim async throws in
            let response = try await TestHTTP.post(
                "\(sim.baseURL)/v1/messages",
                json: messagesBody(),
                headers: [("authorization", "Bearer \(simKey)"), ("anthropic-version", "2026-10-21")]
            )
            #expect(response.status == 200)
        }
    }

    @Test func streamEventsComeInTheDocumentedOrderWithCumulativeUsage() async throws {
        try await withSimulator { sim async throws in
            let response = try await sim.messages(messagesBody(extra: ["stream": true]))
            let events = try response.events()
            let names = events.map { $0.event ?? "" }
            var collapsed: [String] = []
            for name in names where collapsed.last != name || name != "content_block_delta" { collapsed.append(name) }
            #expect(
                collapsed == [
                    "message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop",
                    "message_delta", "message_stop",
                ]
            )
            let decoded = try events.map { try Anthropic.StreamEvent(json: JSONValue.parse($0.data)) }
            let text = decoded.compactMap { event -> String? in
                if case .contentBlockDelta(_, let delta) = event { return delta.text }
                return nil
            }.joined()
            guard case .messageDelta(let delta, let usage) = decoded[decoded.count - 2] else {
                Issue.record("message_delta expected second to last")
                return
            }
            #expect(delta.stopReason == "end_turn")
            #expect(usage.outputTokens == names.filter { $0 == "content_block_delta" }.count)
            let whole = try await Anthropic.MessageResponse(json: sim.messages(messagesBody()).json())
            #expect(text == whole.text)
        }
    }

    @Test func maxTokensAndStopSequencesSetTheStopReason() async throws {
        try await withSimulator { sim async throws in
            let short = try await Anthropic.MessageResponse(json: sim.messages(messagesBody(maxTokens: 2)).json())
            #expect(short.stopReason == "max_tokens")
            #expect(short.usage.outputTokens == 2)
            let stopped = try await Anthropic.MessageResponse(
                json: sim.messages(messagesBody(extra: ["stop_sequences": [" answer"]])).json()
            )
            #expect(stopped.stopReason == "stop_sequence")
            #expect(stopped.stopSequence == " answer")
            #expect(stopped.text == "Simulated")
        }
    }

    @Test func aForcedToolReturnsInputThatFitsItsSchema() async throws {
        let tool: JSONValue = [
            "name": "record_answer",
            "input_schema": [
                "type": "object", "properties": ["answer": ["type": "string"], "confidence": ["type": "number"]],
                "required": ["answer", "confidence"],
            ],
        ]
        try await withSimulator { sim async throws in
            let body = messagesBody(extra: ["tools": [tool], "tool_choice": ["type": "tool", "name": "record_answer"]])
            let message = try await Anthropic.MessageResponse(json: sim.messages(body).json())
            #expect(message.stopReason == "tool_use")
            let block = try #require(message.content.first)
            #expect(block.type == "tool_use")
            #expect(block.id?.hasPrefix("toolu_01") == true)
            #expect(block.input?["answer"]?.stringValue != nil)
            #expect(block.input?["confidence"]?.isNumber == true)

            let streamed = try await sim.messages(
                messagesBody(extra: ["tools": [tool], "tool_choice": ["type": "any"], "stream": true])
            )
            let partials = try streamed.events().compactMap { event -> String? in
                guard
                    case .contentBlockDelta(_, let delta) = try Anthropic.StreamEvent(json: JSONValue.parse(event.data))
                else { return nil }
                return delta.partialJSON
            }
            #expect(partials.first == "")
            #expect(try JSONValue.parse(partials.joined())["answer"]?.stringValue != nil)
        }
    }

    @Test(arguments: [
        (#"{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"x"}]}"#, "max_tokens: Field required"),
        (
            #"{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"x"}],"temperature":1.5}"#,
            "temperature: Input should be less than or equal to 1"
        ),
        (#"{"model":"claude-haiku-4-5","max_tokens":10,"messages":[]}"#, "messages: at least one message is required"),
        (
            #"{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"x"}],"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","ttl":"2h"}}]}"#,
            "system[0].cache_control.ttl: must be '5m' or '1h', got '2h'"
        ),
    ])
    func badRequestsGetAnthropicsErrorShape(body: String, message: String) async throws {
        try await withSimulator { sim async throws in
            let response = try await TestHTTP.post(
                "\(sim.baseURL)/v1/messages",
                headers: [("x-api-key", simKey), ("content-type", "application/json")],
                bytes: Array(body.utf8)
            )
            #expect(response.status == 400)
            let error = try Anthropic.ErrorBody(json: response.json())
            #expect(error.error.type == "invalid_request_error")
            #expect(error.error.message == message)
            #expect(error.requestID == response.header("request-id"))
        }
    }

    @Test func keysAndModelsAreCheckedLikeAnthropicChecksThem() async throws {
        try await withSimulator { sim async throws in
            let missing = try await TestHTTP.post("\(sim.baseURL)/v1/messages", json: messagesBody())
            #expect(missing.status == 401)
            #expect(try Anthropic.ErrorBody(json: missing.json()).error.message == "x-api-key header is required")
            let wrong = try await sim.messages(messagesBody(), key: "sk-ant-not-a-simulator-key")
            #expect(
                try Anthropic.ErrorBody(json: wrong.json()).error
                    == Anthropic.ErrorDetail(type: "authentication_error", message: "invalid x-api-key")
            )
            let unknown = try await sim.messages(messagesBody(model: "claude-7"))
            #expect(unknown.status == 404)
            #expect(
                try Anthropic.ErrorBody(json: unknown.json()).error
                    == Anthropic.ErrorDetail(type: "not_found_error", message: "model: claude-7")
            )
        }
    }
}
