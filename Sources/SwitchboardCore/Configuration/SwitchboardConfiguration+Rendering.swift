import SwitchboardJournal
import SwitchboardWire

extension SwitchboardConfiguration {
    /// The effective configuration as YAML in the file's own shape, keys masked to their
    /// fingerprints: what `switchboard config check` prints. Reading it back gives the same
    /// configuration, except for the masked keys.
    public var renderedYAML: String {
        var out = YAMLLines()
        out.section("journal") {
            $0.value("path", journal.path)
            $0.value("store_bodies", journal.storeBodies.rawValue)
            $0.value("durable", journal.durable)
            $0.value("retention_days", journal.retentionDays)
            if let group = journal.group { $0.value("group", group) }
            if let maxSize = journal.maxSize { $0.value("max_size", Self.byteSize(maxSize)) }
        }
        out.section("state") {
            $0.value("backend", state.backend.rawValue)
            $0.value("sqlite_path", state.sqlitePath)
            $0.value("redis_url", Secret.maskingPassword(inURL: state.redisURL))
            $0.value("redis_prefix", state.redisPrefix)
            $0.value("redis_timeout", GoDuration.format(state.redisTimeout))
            $0.flow(
                "on_redis_down",
                [
                    ("cache", state.onRedisDown.cache.rawValue), ("limits", state.onRedisDown.limits.rawValue),
                    ("budgets", state.onRedisDown.budgets.rawValue),
                ]
            )
        }
        out.section("providers") {
            for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
                $0.section(name) {
                    $0.value("kind", provider.kind.rawValue)
                    $0.value("base_url", provider.baseURL)
                    $0.list(
                        "api_keys",
                        provider.apiKeys.map { "\($0.fingerprint)  # from \($0.source)" },
                        quoted: false
                    )
                    if provider.kind == .anthropic { $0.value("version", provider.version) }
                }
            }
        }
        out.section("routes") {
            for (name, route) in routes.sorted(by: { $0.key < $1.key }) {
                $0.section(name) {
                    $0.list("targets", route.targets.map(\.description))
                    if let ttl = route.cacheTTL { $0.flow("cache", [("ttl", GoDuration.format(ttl))]) }
                    if let validation = route.validation {
                        $0.flow(
                            "validate",
                            (validation.schemaFile.map { [("schema_file", $0)] } ?? []) + [
                                ("on_invalid", validation.onInvalid.rawValue), ("max_repairs", validation.maxRepairs),
                                ("code", validation.code), ("grounding", validation.grounding),
                            ] + (validation.custom.isEmpty ? [] : [("custom", FlowList(validation.custom))])
                        )
                    }
                }
            }
        }
        out.section("resilience") {
            let r = resilience
            $0.flow(
                "retry",
                [
                    ("max_attempts", r.retry.maxAttempts), ("base", GoDuration.format(r.retry.base)),
                    ("cap", GoDuration.format(r.retry.cap)), ("jitter", "full"),
                    ("retry_after_cap", GoDuration.format(r.retry.retryAfterCap)),
                ]
            )
            $0.flow("retry_budget", [("ratio", r.retryBudget.ratio), ("min_per_second", r.retryBudget.minPerSecond)])
            $0.flow(
                "breaker",
                [
                    ("window", GoDuration.format(r.breaker.window)), ("min_calls", r.breaker.minCalls),
                    ("failure_ratio", r.breaker.failureRatio), ("open_for", GoDuration.format(r.breaker.openFor)),
                ]
            )
            $0.flow("pacing", [("enabled", r.pacing.enabled), ("max_wait", GoDuration.format(r.pacing.maxWait))])
            $0.flow(
                "timeouts",
                [
                    ("connect", GoDuration.format(r.timeouts.connect)),
                    ("first_byte", GoDuration.format(r.timeouts.firstByte)),
                    ("idle", GoDuration.format(r.timeouts.idle)), ("total", GoDuration.format(r.timeouts.total)),
                ]
            )
        }
        out.section("cache") {
            $0.flow(
                "exact",
                [
                    ("enabled", cache.exact.enabled), ("default_ttl", GoDuration.format(cache.exact.defaultTTL)),
                    ("deterministic_only", cache.exact.deterministicOnly),
                    ("max_memory", Self.byteSize(cache.exact.maxMemory)), ("replay_pacing", cache.exact.replayPacing),
                ]
            )
            $0.flow(
                "prompt",
                [
                    ("anthropic_auto_breakpoints", cache.prompt.anthropicAutoBreakpoints),
                    ("ttl", cache.prompt.ttlAuto ? "auto" : cache.prompt.ttl == .seconds(3600) ? "1h" : "5m"),
                    ("openai_prompt_cache_key", cache.prompt.openAIPromptCacheKey.rawValue),
                    ("key_affinity", cache.prompt.keyAffinity), ("affinity_floor", cache.prompt.affinityFloor),
                ]
            )
        }
        out.section("limits") {
            func fields(_ limits: Limits.UserLimits) -> [(String, any Sendable)] {
                var fields: [(String, any Sendable)] = [("rpm", limits.rpm), ("tpm", limits.tpm)]
                if let tokens = limits.maxOutputTokens { fields.append(("max_output_tokens", tokens)) }
                return fields
            }
            $0.flow("default_user", fields(limits.defaultUser))
            $0.flow("anonymous", [("key", "ip")] + fields(limits.anonymous))
            $0.value("shadow", limits.shadow)
            $0.value("over_output_cap", limits.overOutputCap.rawValue)
            for (title, entries) in [("users", limits.users), ("routes", limits.routes)] where !entries.isEmpty {
                $0.section(title) { out in
                    for (name, value) in entries.sorted(by: { $0.key < $1.key }) { out.flow(name, fields(value)) }
                }
            }
        }
        out.section("budgets") {
            $0.value("period", budgets.period.rawValue)
            func limit(_ limit: Budgets.Limit) -> [(String, any Sendable)] {
                [("hard", Self.dollars(limit.hardNanoUSD)), ("soft", Self.dollars(limit.softNanoUSD))]
            }
            $0.flow("default_user", limit(budgets.defaultUser))
            for (title, limits) in [("users", budgets.users), ("tenants", budgets.tenants)] where !limits.isEmpty {
                $0.section(title) { out in
                    for (name, value) in limits.sorted(by: { $0.key < $1.key }) { out.flow(name, limit(value)) }
                }
            }
        }
        out.section("moderation") {
            $0.flow("local", [("enabled", moderation.localEnabled)])
            $0.flow(
                "openai",
                [
                    ("enabled", moderation.openAIEnabled), ("model", moderation.openAIModel),
                    ("on_failure", moderation.onFailure.rawValue),
                ]
            )
            $0.section("policy") {
                $0.value("default", moderation.defaultAction.rawValue)
                $0.list("block", moderation.block)
                $0.value("prompt_injection", moderation.promptInjection.rawValue)
                $0.value("pii", moderation.pii.rawValue)
                $0.raw("threshold: \(moderation.threshold)")
                if !moderation.thresholds.isEmpty {
                    $0.flow(
                        "thresholds",
                        moderation.thresholds.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
                    )
                }
            }
        }
        out.section("validation") {
            $0.value("on_invalid", validation.onInvalid.rawValue)
            $0.value("max_repairs", validation.maxRepairs)
            $0.section("commands") { lines in
                for (language, command) in validation.commands.sorted(by: { $0.key < $1.key }) {
                    lines.flowList(language, command)
                }
            }
            $0.value("command_timeout", GoDuration.format(validation.commandTimeout))
            $0.list("entities", validation.entities)
            if let directory = validation.knowledgeDirectory { $0.value("knowledge_dir", directory) }
        }
        out.section("gateway") {
            $0.value("listen", gateway.listen)
            $0.value("max_body", Self.byteSize(gateway.maxBody))
            $0.value("trusted_user_header", gateway.trustedUserHeader)
            $0.value("allow_anonymous", gateway.allowAnonymous)
            $0.value("metrics", gateway.metrics)
            $0.value("drain_timeout", GoDuration.format(gateway.drainTimeout))
        }
        out.section("pricing") {
            if let file = pricing.overridesFile {
                $0.value("overrides_file", file)
            } else {
                $0.raw("overrides_file: null")
            }
        }
        out.section("console") {
            $0.value("user", console.user)
            $0.value("theme", console.theme)
            $0.value("refresh", GoDuration.format(console.refresh))
        }
        return out.text
    }

    /// `64MiB`, `512KiB`, or bytes when not a whole multiple.
    static func byteSize(_ bytes: Int) -> String {
        for (unit, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)"
    }

    /// Nano-USD as dollars with at least two decimals: `50.00`, `0.000125`.
    static func dollars(_ nanoUSD: Int64) -> String {
        let whole = nanoUSD / 1_000_000_000
        var fraction = String(nanoUSD % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}

/// Names in a flow mapping: `[a, b]` (identifiers, written plain).
private struct FlowList: Sendable, CustomStringConvertible {
    var names: [String]
    init(_ names: [String]) { self.names = names }
    var description: String { "[" + names.joined(separator: ", ") + "]" }
}

/// A small YAML writer for the rendered configuration: block sections, scalars quoted when
/// YAML would read them otherwise, and one-line flow mappings.
private struct YAMLLines {
    private(set) var text = ""
    private var indent = 0

    mutating func section(_ key: String, _ body: (inout YAMLLines) -> Void) {
        let start = text.endIndex
        raw("\(Self.key(key)):")
        let header = text.endIndex
        indent += 2
        body(&self)
        indent -= 2
        if text.endIndex == header {
            text.replaceSubrange(start..<header, with: String(repeating: " ", count: indent) + "\(Self.key(key)): {}\n")
        }
    }

    mutating func value(_ key: String, _ value: String) { raw("\(Self.key(key)): \(Self.scalar(value))") }
    mutating func value(_ key: String, _ value: Int) { raw("\(Self.key(key)): \(value)") }
    mutating func value(_ key: String, _ value: Bool) { raw("\(Self.key(key)): \(value)") }

    /// A one-line mapping; text values are quoted when needed, numbers and booleans are not.
    mutating func flow(_ key: String, _ fields: [(String, any Sendable)]) {
        let rendered = fields.map { field in
            "\(field.0): " + ((field.1 as? String).map { Self.scalar($0) } ?? "\(field.1)")
        }
        raw("\(Self.key(key)): { " + rendered.joined(separator: ", ") + " }")
    }

    /// A one-line list: `key: [a, "b c"]`.
    mutating func flowList(_ key: String, _ items: [String]) {
        raw("\(Self.key(key)): [" + items.map { Self.scalar($0) }.joined(separator: ", ") + "]")
    }

    mutating func list(_ key: String, _ items: [String], quoted: Bool = true) {
        if items.isEmpty { return raw("\(Self.key(key)): []") }
        raw("\(Self.key(key)):")
        for item in items { raw("  - " + (quoted ? Self.scalar(item) : item)) }
    }

    mutating func raw(_ line: String) {
        text += String(repeating: " ", count: indent) + line + "\n"
    }

    private static func key(_ key: String) -> String {
        key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
            ? key : scalar(key, force: true)
    }

    /// Plain when YAML reads it back as the same text, quoted otherwise.
    private static func scalar(_ text: String, force: Bool = false) -> String {
        let plainSafe =
            !force && !text.isEmpty
            && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./:@${}".contains($0) }
            && !text.hasPrefix("{") && !text.hasPrefix("@") && !text.hasSuffix(":") && !text.contains(": ")
            && !(text.first?.isNumber == true && text.allSatisfy { $0.isNumber || "-:".contains($0) })
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(text.lowercased())
        if plainSafe { return text }
        var escaped = "\""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}
