import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire

let simKey = "sk-sim-tests-0001"

extension SimulatorFixture {
    func chat(_ body: JSONValue, key: String = simKey, headers: [(String, String)] = []) async throws -> TestResponse {
        try await TestHTTP.post(
            "\(baseURL)/v1/chat/completions",
            json: body,
            headers: [("authorization", "Bearer \(key)")] + headers
        )
    }

    func messages(_ body: JSONValue, key: String = simKey, headers: [(String, String)] = []) async throws
        -> TestResponse
    {
        try await TestHTTP.post(
            "\(baseURL)/v1/messages",
            json: body,
            headers: [("x-api-key", key), ("anthropic-version", "2023-06-01")] + headers
        )
    }

    func stats() async throws -> JSONValue {
        try await TestHTTP.get("\(baseURL)/sim/stats").json()
    }
}

func chatBody(_ text: String = "Hello", model: String = "gpt-4o-mini", extra: JSONObject = [:]) -> JSONValue {
    var object: JSONObject = ["model": .string(model), "messages": [["role": "user", "content": .string(text)]]]
    for (key, value) in extra { object[key] = value }
    return .object(object)
}

func messagesBody(
    _ text: String = "Hello",
    model: String = "claude-haiku-4-5",
    maxTokens: Int = 200,
    extra: JSONObject = [:]
) -> JSONValue {
    var object: JSONObject = [
        "model": .string(model), "max_tokens": .integer(maxTokens),
        "messages": [["role": "user", "content": .string(text)]],
    ]
    for (key, value) in extra { object[key] = value }
    return .object(object)
}

/// A text of about `tokens` tokens under the simulator's four-characters-per-token rule.
func longText(tokens: Int, seed: String = "policy") -> String {
    var text = ""
    var index = 0
    while text.count < tokens * 4 {
        text += "\(seed) clause \(index) says the refund window is thirty days. "
        index += 1
    }
    return String(text.prefix(tokens * 4))
}
