import Crypto
import Foundation
import SwitchboardWire

/// Provider prompt caching, arranged for the caller: Anthropic `cache_control` breakpoints on the
/// long stable prefixes of a request, and OpenAI's `prompt_cache_key` per tenant or user.
enum PromptCaching {
    /// Anthropic caches at most this many breakpoints per request.
    static let maxBreakpoints = 4
    /// The shortest cacheable prompt when the price book does not say: 1,024 tokens (Sonnet and
    /// Opus of 2025; Haiku models ask for more, and the book has theirs).
    static let defaultMinimumTokens = 1_024

    /// Adds `cache_control` breakpoints to an Anthropic request body: after the last tool (the
    /// tools are the start of every prompt) and after the system prompt, each only when the prefix
    /// it closes reaches `minimumTokens` (characters / 4). A request where the caller placed any
    /// breakpoint is left as it is.
    /// - Returns: how many breakpoints were added.
    @discardableResult
    static func addAnthropicBreakpoints(_ body: inout JSONValue, minimumTokens: Int, ttl: Duration) -> Int {
        guard case .object(var request) = body, !containsCacheControl(body) else { return 0 }
        var control: JSONObject = ["type": "ephemeral"]
        if ttl >= .seconds(3600) { control["ttl"] = "1h" }
        var prefixCharacters = 0
        var added = 0
        if case .array(var tools) = request["tools"], !tools.isEmpty {
            prefixCharacters += tools.reduce(0) { $0 + $1.serialized().count }
            if TokenEstimate.tokens(characters: prefixCharacters) >= minimumTokens,
                case .object(var last) = tools[tools.count - 1]
            {
                last["cache_control"] = .object(control)
                tools[tools.count - 1] = .object(last)
                request["tools"] = .array(tools)
                added += 1
            }
        }
        var system: [JSONValue]
        switch request["system"] {
        case .string(let text): system = [["type": "text", "text": .string(text)]]
        case .array(let blocks): system = blocks
        default: system = []
        }
        prefixCharacters += system.reduce(0) { $0 + ($1["text"]?.stringValue?.count ?? 0) }
        if !system.isEmpty, added < maxBreakpoints, TokenEstimate.tokens(characters: prefixCharacters) >= minimumTokens,
            case .object(var last) = system[system.count - 1]
        {
            last["cache_control"] = .object(control)
            system[system.count - 1] = .object(last)
            request["system"] = .array(system)
            added += 1
        }
        body = .object(request)
        return added
    }

    /// Whether the caller placed a breakpoint anywhere in the request.
    static func containsCacheControl(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object): object["cache_control"] != nil || object.values.contains(where: containsCacheControl)
        case .array(let array): array.contains(where: containsCacheControl)
        default: false
        }
    }

    /// OpenAI caches prompts of this many tokens or more.
    static let openAIMinimumTokens = 1_024
    /// How long OpenAI keeps a prefix after its last use: "5 to 10 minutes of inactivity".
    static let openAILifetime: Duration = .seconds(300)

    /// The identity of a request's long stable prefix — its tools and system prompt (OpenAI: the
    /// leading system and developer messages, and the `prompt_cache_key`) — when it is long enough
    /// for the provider to cache (`minimumTokens`, characters / 4); `nil` otherwise. Requests of
    /// one identity are sent to one key of the pool (``PrefixRecord``).
    static func prefixIdentity(_ body: JSONValue, kind: APIFormat, minimumTokens: Int) -> String? {
        guard case .object(let request) = body else { return nil }
        var prefix = request["tools"]?.serialized() ?? ""
        switch kind {
        case .anthropic:
            switch request["system"] {
            case .string(let text): prefix += text
            case .array(let blocks): prefix += blocks.map { $0["text"]?.stringValue ?? "" }.joined()
            default: break
            }
        case .openAI:
            for message in request["messages"]?.arrayValue ?? [] {
                guard let role = message["role"]?.stringValue, role == "system" || role == "developer" else { break }
                prefix += message["content"].map { $0.stringValue ?? $0.serialized() } ?? ""
            }
            prefix += request["prompt_cache_key"]?.stringValue ?? ""
        }
        guard TokenEstimate.tokens(characters: prefix.count) >= minimumTokens else { return nil }
        return Array(SHA256.hash(data: Array(prefix.utf8)).prefix(12)).hex
    }

    /// Sets OpenAI's `prompt_cache_key` when the caller did not: requests of one tenant (or user)
    /// share the provider's cache routing, and the key reveals neither (a hash).
    static func addOpenAIPromptCacheKey(
        _ body: inout JSONValue,
        policy: SwitchboardConfiguration.Cache.Prompt.OpenAIKey,
        context: CallContext
    ) {
        guard case .object(var request) = body, request["prompt_cache_key"] == nil else { return }
        let owner: String
        switch policy {
        case .off: return
        case .perTenant: owner = "tenant:" + (context.tenantID ?? "")
        case .perUser: owner = "user:" + (context.userID ?? context.tenantID ?? "")
        }
        let digest = Array(SHA256.hash(data: Array(owner.utf8)).prefix(12)).hex
        request["prompt_cache_key"] = .string("sb-" + digest)
        body = .object(request)
    }
}
