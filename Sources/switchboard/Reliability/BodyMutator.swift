import SwitchboardSimulator
import SwitchboardWire

/// Seeded, structure-aware mutations of valid request bodies, each one of which makes the request
/// invalid: the gateway must answer every one with a 4xx from the error table and never crash.
struct BodyMutator {
    /// One mutated request.
    struct Case {
        var path: String
        var body: [UInt8]
        var contentType: String
        var kind: Kind
    }

    enum Kind: String, CaseIterable {
        case truncated
        case invalidUTF8 = "invalid utf-8"
        case deepNesting = "deep nesting"
        case wrongType = "wrong type"
        case missingField = "missing field"
        case oversized
        case wrongContentType = "wrong content-type"
        case notAnObject = "not an object"
        case garbage
        case badValue = "bad value"
    }

    var random: SplitMix64
    /// The gateway's `max_body`.
    let maxBody: Int

    init(seed: UInt64, maxBody: Int) {
        random = SplitMix64(seed: seed)
        self.maxBody = maxBody
    }

    static let openAISeeds: [JSONValue] = [
        [
            "model": "default", "max_tokens": 64, "temperature": 0.2,
            "messages": [
                ["role": "system", "content": "Be brief."], ["role": "user", "content": "Where is my parcel?"],
            ],
        ],
        [
            "model": "gpt-4o-mini", "stream": true, "max_tokens": 32,
            "messages": [["role": "user", "content": [["type": "text", "text": "Hi"]]]],
            "tools": [["type": "function", "function": ["name": "lookup", "parameters": ["type": "object"]]]],
        ],
    ]

    static let anthropicSeeds: [JSONValue] = [
        [
            "model": "default", "max_tokens": 64, "system": "Be brief.",
            "messages": [["role": "user", "content": "Where is my parcel?"]],
        ],
        [
            "model": "claude-haiku-4-5", "max_tokens": 32, "stream": true,
            "messages": [["role": "user", "content": [["type": "text", "text": "Hi"]]]],
            "tools": [["name": "lookup", "input_schema": ["type": "object"]]],
        ],
    ]

    mutating func next() -> Case {
        let anthropic = Bool.random(using: &random)
        let path = anthropic ? "/v1/messages" : "/v1/chat/completions"
        let seeds = anthropic ? Self.anthropicSeeds : Self.openAISeeds
        var object = seeds.randomElement(using: &random)!.objectValue!
        let valid = JSONValue.object(object).serializedBytes()
        let kind = Kind.allCases.randomElement(using: &random)!
        var contentType = "application/json"
        let body: [UInt8]
        switch kind {
        case .truncated:
            // Any strict prefix of an object's text is not JSON.
            body = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &random)))
        case .invalidUTF8:
            let bad: [[UInt8]] = [
                [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
            ]
            // Inside a message's text, where a parser would otherwise accept anything.
            var bytes = valid
            if let at = Self.find(Array("Where".utf8), in: bytes)
                ?? Self.find(Array("\"Hi\"".utf8), in: bytes).map({ $0 + 1 })
            {
                bytes.insert(
                    contentsOf: bad.randomElement(using: &random)!,
                    at: at + Int.random(in: 0...1, using: &random)
                )
            } else {
                bytes.insert(contentsOf: bad[0], at: bytes.count / 2)
            }
            body = bytes
        case .deepNesting:
            let depth = Int.random(in: 600...20_000, using: &random)
            let open = Bool.random(using: &random) ? UInt8(ascii: "[") : UInt8(ascii: "{")
            var bytes = Array(#"{"model":"default","max_tokens":8,"messages":"#.utf8)
            if open == UInt8(ascii: "[") {
                bytes += [UInt8](repeating: open, count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
            } else {
                bytes +=
                    Array(String(repeating: #"{"a":"#, count: depth).utf8) + Array("1".utf8)
                    + [UInt8](repeating: UInt8(ascii: "}"), count: depth)
            }
            body = bytes + Array("}".utf8)
        case .wrongType:
            let field = ["model", "messages", "max_tokens", "temperature", "stream", "role", "content"]
                .randomElement(using: &random)!
            let wrong: [String: [JSONValue]] = [
                "model": [42, .null, ["default"], ["name": "x"], true],
                "messages": ["hello", 7, ["role": "user"], .null],
                "max_tokens": ["ten", [10], true, ["n": 1]],
                "temperature": ["hot", [0.5], ["t": 1]],
                "stream": ["yes", 1, ["on": true]],
                "role": [7, .null, ["user"]],
                "content": [3.5, true, ["text": "hi"]],
            ]
            let value = wrong[field]!.randomElement(using: &random)!
            if field == "role" || field == "content" {
                var messages = object["messages"]!.arrayValue!
                var last = messages.removeLast().objectValue!
                last[field] = value
                messages.append(.object(last))
                object["messages"] = .array(messages)
            } else {
                object[field] = value
            }
            body = JSONValue.object(object).serializedBytes()
        case .missingField:
            object.removeValue(forKey: Bool.random(using: &random) ? "model" : "messages")
            if anthropic, Bool.random(using: &random) {
                object = object.filter { $0.key != "max_tokens" }
                object.removeValue(forKey: "model")
            }
            body = JSONValue.object(object).serializedBytes()
        case .oversized:
            let size = maxBody + Int.random(in: 1...(maxBody * 4), using: &random)
            object["system"] = .string(String(repeating: "x", count: size))
            body = JSONValue.object(object).serializedBytes()
        case .wrongContentType:
            contentType = [
                "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
            ]
            .randomElement(using: &random)!
            body = valid
        case .notAnObject:
            body = Array(
                (["[]", "\"hello\"", "null", "42", "true", "[{\"model\":\"default\"}]", ""].randomElement(
                    using: &random
                )!).utf8
            )
        case .garbage:
            body = (0..<Int.random(in: 1...512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        case .badValue:
            let choices: [(String, JSONValue)] = [
                // Not 0: Anthropic accepts `max_tokens: 0` (to warm its prompt cache).
                ("max_tokens", -5), ("max_tokens", -1), ("messages", []), ("model", ""),
                ("model", "no-such-model-anywhere"),
                ("temperature", 99), ("max_tokens", 1e300),
            ]
            let (field, value) = choices.randomElement(using: &random)!
            object[field] = value
            body = JSONValue.object(object).serializedBytes()
        }
        return Case(path: path, body: body, contentType: contentType, kind: kind)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
