import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire

/// A gateway over a pipeline over a simulator, with a key table of its own.
struct GatewayBench: Sendable {
    let gateway: Gateway
    let bench: PipelineFixture
    let keys: VirtualKeyStore

    var simulator: Simulator { bench.simulator }

    /// A new key's secret.
    func key(
        user: String = "alice",
        rpm: Int? = nil,
        tpm: Int? = nil,
        budget: Int64? = nil,
        allowUserHeader: Bool = false
    ) throws -> String {
        try keys.create(userID: user, rpm: rpm, tpm: tpm, budgetNanoUSD: budget, allowUserHeader: allowUserHeader)
            .secret
    }

    /// The journal's row of a call, read while the writer runs (durable calls are committed
    /// before their response is released).
    func call(_ requestID: String) throws -> CallDetail? {
        try JournalReader.open(path: bench.journalPath).call(requestID: requestID)
    }
}

/// Runs `body` with a gateway router (in process, no sockets) in front of a fresh pipeline and
/// simulator. The key cache is off, so key changes take effect at once.
func withGateway<T: Sendable>(
    simulator: SimulatorConfiguration = .testing,
    configure: @Sendable (inout SwitchboardConfiguration) -> Void = { _ in },
    _ body: @Sendable (GatewayBench, any TestClientProtocol) async throws -> T
) async throws -> PipelineRun<T> {
    try await withPipeline(simulator: simulator, configure: configure) { bench in
        let keys = try VirtualKeyStore(path: "\(bench.directory)/state.sqlite")
        let gateway = Gateway(pipeline: bench.pipeline, keys: keys, keyCacheTTL: .zero, logger: quietLogger)
        let application = Application(router: gateway.makeRouter())
        let fixture = GatewayBench(gateway: gateway, bench: bench, keys: keys)
        return try await application.test(.router) { client in try await body(fixture, client) }
    }
}

extension TestClientProtocol {
    /// POSTs a JSON body with the given headers (`name: value`).
    func post(_ path: String, _ body: String, headers: [String: String] = [:]) async throws
        -> HummingbirdTesting.TestResponse
    {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await execute(uri: path, method: .post, headers: fields, body: ByteBuffer(string: body))
    }

    func chat(
        _ key: String?,
        model: String = "gpt-4o-mini",
        text: String = "Hello",
        extra: String = "",
        headers: [String: String] = [:]
    )
        async throws -> HummingbirdTesting.TestResponse
    {
        var headers = headers
        if let key { headers["authorization"] = "Bearer \(key)" }
        return try await post(
            "/v1/chat/completions",
            #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(text)"}]\#(extra)}"#,
            headers: headers
        )
    }

    func messages(_ key: String?, model: String = "claude-haiku-4-5", text: String = "Hello", extra: String = "")
        async throws -> HummingbirdTesting.TestResponse
    {
        var headers: [String: String] = [:]
        if let key { headers["x-api-key"] = key }
        return try await post(
            "/v1/messages",
            #"{"model":"\#(model)","max_tokens":64,"messages":[{"role":"user","content":"\#(text)"}]\#(extra)}"#,
            headers: headers
        )
    }
}

extension HummingbirdTesting.TestResponse {
    var json: JSONValue { (try? JSONValue.parse(Array(buffer: body))) ?? .null }
    var text: String { String(buffer: body) }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// OpenAI's `error.code`, or Anthropic's `error.type`.
    var errorCode: String? { json["error"]?["code"]?.stringValue ?? json["error"]?["type"]?.stringValue }
}
