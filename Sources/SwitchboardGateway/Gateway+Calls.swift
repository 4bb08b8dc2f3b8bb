import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardJournal
import SwitchboardWire
import Synchronization

extension Gateway {
    /// `POST /v1/chat/completions` (OpenAI format) and `POST /v1/messages` (Anthropic format).
    func chat(_ format: APIFormat, request: Request, context: GatewayRequestContext) async -> Response {
        let requestID = CallContext.newRequestID()
        let exchange = Exchange()
        var call: CallContext
        let trace: String
        let body: [UInt8]
        do {
            guard !isDraining else {
                throw SwitchboardError(
                    .shuttingDown,
                    "this gateway is shutting down; retry, and another instance or the restarted one will answer",
                    retryAfter: .seconds(1)
                )
            }
            (call, trace) = try identify(request, remoteAddress: context.remoteAddress, requestID: requestID)
            body = try await readBody(request)
        } catch {
            return errorResponse(error, format: format, requestID: requestID)
        }
        call.onLimits = { [metrics] status in
            exchange.limits = status
            if !status.allowed && !status.shadow { metrics.limiterRejected(status) }
        }
        call.onRecord = { [metrics] record in
            exchange.record = record
            metrics.call(record)
        }
        do {
            switch format {
            case .openAI:
                let chat = try Self.decode(OpenAI.ChatCompletionRequest.self, body)
                if chat.stream == true {
                    return try await stream(
                        pipeline.stream(chat, context: call),
                        format: format,
                        exchange: exchange,
                        requestID: requestID,
                        trace: trace,
                        frame: \.sseFrame,
                        terminator: OpenAI.streamTerminator
                    )
                }
                let answer = try await pipeline.chat(chat, context: call)
                return Self.json(
                    200,
                    answer.json,
                    headers: headers(format, exchange: exchange, requestID: requestID, trace: trace, final: true)
                )
            case .anthropic:
                let messages = try Self.decode(Anthropic.MessagesRequest.self, body)
                if messages.stream == true {
                    return try await stream(
                        pipeline.stream(messages, context: call),
                        format: format,
                        exchange: exchange,
                        requestID: requestID,
                        trace: trace,
                        frame: \.sseFrame,
                        terminator: nil
                    )
                }
                let answer = try await pipeline.chat(messages, context: call)
                return Self.json(
                    200,
                    answer.json,
                    headers: headers(format, exchange: exchange, requestID: requestID, trace: trace, final: true)
                )
            }
        } catch {
            return errorResponse(
                error,
                format: format,
                requestID: requestID,
                headers: headers(format, exchange: exchange, requestID: nil, trace: trace, final: true)
            )
        }
    }

    /// A streamed answer. The first event (or the error before it) is awaited before the status
    /// line goes out, so a call refused or failed before its first token gets its proper status
    /// and error body; an error after it ends the stream with the format's error event.
    ///
    /// Events are written as they come: each write waits for the connection to take it, and the
    /// pipeline's stream stops reading the upstream while 64 events wait unread. A client that goes away
    /// makes a write fail; dropping the stream then cancels the call upstream, and the pipeline
    /// bills what was produced.
    private func stream<Event: Sendable>(
        _ events: PipelineStream<Event>,
        format: APIFormat,
        exchange: Exchange,
        requestID: String,
        trace: String?,
        frame: @escaping @Sendable (Event) -> [UInt8],
        terminator: [UInt8]?
    ) async throws -> Response {
        let source = EventSource(events)
        // Errors before the first event become the response's status.
        guard let first = try await source.next() else {
            throw SwitchboardError(.upstreamExhausted, "the provider's stream ended before its first event")
        }
        var fields = headers(format, exchange: exchange, requestID: requestID, trace: trace, final: false)
        fields[.contentType] = "text/event-stream; charset=utf-8"
        fields[.cacheControl] = "no-cache"
        return Response(
            status: .ok,
            headers: fields,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: frame(first)))
                do {
                    while let event = try await source.next() {
                        try await writer.write(ByteBuffer(bytes: frame(event)))
                    }
                } catch let error where !(error is CancellationError) {
                    // The error event ends the stream; OpenAI sends no `[DONE]` after it.
                    let errorFrame = Self.streamErrorFrame(error, format: format, requestID: requestID)
                    try await writer.write(ByteBuffer(bytes: errorFrame))
                    try await writer.finish(nil)
                    return
                }
                if let terminator { try await writer.write(ByteBuffer(bytes: terminator)) }
                try await writer.finish(nil)
            }
        )
    }

    /// The error event that ends a stream which already started: OpenAI's `data: {"error": …}`,
    /// Anthropic's `event: error`.
    static func streamErrorFrame(_ error: any Error, format: APIFormat, requestID: String) -> [UInt8] {
        let body = callerError(error).body(format, requestID)
        switch format {
        case .openAI:
            return ServerSentEvent(data: body.serialized()).encoded
        case .anthropic:
            let detail =
                (try? Anthropic.ErrorBody(json: body))?.error
                ?? Anthropic.ErrorDetail(type: "api_error", message: String(describing: error))
            return Anthropic.StreamEvent.error(detail).sseFrame
        }
    }

    /// The response headers of a call: request id, the caller's limits in the endpoint's header
    /// family and as `RateLimit-*`, the trace, and (when `final`, i.e. the call is over) the cache
    /// outcome, the cost and the provider's own id of the last attempt.
    func headers(_ format: APIFormat, exchange: Exchange, requestID: String?, trace: String?, final: Bool) -> HTTPFields
    {
        var fields = requestID.map { Self.requestIDFields($0, format: format) } ?? HTTPFields()
        if let trace { fields[HTTPField.Name("traceparent")!] = trace }
        if let limits = exchange.limits {
            fields.append(contentsOf: Self.fields(CallerLimits.headers(limits, format: format, now: Date())))
        }
        if let record = exchange.record {
            if let cache = record.cache { fields[HTTPField.Name("x-switchboard-cache")!] = cache.rawValue }
            if final, let cost = record.costNanoUSD {
                fields[HTTPField.Name("x-switchboard-cost-usd")!] = CallerLimits.dollars(cost)
            }
            if final, let id = record.attempts.last?.providerRequestID {
                fields[HTTPField.Name("x-switchboard-provider-request-id")!] = id
            }
        }
        return fields
    }

    /// The body, up to `gateway.max_body` bytes.
    func readBody(_ request: Request) async throws -> [UInt8] {
        if let type = request.headers[.contentType], !type.isEmpty,
            !type.lowercased().hasPrefix("application/json")
        {
            throw SwitchboardError(
                .badRequest,
                "Content-Type must be application/json, not '\(type.prefix(100))'",
                param: "Content-Type"
            )
        }
        var request = request
        do {
            return Array(buffer: try await request.collectBody(upTo: configuration.maxBody))
        } catch is NIOTooManyBytesError {
            throw SwitchboardError(
                .bodyTooLarge,
                "the request body is larger than \(configuration.maxBody) bytes (gateway.max_body); send less context or raise the limit"
            )
        }
    }

    /// A wire request from JSON, with the field at fault named in `param`.
    static func decode<Model: JSONRepresentable>(_ model: Model.Type, _ body: [UInt8]) throws -> Model {
        do {
            return try Model(parsing: body)
        } catch let error as WireDecodingError {
            throw SwitchboardError(
                .badRequest,
                error.description,
                param: error.path.components.isEmpty ? nil : error.path.description
            )
        }
    }
}

/// What a call told the gateway while it ran: the caller's limits (from admission) and the
/// journal record (as it ended). Written by the pipeline's callbacks, read by the handler.
final class Exchange: Sendable {
    private let state = Mutex<(limits: LimitStatus?, record: CallRecord?)>((nil, nil))

    var limits: LimitStatus? {
        get { state.withLock { $0.limits } }
        set { state.withLock { $0.limits = newValue } }
    }

    var record: CallRecord? {
        get { state.withLock { $0.record } }
        set { state.withLock { $0.record = newValue } }
    }
}

/// One consumer's iterator over a stream, shared between the handler (which takes the first
/// event) and the response body writer (which takes the rest): never used by both at once.
final class EventSource<Event: Sendable>: @unchecked Sendable {
    private var iterator: PipelineStream<Event>.AsyncIterator

    init(_ stream: PipelineStream<Event>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async throws -> Event? {
        try await iterator.next()
    }
}
