import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardConsole
import SwitchboardWire

/// The playground's calls through a running gateway (`switchboard console --via-gateway URL --key
/// KEY`), for operators who may not read provider keys: OpenAI format over HTTP, streamed as
/// server-sent events; the gateway journals them (origin `gateway`, billed to the key's user).
final class GatewaySender: PlaygroundSender {
    let baseURL: String
    let key: String
    let routes: [String]
    let billedTo: String

    init(baseURL: String, key: String, routes: [String]) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.routes = routes.isEmpty ? ["default"] : routes
        self.billedTo = "the key's user"
    }

    func send(_ request: PlaygroundRequest) -> AsyncStream<PlaygroundEvent> {
        let (events, continuation) = AsyncStream.makeStream(of: PlaygroundEvent.self)
        let task = Task { [baseURL, key] in
            let started = ContinuousClock.now
            var body = request.openAI
            body.stream = request.stream
            if request.stream { body.streamOptions = OpenAI.StreamOptions(includeUsage: true) }
            var http = HTTPClientRequest(url: baseURL + "/v1/chat/completions")
            http.method = .POST
            http.headers.add(name: "authorization", value: "Bearer \(key)")
            http.headers.add(name: "content-type", value: "application/json")
            http.body = .bytes(ByteBuffer(bytes: body.json.serializedBytes()))
            do {
                let response = try await HTTPClient.shared.execute(http, timeout: .minutes(10))
                var figures = PlaygroundFigures(
                    requestID: response.headers.first(name: "x-request-id") ?? "",
                    cache: response.headers.first(name: "x-switchboard-cache")
                )
                // Nine decimals: the nano-dollars exactly.
                if let cost = response.headers.first(name: "x-switchboard-cost-usd") {
                    figures.costNanoUSD = Int64(cost.replacingOccurrences(of: ".", with: ""))
                }
                guard response.status.code == 200 else {
                    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    let message = (try? OpenAI.ErrorBody(json: try JSONValue.parse(text)))?.message ?? text
                    continuation.yield(.failed("HTTP \(response.status.code): \(message)", figures))
                    continuation.finish()
                    return
                }
                var firstText: ContinuousClock.Instant?
                func count(_ usage: OpenAI.Usage?) {
                    guard let usage else { return }
                    figures.inputTokens = usage.promptTokens
                    figures.outputTokens = usage.completionTokens
                    figures.cachedTokens = usage.cachedTokens
                }
                if request.stream {
                    var parser = ServerSentEventParser()
                    for try await bytes in response.body {
                        for event in try parser.feed(bytes.readableBytesView) where event.data != "[DONE]" {
                            let json = try JSONValue.parse(event.data)
                            // An error after the first event comes as an event of its own.
                            if json["error"] != nil, let error = try? OpenAI.ErrorBody(json: json) {
                                continuation.yield(.failed(error.message, figures))
                                continuation.finish()
                                return
                            }
                            let chunk = try OpenAI.ChatCompletionChunk(json: json)
                            if let text = chunk.choices.first?.delta.content, !text.isEmpty {
                                if firstText == nil { firstText = .now }
                                continuation.yield(.text(text))
                            }
                            figures.modelUsed = chunk.model
                            if case .value(let usage)? = chunk.usage { count(usage) }
                        }
                    }
                } else {
                    let answer = try OpenAI.ChatCompletion(
                        json: try JSONValue.parse(Array(buffer: try await response.body.collect(upTo: 16 << 20)))
                    )
                    continuation.yield(.text(answer.choices.first?.message.content?.text ?? ""))
                    figures.modelUsed = answer.model
                    count(answer.usage)
                }
                figures.latency = ContinuousClock.now - started
                figures.timeToFirstToken = firstText.map { $0 - started }
                continuation.yield(.finished(figures))
            } catch is CancellationError {
                continuation.yield(.failed("cancelled", nil))
            } catch {
                continuation.yield(
                    .failed(
                        "the call through the gateway at \(baseURL) failed: \(error); is the gateway running, and the URL its?",
                        nil
                    )
                )
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }
}
