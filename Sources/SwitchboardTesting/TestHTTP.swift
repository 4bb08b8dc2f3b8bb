import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardWire

/// A response as tests look at it.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: [HeaderField]
    public var body: [UInt8]

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.value(of: name)
    }

    /// The body parsed as JSON.
    public func json() throws -> JSONValue { try JSONValue.parse(body) }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body read as a server-sent event stream.
    public func events() throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        return try parser.feed(body)
    }
}

/// HTTP over real loopback connections (AsyncHTTPClient), for tests of servers.
public enum TestHTTP {
    /// Sends a request and reads the whole response.
    public static func send(
        _ method: HTTPMethod,
        _ url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanosecondsClamped))
        var collected: [UInt8] = []
        for try await var chunk in response.body {
            collected += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return TestResponse(
            status: Int(response.status.code),
            headers: response.headers.map { HeaderField($0.name, $0.value) },
            body: collected
        )
    }

    /// POSTs raw bytes (a body that may not be JSON at all).
    public static func post(
        _ url: String,
        headers: [(String, String)] = [],
        bytes: [UInt8],
        timeout: Duration = .seconds(30)
    ) async throws -> TestResponse {
        try await send(.POST, url, headers: headers, body: bytes, timeout: timeout)
    }

    /// POSTs a JSON body.
    public static func post(_ url: String, json: JSONValue, headers: [(String, String)] = []) async throws
        -> TestResponse
    {
        try await send(
            .POST,
            url,
            headers: [("content-type", "application/json")] + headers,
            body: json.serializedBytes()
        )
    }

    public static func get(_ url: String, headers: [(String, String)] = []) async throws -> TestResponse {
        try await send(.GET, url, headers: headers)
    }
}
