/// One server-sent event (WHATWG HTML §9.2): an optional name, its data, and an optional id.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; `nil` means the default `message`.
    public var event: String?
    /// The `data:` lines joined with `\n`.
    public var data: String
    public var id: String?
    /// The `retry:` field in milliseconds.
    public var retry: Int?

    public init(event: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }

    /// The event framed for the wire: `event:` (when named), one `data:` line per line of data,
    /// then a blank line.
    public var encoded: [UInt8] {
        var text = ""
        if let event { text += "event: \(event)\n" }
        if let id { text += "id: \(id)\n" }
        if let retry { text += "retry: \(retry)\n" }
        var start = data.startIndex
        while let newline = data[start...].firstIndex(of: "\n") {
            text += "data: \(data[start..<newline])\n"
            start = data.index(after: newline)
        }
        text += "data: \(data[start...])\n\n"
        return Array(text.utf8)
    }
}

/// An event stream that broke the limits of ``ServerSentEventParser``.
public struct ServerSentEventError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// An incremental parser for `text/event-stream`: feed it bytes as they arrive, take the complete
/// events out. Lines may end in LF, CRLF or CR, split anywhere across chunks.
public struct ServerSentEventParser: Sendable {
    /// The longest line or event accepted; a stream that exceeds it is refused rather than buffered
    /// without bound. The default is 8 MiB.
    public let maximumEventBytes: Int

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var event: String?
    private var data: [UInt8] = []
    private var hasData = false
    private var id: String?
    private var retry: Int?

    public init(maximumEventBytes: Int = 8 << 20) {
        self.maximumEventBytes = maximumEventBytes
    }

    /// Parses the next chunk of the stream and returns the events it completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ServerSentEventError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 0x0A, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = processLine() { events.append(event) }
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
                if line.count + data.count > maximumEventBytes {
                    throw ServerSentEventError(reason: "an event is larger than \(maximumEventBytes) bytes")
                }
            }
        }
        return events
    }

    /// Ends the stream. A final event without its blank line is discarded, as the standard says.
    public mutating func finish() -> [ServerSentEvent] {
        line.removeAll()
        data.removeAll()
        hasData = false
        event = nil
        return []
    }

    private mutating func processLine() -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                event = nil
                data.removeAll(keepingCapacity: true)
                hasData = false
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: event, data: String(decoding: data, as: UTF8.self), id: id, retry: retry)
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: [UInt8]
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = Array(line[..<colon])
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event": event = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        case "id": if !value.contains(0) { id = String(decoding: value, as: UTF8.self) }
        case "retry": if let number = Int(String(decoding: value, as: UTF8.self)) { retry = number }
        default: break
        }
        return nil
    }
}

extension OpenAI {
    /// The line that ends a Chat Completions stream.
    public static let streamTerminator: [UInt8] = Array("data: [DONE]\n\n".utf8)
}

extension OpenAI.ChatCompletionChunk {
    /// The chunk framed as OpenAI does: `data: <json>` and a blank line, no `event:` field.
    public var sseFrame: [UInt8] {
        var frame = Array("data: ".utf8)
        frame.append(contentsOf: serializedBytes())
        frame.append(contentsOf: [0x0A, 0x0A])
        return frame
    }
}

extension OpenAI.ErrorBody {
    /// An error inside a Chat Completions stream: a `data:` line whose JSON has an `error` key.
    public var sseFrame: [UInt8] {
        ServerSentEvent(data: serialized()).encoded
    }
}

extension Anthropic.StreamEvent {
    /// The event framed as Anthropic does: `event: <type>`, `data: <json>`, a blank line.
    ///
    /// `ping` is written `{"type": "ping"}`, with the space, exactly as the API sends it.
    public var sseFrame: [UInt8] {
        if case .ping = self {
            return Array("event: ping\ndata: {\"type\": \"ping\"}\n\n".utf8)
        }
        var frame = Array("event: \(name)\ndata: ".utf8)
        frame.append(contentsOf: serializedBytes())
        frame.append(contentsOf: [0x0A, 0x0A])
        return frame
    }
}
