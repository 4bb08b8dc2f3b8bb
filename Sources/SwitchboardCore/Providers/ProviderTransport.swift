import Foundation
import SwitchboardWire

/// One HTTP request to a provider.
public struct ProviderRequest: Sendable {
    public var url: String
    /// Every header, the credential included; never logged.
    public var headers: [HeaderField]
    public var body: [UInt8]

    public init(url: String, headers: [HeaderField], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The status line and headers of a provider's answer.
public struct ResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: [HeaderField]

    public init(status: Int, headers: [HeaderField]) {
        self.status = status
        self.headers = headers
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.value(of: name)
    }
}

/// The body of an answer, read chunk by chunk as it arrives. Every chunk counts as progress for
/// the idle timeout.
public final class ResponseBody {
    private let nextChunk: () async throws -> [UInt8]?

    public init(_ nextChunk: @escaping () async throws -> [UInt8]?) {
        self.nextChunk = nextChunk
    }

    /// The next chunk, or `nil` at the end.
    public func next() async throws -> [UInt8]? { try await nextChunk() }

    /// Everything up to `limit` bytes.
    /// - Throws: ``TransportError`` (`invalidResponse`) when the body is larger.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let chunk = try await next() {
            bytes += chunk
            if bytes.count > limit {
                throw TransportError(.invalidResponse, "the answer is larger than \(limit) bytes")
            }
        }
        return bytes
    }
}

/// The timeouts of one exchange, from its start.
public struct ExchangeTimeouts: Sendable, Equatable {
    /// Until the answer's head.
    public var firstByte: Duration
    /// Between two chunks of the body.
    public var idle: Duration
    /// What is left of the call's time: nothing runs past it.
    public var remaining: Duration

    public init(firstByte: Duration, idle: Duration, remaining: Duration) {
        self.firstByte = firstByte
        self.idle = idle
        self.remaining = remaining
    }
}

/// How requests reach providers: HTTP in production (``HTTPProviderTransport``). A protocol
/// because it is the seam between the pipeline and the network.
public protocol ProviderTransport: Sendable {
    /// Sends `request` and hands the answer to `handle` as it arrives, enforcing `timeouts`.
    /// Cancelling the calling task cancels the request and closes its connection.
    /// - Throws: ``TransportError`` when no answer arrives (connect failure, reset, timeout,
    ///   cancellation), or what `handle` throws.
    func exchange<Result: Sendable>(
        _ request: ProviderRequest,
        timeouts: ExchangeTimeouts,
        handle: @escaping @Sendable (ResponseHead, ResponseBody) async throws -> Result
    ) async throws -> Result
}

/// A failure to exchange with a provider.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var failure: TransportFailure
    public var message: String

    public init(_ failure: TransportFailure, _ message: String) {
        self.failure = failure
        self.message = message
    }

    public var description: String { "\(failure.rawValue): \(message)" }
}
