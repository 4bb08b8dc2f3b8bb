import Foundation
import SwitchboardWire

/// Emulates both providers' prompt caches closely enough that cost accounting and cache shaping can
/// be tested against it.
///
/// - OpenAI (automatic): prompts of 1,024 tokens or more; cached prefixes grow in 128-token steps
///   (1,024, 1,152, 1,280, …); scoped to the API key (the organisation) and `prompt_cache_key`;
///   an entry lives `openAITTL` after its last use.
/// - Anthropic (explicit): up to 4 `cache_control` breakpoints over tools → system → messages; a
///   breakpoint's prefix is written when it reaches the model's minimum length; a later request
///   hits the longest cached prefix found at or up to 20 blocks before one of its breakpoints;
///   `ttl` 5m or 1h, refreshed on every hit. Usage follows the documented split: reads up to the
///   highest hit, 1h writes up to the last 1h breakpoint after it, 5m writes up to the last
///   breakpoint, and `input_tokens` only after that.
struct PromptCacheEmulator: Sendable {
    private var entries: [UInt64: Date] = [:]
    private let maximumEntries = 200_000

    struct AnthropicUsage: Equatable {
        var input: Int
        var cacheRead: Int
        var cacheWrite5m: Int
        var cacheWrite1h: Int
    }

    /// A cache entry to create or refresh once the request is admitted.
    struct Write: Sendable, Equatable {
        var key: UInt64
        var expiry: Date
    }

    /// A too-many-breakpoints request, which Anthropic refuses.
    struct TooManyBreakpoints: Error {
        var count: Int
    }

    /// Cached tokens for an OpenAI prompt, and the prefixes to record for next time.
    func planOpenAI(prompt: RenderedPrompt, scope: String, ttl: Duration, now: Date) -> (cached: Int, writes: [Write]) {
        let total = prompt.totalTokens
        guard total >= 1024 else { return (0, []) }
        let scalars = Array(prompt.text.unicodeScalars)
        var hash = StableHash()
        hash.combine(scope)
        var boundaries: [(tokens: Int, hash: UInt64)] = []
        var position = 0
        var boundary = 1024
        while boundary <= total {
            let end = min(scalars.count, boundary * 4)
            while position < end {
                hash.combine(UInt64(scalars[position].value))
                position += 1
            }
            boundaries.append((boundary, hash.value))
            boundary += 128
        }
        var cached = 0
        for (tokens, key) in boundaries where isAlive(key, now: now) {
            cached = tokens
        }
        let expiry = now.addingTimeInterval(ttl.secondsDouble)
        return (cached, boundaries.map { Write(key: $0.hash, expiry: expiry) })
    }

    /// Usage for an Anthropic prompt, and the breakpoint prefixes to record or refresh.
    /// - Throws: ``TooManyBreakpoints`` for more than 4 breakpoints.
    func planAnthropic(prompt: RenderedPrompt, scope: String, minimumTokens: Int, now: Date) throws(TooManyBreakpoints)
        -> (usage: AnthropicUsage, writes: [Write])
    {
        let total = prompt.totalTokens
        let breakpoints = prompt.blocks.indices.filter { prompt.blocks[$0].breakpoint != nil }
        guard breakpoints.count <= 4 else { throw TooManyBreakpoints(count: breakpoints.count) }
        guard !breakpoints.isEmpty else {
            return (AnthropicUsage(input: total, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0), [])
        }

        // Cumulative tokens and prefix hashes at the end of each block.
        var cumulative: [Int] = []
        var hashes: [UInt64] = []
        var hash = StableHash()
        hash.combine(scope)
        var running = 0
        for block in prompt.blocks {
            hash.combine(block.text)
            running += block.tokens
            cumulative.append(running)
            hashes.append(hash.value)
        }

        // A: the furthest block end whose prefix is cached, looking back 20 blocks from each breakpoint.
        var hitBlock: Int?
        for breakpoint in breakpoints {
            for block in stride(from: breakpoint, through: max(0, breakpoint - 19), by: -1)
            where isAlive(hashes[block], now: now) {
                hitBlock = max(hitBlock ?? block, block)
                break
            }
        }
        let read = hitBlock.map { cumulative[$0] } ?? 0

        // Writes: breakpoints after A whose prefix reaches the minimum.
        let writable = breakpoints.filter { $0 > (hitBlock ?? -1) && cumulative[$0] >= minimumTokens }
        var write1h = 0
        var write5m = 0
        var cachedThrough = read
        if let last = writable.last {
            let lastOneHour = writable.last { prompt.blocks[$0].breakpoint?.isOneHour == true }
            if let lastOneHour { write1h = cumulative[lastOneHour] - read }
            write5m = cumulative[last] - read - write1h
            cachedThrough = cumulative[last]
        }
        // Hits refresh their entry; writes create one, each for its own TTL.
        var writes: [Write] = []
        if let hitBlock {
            let ttl =
                breakpoints.first { $0 >= hitBlock }.flatMap { prompt.blocks[$0].breakpoint?.isOneHour } == true
                ? 3600.0 : 300.0
            writes.append(Write(key: hashes[hitBlock], expiry: now.addingTimeInterval(ttl)))
        }
        for breakpoint in writable {
            let ttl = prompt.blocks[breakpoint].breakpoint?.isOneHour == true ? 3600.0 : 300.0
            writes.append(Write(key: hashes[breakpoint], expiry: now.addingTimeInterval(ttl)))
        }
        let usage = AnthropicUsage(
            input: total - cachedThrough,
            cacheRead: read,
            cacheWrite5m: write5m,
            cacheWrite1h: write1h
        )
        return (usage, writes)
    }

    /// Records the writes of an admitted request.
    mutating func commit(_ writes: [Write]) {
        for write in writes { store(write.key, until: write.expiry) }
    }

    /// The smallest prefix Anthropic caches for a model (documentation of late 2025 and 2026;
    /// models it does not list use 1,024).
    static func anthropicMinimum(model: String) -> Int {
        if model.contains("opus-4-5") || model.contains("opus-4-6") || model.contains("haiku-4-5") { return 4096 }
        if model.contains("opus-4-7") || model.contains("haiku-3") || model.contains("3-5-haiku") { return 2048 }
        return 1024
    }

    private func isAlive(_ key: UInt64, now: Date) -> Bool {
        guard let expiry = entries[key] else { return false }
        return expiry > now
    }

    private mutating func store(_ key: UInt64, until expiry: Date) {
        if entries.count >= maximumEntries, entries[key] == nil {
            let now = expiry.addingTimeInterval(-3600)
            entries = entries.filter { $0.value > now }
            if entries.count >= maximumEntries { entries.removeAll(keepingCapacity: true) }
        }
        entries[key] = max(entries[key] ?? expiry, expiry)
    }
}
