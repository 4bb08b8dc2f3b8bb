import Testing

@testable import SwitchboardWire

struct ServerSentEventTests {
    @Test func eventsSplitAnywhereAcrossChunksParseTheSame() throws {
        let stream = Array(
            "event: ping\r\ndata: {\"a\":1}\r\n\r\n: comment\n\ndata: line one\ndata: line two\r\rdata: [DONE]\n\n".utf8
        )
        var whole = ServerSentEventParser()
        let expected = try whole.feed(stream)
        #expect(
            expected == [
                ServerSentEvent(event: "ping", data: "{\"a\":1}"),
                ServerSentEvent(data: "line one\nline two"),
                ServerSentEvent(data: "[DONE]"),
            ]
        )
        for split in 1..<stream.count {
            var parser = ServerSentEventParser()
            let events = try parser.feed(stream[..<split]) + parser.feed(stream[split...])
            #expect(events == expected, "split at byte \(split)")
        }
    }

    @Test func anUnterminatedLastEventIsDiscarded() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: partial".utf8)).isEmpty)
        #expect(parser.finish().isEmpty)
    }

    @Test func oversizedEventsAreRefused() {
        var parser = ServerSentEventParser(maximumEventBytes: 16)
        #expect(throws: ServerSentEventError.self) { try parser.feed(Array("data: 0123456789abcdefghij\n\n".utf8)) }
    }

    @Test func encodingSplitsMultiLineData() {
        let event = ServerSentEvent(event: "x", data: "a\nb")
        #expect(String(decoding: event.encoded, as: UTF8.self) == "event: x\ndata: a\ndata: b\n\n")
    }
}
