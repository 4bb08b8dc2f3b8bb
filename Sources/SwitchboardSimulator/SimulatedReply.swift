import SwitchboardWire

/// What the simulator answers one request with; the HTTP layer carries it out.
public enum SimulatedReply: Sendable {
    /// A whole response, sent after `delay` (the time to generate it).
    case complete(status: Int, headers: [HeaderField], body: [UInt8], delay: Duration = .zero)
    /// A `text/event-stream` response.
    case stream(headers: [HeaderField], plan: StreamPlan)
    /// Reset the connection before any response byte.
    case reset
    /// Hold the request without answering until the client leaves (or the stall limit passes).
    case stall

    /// The status line this reply sends, if it sends one.
    public var status: Int? {
        switch self {
        case .complete(let status, _, _, _): status
        case .stream: 200
        case .reset, .stall: nil
        }
    }
}

/// The frames of a streamed answer and when to send them.
public struct StreamPlan: Sendable {
    public struct Frame: Sendable {
        public var bytes: [UInt8]
        /// Generated output: paced at the configured tokens per second.
        public var isContent: Bool
    }

    public var frames: [Frame]
    /// Delay before the first content frame.
    public var timeToFirstToken: Duration
    /// Delay between content frames.
    public var interTokenDelay: Duration
    /// A `slow-stream` fault: this delay between every two frames instead.
    public var slowInterval: Duration?
    /// A `mid-stream-error` fault: after this many frames, send `errorFrame` and end the stream
    /// without its terminator.
    public var cutAfter: Int?
    public var errorFrame: [UInt8]?
    /// A `malformed` fault: a frame that is not JSON, sent in place of the second frame.
    public var malformedFrame: [UInt8]?
}
