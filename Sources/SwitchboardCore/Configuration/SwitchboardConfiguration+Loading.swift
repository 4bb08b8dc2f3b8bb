import Foundation
import SwitchboardConfigReader
import SwitchboardJournal
import SwitchboardRedis
import SwitchboardWire

extension SwitchboardConfiguration {
    /// Reads a configuration file, applies `SWITCHBOARD__SECTION__KEY` environment overrides
    /// (double underscores between keys: `SWITCHBOARD__JOURNAL__PATH=/var/lib/sb.sqlite`), and
    /// validates everything once.
    /// - Parameter path: the file; `nil` runs on the embedded defaults (plus overrides).
    /// - Throws: ``ConfigError`` naming the file, line and key.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigError)
        -> SwitchboardConfiguration
    {
        var root =
            try path.map { path throws(ConfigError) in try ConfigNode.load(path: path) } ?? .emptyMapping(file: nil)
        root = try root.applyingEnvironmentOverrides(environment, prefix: "SWITCHBOARD__")
        var configuration = try SwitchboardConfiguration(yaml: root, environment: environment)
        configuration.source = path
        return configuration
    }

    /// Reads a parsed configuration document; absent keys keep their defaults.
    /// - Parameter environment: what `${NAME}` references read.
    public init(yaml root: ConfigNode, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigError)
    {
        self.init()
        providers = Provider.defaults(environment)
        console = Console(environment: environment)
        try root.requireKnownKeys([
            "journal", "state", "providers", "routes", "resilience", "cache", "limits", "budgets", "moderation",
            "validation", "gateway",
            "pricing", "console",
        ])
        if let node = try root.member("journal") { try readJournal(node, environment) }
        if let node = try root.member("state") { try readState(node, environment) }
        if let node = try root.member("providers") { try readProviders(node, environment) }
        if let node = try root.member("routes") { try readRoutes(node, environment) }
        if let node = try root.member("resilience") { try readResilience(node, environment) }
        if let node = try root.member("cache") { try readCache(node, environment) }
        if let node = try root.member("limits") { try readLimits(node, environment) }
        if let node = try root.member("budgets") { try readBudgets(node, environment) }
        if let node = try root.member("moderation") { try readModeration(node, environment) }
        if let node = try root.member("validation") { try readValidation(node, environment) }
        if let node = try root.member("gateway") { try readGateway(node, environment) }
        if let node = try root.member("pricing") {
            try node.requireKnownKeys(["overrides_file"])
            pricing.overridesFile = try node.member("overrides_file")?.expandedString(environment)
        }
        if let node = try root.member("console") {
            try node.requireKnownKeys(["user", "theme", "refresh"])
            if let value = try node.member("user") { console.user = try value.expandedString(environment) }
            if let value = try node.member("theme") { console.theme = try value.expandedString(environment) }
            if let value = try node.member("refresh") { console.refresh = try value.duration() }
        }
    }

    private mutating func readJournal(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["path", "store_bodies", "durable", "retention_days", "group", "max_size"])
        if let value = try node.member("path") { journal.path = try value.expandedString(environment) }
        if let value = try node.member("store_bodies") {
            journal.storeBodies = StoredBodies(rawValue: try value.oneOf(StoredBodies.allCases.map(\.rawValue)))!
        }
        if let value = try node.member("durable") { journal.durable = try value.bool() }
        if let value = try node.member("retention_days") { journal.retentionDays = try value.positiveInt() }
        if let value = try node.member("group") { journal.group = try value.expandedString(environment) }
        if let value = try node.member("max_size") {
            let bytes = try value.byteSize()
            guard bytes >= 1 << 20 else { throw value.error("the journal needs at least 1MB; got \(bytes) bytes") }
            journal.maxSize = bytes
        }
    }

    private mutating func readState(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys([
            "backend", "sqlite_path", "redis_url", "redis_prefix", "redis_timeout", "on_redis_down",
        ])
        if let value = try node.member("backend") {
            state.backend = State.Backend(rawValue: try value.oneOf(State.Backend.allCases.map(\.rawValue)))!
        }
        if let value = try node.member("sqlite_path") { state.sqlitePath = try value.expandedString(environment) }
        if let value = try node.member("redis_url") {
            let url = try value.expandedString(environment)
            do {
                _ = try RedisURL(url)
            } catch {
                throw value.error(error.description)
            }
            state.redisURL = url
        }
        if let value = try node.member("redis_prefix") { state.redisPrefix = try value.expandedString(environment) }
        if let value = try node.member("redis_timeout") { state.redisTimeout = try value.duration() }
        if let down = try node.member("on_redis_down") {
            try down.requireKnownKeys(["cache", "limits", "budgets"])
            let choices = State.Failure.allCases.map(\.rawValue)
            if let value = try down.member("cache") {
                state.onRedisDown.cache = State.Failure(rawValue: try value.oneOf(choices))!
                guard state.onRedisDown.cache == .open else {
                    throw value.error(
                        "the cache always fails open (a lookup Redis cannot answer is a miss, and the call goes to the provider); write 'open' or leave it out"
                    )
                }
            }
            if let value = try down.member("limits") {
                state.onRedisDown.limits = State.Failure(rawValue: try value.oneOf(choices))!
            }
            if let value = try down.member("budgets") {
                state.onRedisDown.budgets = State.Failure(rawValue: try value.oneOf(choices))!
            }
        }
    }

    private mutating func readProviders(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        for (name, settings) in try node.members() {
            try settings.requireKnownKeys(["kind", "base_url", "api_key", "api_keys", "version"])
            var provider = providers[name]
            if let kindNode = try settings.member("kind") {
                let kind = APIFormat(rawValue: try kindNode.oneOf(APIFormat.allCases.map(\.rawValue)))!
                provider = provider ?? Provider(kind: kind, baseURL: "")
                provider?.kind = kind
            }
            guard var provider else {
                throw settings.error("say which API the provider '\(name)' speaks: kind: openai or kind: anthropic")
            }
            if let value = try settings.member("base_url") {
                let url = try value.expandedString(environment)
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw value.error("expected an http:// or https:// URL, got '\(url)'")
                }
                provider.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
            var keys: [ConfigNode] = []
            let single = try settings.member("api_key")
            let several = try settings.member("api_keys")
            if let single { keys.append(single) }
            if let several { keys += try several.elements() }
            if single != nil || several != nil { provider.apiKeys = [] }
            for key in keys {
                let text = try key.string()
                do {
                    provider.apiKeys.append(try Secret.resolve(text, environment: environment))
                } catch {
                    throw key.error(error.message)
                }
            }
            if let value = try settings.member("version") { provider.version = try value.expandedString(environment) }
            guard !provider.baseURL.isEmpty else { throw settings.error("the provider '\(name)' needs a base_url") }
            providers[name] = provider
        }
    }

    private mutating func readRoutes(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        for (name, settings) in try node.members() {
            try settings.requireKnownKeys(["targets", "cache", "validate"])
            guard let targetsNode = try settings.member("targets") else {
                throw settings.error("a route needs targets: [provider/model, …]")
            }
            var route = Route(targets: [])
            for element in try targetsNode.elements() {
                let text = try element.string()
                guard let target = target(text) else {
                    throw element.error(
                        "cannot tell which provider serves '\(text)'; write it as provider/model (providers: \(providers.keys.sorted().joined(separator: ", ")))"
                    )
                }
                route.targets.append(target)
            }
            guard !route.targets.isEmpty else { throw targetsNode.error("a route needs at least one target") }
            if let cache = try settings.member("cache") {
                try cache.requireKnownKeys(["ttl"])
                route.cacheTTL = try cache.member("ttl")?.duration()
            }
            if let validate = try settings.member("validate") {
                try validate.requireKnownKeys([
                    "schema_file", "on_invalid", "max_repairs", "code", "grounding", "custom",
                ])
                var validation = Route.Validation()
                validation.schemaFile = try validate.member("schema_file")?.expandedString(environment)
                if let value = try validate.member("on_invalid") {
                    validation.onInvalid = Route.Validation.OnInvalid(
                        rawValue: try value.oneOf(Route.Validation.OnInvalid.allCases.map(\.rawValue))
                    )!
                }
                if let value = try validate.member("max_repairs") { validation.maxRepairs = try value.int() }
                if let value = try validate.member("code") { validation.code = try value.bool() }
                if let value = try validate.member("grounding") { validation.grounding = try value.bool() }
                if let value = try validate.member("custom") {
                    validation.custom = try value.elements().map { (element) throws(ConfigError) in try element.string()
                    }
                }
                route.validation = validation
            }
            routes[name] = route
        }
    }

    /// `openai/gpt-4o-mini`, or a bare model whose provider is known by its name.
    public func target(_ text: String) -> Target? {
        if let slash = text.firstIndex(of: "/") {
            let provider = String(text[..<slash])
            let model = String(text[text.index(after: slash)...])
            guard providers[provider] != nil, !model.isEmpty else { return nil }
            return Target(provider: provider, model: model)
        }
        guard let kind = Self.providerKind(ofModel: text),
            let name = providers.filter({ $0.value.kind == kind }).keys.sorted().first
        else { return nil }
        return Target(provider: name, model: text)
    }

    /// Which API serves a model, by its name: `gpt-`, `o1`/`o3`/`o4`, `chatgpt-` → OpenAI;
    /// `claude-` → Anthropic.
    public static func providerKind(ofModel model: String) -> APIFormat? {
        if model.hasPrefix("claude") { return .anthropic }
        if model.hasPrefix("gpt-") || model.hasPrefix("chatgpt-") || model.hasPrefix("omni-moderation") {
            return .openAI
        }
        if model.count >= 2, model.first == "o", model.dropFirst().first?.isNumber == true { return .openAI }
        return nil
    }

    private mutating func readResilience(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["retry", "retry_budget", "breaker", "pacing", "timeouts"])
        if let retry = try node.member("retry") {
            try retry.requireKnownKeys(["max_attempts", "base", "cap", "jitter", "retry_after_cap"])
            if let value = try retry.member("max_attempts") { resilience.retry.maxAttempts = try value.positiveInt() }
            if let value = try retry.member("base") { resilience.retry.base = try value.duration() }
            if let value = try retry.member("cap") { resilience.retry.cap = try value.duration() }
            if let value = try retry.member("jitter") { _ = try value.oneOf(["full"]) }
            if let value = try retry.member("retry_after_cap") { resilience.retry.retryAfterCap = try value.duration() }
        }
        if let budget = try node.member("retry_budget") {
            try budget.requireKnownKeys(["ratio", "min_per_second"])
            if let value = try budget.member("ratio") { resilience.retryBudget.ratio = try value.fraction() }
            if let value = try budget.member("min_per_second") {
                resilience.retryBudget.minPerSecond = try value.double()
            }
        }
        if let breaker = try node.member("breaker") {
            try breaker.requireKnownKeys(["window", "min_calls", "failure_ratio", "open_for"])
            if let value = try breaker.member("window") { resilience.breaker.window = try value.duration() }
            if let value = try breaker.member("min_calls") { resilience.breaker.minCalls = try value.positiveInt() }
            if let value = try breaker.member("failure_ratio") {
                resilience.breaker.failureRatio = try value.fraction()
            }
            if let value = try breaker.member("open_for") { resilience.breaker.openFor = try value.duration() }
        }
        if let pacing = try node.member("pacing") {
            try pacing.requireKnownKeys(["enabled", "max_wait"])
            if let value = try pacing.member("enabled") { resilience.pacing.enabled = try value.bool() }
            if let value = try pacing.member("max_wait") { resilience.pacing.maxWait = try value.duration() }
        }
        if let timeouts = try node.member("timeouts") {
            try timeouts.requireKnownKeys(["connect", "first_byte", "idle", "total"])
            if let value = try timeouts.member("connect") { resilience.timeouts.connect = try value.positiveDuration() }
            if let value = try timeouts.member("first_byte") {
                resilience.timeouts.firstByte = try value.positiveDuration()
            }
            if let value = try timeouts.member("idle") { resilience.timeouts.idle = try value.positiveDuration() }
            if let value = try timeouts.member("total") { resilience.timeouts.total = try value.positiveDuration() }
        }
    }

    private mutating func readCache(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["exact", "prompt"])
        if let exact = try node.member("exact") {
            try exact.requireKnownKeys(["enabled", "default_ttl", "deterministic_only", "max_memory", "replay_pacing"])
            if let value = try exact.member("replay_pacing") { cache.exact.replayPacing = try value.bool() }
            if let value = try exact.member("enabled") { cache.exact.enabled = try value.bool() }
            if let value = try exact.member("default_ttl") { cache.exact.defaultTTL = try value.duration() }
            if let value = try exact.member("deterministic_only") { cache.exact.deterministicOnly = try value.bool() }
            if let value = try exact.member("max_memory") { cache.exact.maxMemory = try value.byteSize() }
        }
        if let prompt = try node.member("prompt") {
            try prompt.requireKnownKeys([
                "anthropic_auto_breakpoints", "ttl", "openai_prompt_cache_key", "key_affinity", "affinity_floor",
            ])
            if let value = try prompt.member("key_affinity") { cache.prompt.keyAffinity = try value.bool() }
            if let value = try prompt.member("affinity_floor") { cache.prompt.affinityFloor = try value.fraction() }
            if let value = try prompt.member("anthropic_auto_breakpoints") {
                cache.prompt.anthropicAutoBreakpoints = try value.bool()
            }
            if let value = try prompt.member("ttl") {
                let ttl = try value.oneOf(["5m", "1h", "auto"])
                cache.prompt.ttl = ttl == "1h" ? .seconds(3600) : .seconds(300)
                cache.prompt.ttlAuto = ttl == "auto"
            }
            if let value = try prompt.member("openai_prompt_cache_key") {
                cache.prompt.openAIPromptCacheKey = Cache.Prompt.OpenAIKey(
                    rawValue: try value.oneOf(Cache.Prompt.OpenAIKey.allCases.map(\.rawValue))
                )!
            }
        }
    }

    private mutating func readLimits(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["default_user", "anonymous", "shadow", "users", "routes", "over_output_cap"])
        func userLimits(_ node: ConfigNode, _ base: Limits.UserLimits, keys: [String]) throws(ConfigError)
            -> Limits.UserLimits
        {
            try node.requireKnownKeys(keys)
            var limits = base
            if let value = try node.member("rpm") { limits.rpm = try value.positiveInt() }
            if let value = try node.member("tpm") { limits.tpm = try value.positiveInt() }
            if let value = try node.member("max_output_tokens") { limits.maxOutputTokens = try value.positiveInt() }
            return limits
        }
        if let value = try node.member("default_user") {
            limits.defaultUser = try userLimits(value, limits.defaultUser, keys: ["rpm", "tpm", "max_output_tokens"])
        }
        if let value = try node.member("anonymous") {
            if let key = try value.member("key") { _ = try key.oneOf(["ip"]) }
            limits.anonymous = try userLimits(
                value,
                limits.anonymous,
                keys: ["key", "rpm", "tpm", "max_output_tokens"]
            )
        }
        if let value = try node.member("shadow") { limits.shadow = try value.bool() }
        for (key, base) in [("users", limits.defaultUser), ("routes", limits.defaultUser)] {
            guard let section = try node.member(key) else { continue }
            for (name, value) in try section.members() {
                let parsed = try userLimits(value, base, keys: ["rpm", "tpm", "max_output_tokens"])
                if key == "users" { limits.users[name] = parsed } else { limits.routes[name] = parsed }
            }
        }
        if let value = try node.member("over_output_cap") {
            limits.overOutputCap = Limits.OverCap(rawValue: try value.oneOf(Limits.OverCap.allCases.map(\.rawValue)))!
        }
    }

    private mutating func readBudgets(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["period", "default_user", "users", "tenants"])
        if let value = try node.member("period") {
            budgets.period = Budgets.Period(rawValue: try value.oneOf(Budgets.Period.allCases.map(\.rawValue)))!
        }
        /// `{ hard: 50, soft: 40 }`; a missing soft limit is 80 % of the hard one.
        func limit(_ node: ConfigNode, default fallback: Budgets.Limit?) throws(ConfigError) -> Budgets.Limit {
            try node.requireKnownKeys(["hard", "soft"])
            let hard = try node.member("hard")?.dollars() ?? fallback?.hardNanoUSD
            guard let hard else {
                throw node.error("a budget needs a hard limit in dollars, e.g. { hard: 100, soft: 80 }")
            }
            let soft = try node.member("soft")?.dollars() ?? (fallback?.softNanoUSD ?? hard / 5 * 4)
            guard soft <= hard else { throw node.error("the soft budget must not exceed the hard one") }
            return Budgets.Limit(hardNanoUSD: hard, softNanoUSD: soft)
        }
        if let user = try node.member("default_user") {
            budgets.defaultUser = try limit(user, default: budgets.defaultUser)
        }
        if let users = try node.member("users") {
            for (name, value) in try users.members() { budgets.users[name] = try limit(value, default: nil) }
        }
        if let tenants = try node.member("tenants") {
            for (name, value) in try tenants.members() { budgets.tenants[name] = try limit(value, default: nil) }
        }
    }

    private mutating func readModeration(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys(["local", "openai", "policy"])
        let actions = Moderation.Action.allCases.map(\.rawValue)
        if let local = try node.member("local") {
            try local.requireKnownKeys(["enabled"])
            if let value = try local.member("enabled") { moderation.localEnabled = try value.bool() }
        }
        if let openAI = try node.member("openai") {
            try openAI.requireKnownKeys(["enabled", "model", "on_failure"])
            if let value = try openAI.member("enabled") { moderation.openAIEnabled = try value.bool() }
            if let value = try openAI.member("model") { moderation.openAIModel = try value.expandedString(environment) }
            if let value = try openAI.member("on_failure") {
                moderation.onFailure = State.Failure(rawValue: try value.oneOf(["open", "closed"]))!
            }
        }
        if let policy = try node.member("policy") {
            try policy.requireKnownKeys(["default", "block", "prompt_injection", "pii", "threshold", "thresholds"])
            if let value = try policy.member("default") {
                moderation.defaultAction = Moderation.Action(rawValue: try value.oneOf(actions))!
            }
            if let value = try policy.member("block") {
                let categories = OpenAI.ModerationCategory.allCases.map(\.rawValue)
                var blocked: [String] = []
                for element in try value.elements() { blocked.append(try element.oneOf(categories)) }
                moderation.block = blocked
            }
            if let value = try policy.member("prompt_injection") {
                moderation.promptInjection = Moderation.Action(rawValue: try value.oneOf(actions))!
            }
            if let value = try policy.member("pii") {
                moderation.pii = Moderation.Action(rawValue: try value.oneOf(actions))!
            }
            func score(_ node: ConfigNode) throws(ConfigError) -> Double {
                let value = try node.double()
                guard (0...1).contains(value) else {
                    throw node.error("a score threshold is between 0 and 1, got \(value)")
                }
                return value
            }
            if let value = try policy.member("threshold") { moderation.threshold = try score(value) }
            if let section = try policy.member("thresholds") {
                let categories = OpenAI.ModerationCategory.allCases.map(\.rawValue) + ["prompt_injection", "pii"]
                for (name, value) in try section.members() {
                    guard categories.contains(name) else {
                        throw value.error(
                            "unknown moderation category '\(name)'; one of \(categories.joined(separator: ", "))"
                        )
                    }
                    moderation.thresholds[name] = try score(value)
                }
            }
        }
    }

    private mutating func readValidation(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys([
            "on_invalid", "max_repairs", "commands", "command_timeout", "entities", "knowledge_dir",
        ])
        if let value = try node.member("on_invalid") {
            validation.onInvalid = Route.Validation.OnInvalid(
                rawValue: try value.oneOf(Route.Validation.OnInvalid.allCases.map(\.rawValue))
            )!
        }
        if let value = try node.member("max_repairs") { validation.maxRepairs = try value.int() }
        if let value = try node.member("commands") {
            for (language, command) in try value.members() {
                let arguments = try command.elements().map { (element) throws(ConfigError) in try element.string() }
                guard !arguments.isEmpty else {
                    throw command.error("a checker needs a command: [python3, -m, py_compile, \"{file}\"]")
                }
                validation.commands[language.lowercased()] = arguments
            }
        }
        if let value = try node.member("command_timeout") { validation.commandTimeout = try value.duration() }
        if let value = try node.member("entities") {
            validation.entities = try value.elements().map { (element) throws(ConfigError) in try element.string() }
        }
        if let value = try node.member("knowledge_dir") {
            validation.knowledgeDirectory = try value.expandedString(environment)
        }
    }

    private mutating func readGateway(_ node: ConfigNode, _ environment: [String: String]) throws(ConfigError) {
        try node.requireKnownKeys([
            "listen", "max_body", "trusted_user_header", "allow_anonymous", "metrics", "drain_timeout",
        ])
        if let value = try node.member("listen") {
            let listen = try value.expandedString(environment)
            guard let colon = listen.lastIndex(of: ":"), Int(listen[listen.index(after: colon)...]) != nil else {
                throw value.error("expected host:port, got '\(listen)'")
            }
            gateway.listen = listen
        }
        if let value = try node.member("max_body") { gateway.maxBody = try value.byteSize() }
        if let value = try node.member("trusted_user_header") { gateway.trustedUserHeader = try value.bool() }
        if let value = try node.member("allow_anonymous") { gateway.allowAnonymous = try value.bool() }
        if let value = try node.member("metrics") { gateway.metrics = try value.bool() }
        if let value = try node.member("drain_timeout") { gateway.drainTimeout = try value.duration() }
    }
}

extension ConfigNode {
    /// A text value with `${NAME}` and `${NAME:-default}` replaced from the environment.
    func expandedString(_ environment: [String: String]) throws(ConfigError) -> String {
        var text = try string()
        while let open = text.range(of: "${"), let close = text[open.upperBound...].firstIndex(of: "}") {
            let reference = String(text[open.upperBound..<close])
            let parts = reference.components(separatedBy: ":-")
            let name = parts[0]
            guard let value = environment[name].flatMap({ $0.isEmpty ? nil : $0 }) ?? (parts.count > 1 ? parts[1] : nil)
            else {
                throw error("the environment variable \(name) is not set; export it or write ${\(name):-default}")
            }
            text.replaceSubrange(open.lowerBound...close, with: value)
        }
        return text
    }

    func positiveInt() throws(ConfigError) -> Int {
        let value = try int()
        guard value > 0 else { throw error("must be a positive integer, got \(value)") }
        return value
    }

    func fraction() throws(ConfigError) -> Double {
        let value = try double()
        guard (0...1).contains(value) else { throw error("must be between 0 and 1, got \(value)") }
        return value
    }

    func positiveDuration() throws(ConfigError) -> Duration {
        let value = try duration()
        guard value > .zero else { throw error("must be longer than zero") }
        return value
    }

    /// Dollars (`50`, `50.00`, `$12.5`) as nano-USD, exactly.
    func dollars() throws(ConfigError) -> Int64 {
        let text = try string()
        guard let nanoUSD = NanoUSD.parse(text) else {
            throw error(
                "expected an amount in dollars such as 50 or 12.50, got '\(text.trimmingCharacters(in: .whitespaces))'"
            )
        }
        return nanoUSD
    }
}
