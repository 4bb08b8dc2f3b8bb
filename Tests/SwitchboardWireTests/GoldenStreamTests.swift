import SwitchboardTesting
import Testing

@testable import SwitchboardWire

/// The wire models re-encode recorded provider streams byte for byte.
struct GoldenStreamTests {
    @Test func openAIRecordedChunksReencodeByteForByte() throws {
        var parser = ServerSentEventParser()
        let recorded = Array(RecordedStreams.openAIChatTail.utf8)
        var output: [UInt8] = []
        for event in try parser.feed(recorded) {
            if event.data == "[DONE]" {
                output += OpenAI.streamTerminator
            } else {
                output += try OpenAI.ChatCompletionChunk(json: JSONValue.parse(event.data)).sseFrame
            }
        }
        #expect(String(decoding: output, as: UTF8.self) == RecordedStreams.openAIChatTail)
    }

    @Test func anthropicRecordedEventsReencodeByteForByte() throws {
        var parser = ServerSentEventParser()
        var output: [UInt8] = []
        for event in try parser.feed(Array(RecordedStreams.anthropicBasic.utf8)) {
            let decoded = try Anthropic.StreamEvent(json: JSONValue.parse(event.data))
            #expect(decoded.name == event.event)
            output += decoded.sseFrame
        }
        #expect(String(decoding: output, as: UTF8.self) == RecordedStreams.anthropicBasic)
    }

    @Test func unknownAnthropicEventsAreKept() throws {
        let event = try Anthropic.StreamEvent(json: JSONValue.parse(#"{"type":"future_event","x":1}"#))
        #expect(event == .unknown(type: "future_event", payload: ["type": "future_event", "x": 1]))
        #expect(event.serialized() == #"{"type":"future_event","x":1}"#)
    }
}
