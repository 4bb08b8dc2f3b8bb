import Foundation
import SwitchboardJournal
import SwitchboardWire

/// The one configuration file shared by the gateway, the console's playground and library users
/// (`switchboard.yaml`). Every key has a default, so an empty file runs on embedded defaults.
public struct SwitchboardConfiguration: Sendable {
    public var journal = Journal()
    public var state = State()
    /// Providers by name. The defaults are `openai` and `anthropic` at their public endpoints, with
    /// keys from `$OPENAI_API_KEY` and `$ANTHROPIC_API_KEY` when those are set.
    public var providers: [String: Provider] = Provider.defaults(ProcessInfo.processInfo.environment)
    /// Routes by the name callers use as `model`. The default is none: callers name provider models.
    public var routes: [String: Route] = [:]
    public var resilience = Resilience()
    public var cache = Cache()
    public var limits = Limits()
    public var budgets = Budgets()
    public var moderation = Moderation()
    public var validation = Validation()
    public var gateway = Gateway()
    public var pricing = Pricing()
    public var console = Console()
    /// The file this was read from, if any.
    public var source: String?

    public init() {}

    // MARK: - journal

    public struct Journal: Sendable {
        /// The default is `./switchboard.journal.sqlite`.
        public var path = "./switchboard.journal.sqlite"
        /// The default is `redacted`.
        public var storeBodies: StoredBodies = .redacted
        /// Commit a call's row before its response is released. The default is true.
        public var durable = true
        /// The default is 30.
        public var retentionDays = 30
        /// A group allowed to read the journal (mode 0640). The default is none (mode 0600).
        public var group: String?
        /// A cap on the journal file's size in bytes (SQLite's `max_page_count`): past it, writes
        /// fail as on a full disk until rows are pruned. The default is none.
        public var maxSize: Int?

        /// The journal's own configuration.
        public var journalConfiguration: JournalConfiguration {
            var configuration = JournalConfiguration(path: path)
            configuration.maximumPageCount = maxSize.map { max(1, $0 / SwitchboardJournal.Journal.pageSize) }
            configuration.storeBodies = storeBodies
            configuration.durable = durable
            configuration.retentionDays = retentionDays
            configuration.group = group
            return configuration
        }
    }

    // MARK: - state

    public struct State: Sendable {
        public enum Backend: String, Sendable, CaseIterable {
            case memory, sqlite, redis
        }

        /// What to do when Redis is unreachable: serve without the store (`open`) or refuse (`closed`).
        public enum Failure: String, Sendable, CaseIterable {
            case open, closed
        }

        /// The default is `sqlite`: shared by every process on the host.
        public var backend: Backend = .sqlite
        /// The default is `./switchboard.state.sqlite`.
        public var sqlitePath = "./switchboard.state.sqlite"
        /// The default is `redis://127.0.0.1:6379/0`.
        public var redisURL = "redis://127.0.0.1:6379/0"
        /// Put before every key, so several deployments (or tests) can share one Redis database.
        /// The default is `switchboard:`.
        public var redisPrefix = "switchboard:"
        /// How long a Redis command may take before the connection is given up (and the outage
        /// policy applies); a new connection may take this or 1 s, whichever is longer. The
        /// default is 500 ms.
        public var redisTimeout: Duration = .milliseconds(500)
        /// The defaults: cache open, limits open, budgets closed.
        public var onRedisDown = (cache: Failure.open, limits: Failure.open, budgets: Failure.closed)
    }

    // MARK: - providers

    public struct Provider: Sendable {
        /// Which API the provider speaks.
        public var kind: APIFormat
        /// The default is the provider's public endpoint.
        public var baseURL: String
        /// Keys, resolved from `${ENV}` or `file:PATH` references; the key pool.
        public var apiKeys: [Secret]
        /// Anthropic's `anthropic-version`. The default is `2023-06-01`.
        public var version = "2023-06-01"

        public init(kind: APIFormat, baseURL: String, apiKeys: [Secret] = []) {
            self.kind = kind
            self.baseURL = baseURL
            self.apiKeys = apiKeys
        }

        static func defaults(_ environment: [String: String]) -> [String: Provider] {
            func key(_ name: String) -> [Secret] {
                environment[name].flatMap { $0.isEmpty ? nil : [Secret(value: $0, source: "$\(name)")] } ?? []
            }
            return [
                "openai": Provider(kind: .openAI, baseURL: "https://api.openai.com", apiKeys: key("OPENAI_API_KEY")),
                "anthropic": Provider(
                    kind: .anthropic,
                    baseURL: "https://api.anthropic.com",
                    apiKeys: key("ANTHROPIC_API_KEY")
                ),
            ]
        }
    }

    // MARK: - routes

    /// A provider model a route sends to: `openai/gpt-4o-mini`.
    public struct Target: Sendable, Hashable, CustomStringConvertible {
        public var provider: String
        public var model: String

        public init(provider: String, model: String) {
            self.provider = provider
            self.model = model
        }

        public var description: String { "\(provider)/\(model)" }
    }

    public struct Route: Sendable {
        /// Tried in order: the first, then each fallback.
        public var targets: [Target]
        /// Exact-cache time to live for this route; the default is `cache.exact.default_ttl`.
        public var cacheTTL: Duration?
        public var validation: Validation?

        public init(targets: [Target], cacheTTL: Duration? = nil, validation: Validation? = nil) {
            self.targets = targets
            self.cacheTTL = cacheTTL
            self.validation = validation
        }

        public struct Validation: Sendable {
            public enum OnInvalid: String, Sendable, CaseIterable {
                case repair, fail, flag
            }

            public var schemaFile: String?
            /// The default is `repair`.
            public var onInvalid: OnInvalid = .repair
            /// The default is 2.
            public var maxRepairs = 2
            /// Parse-check the answer's fenced code blocks. The default is false.
            public var code = false
            /// Check the answer's numbers, dates, URLs and entities against the context. The
            /// default is false.
            public var grounding = false
            /// Custom validators (passed to the pipeline) by name. The default is none.
            public var custom: [String] = []

            public init() {}
        }
    }

    // MARK: - resilience

    public struct Resilience: Sendable {
        public var retry = Retry()
        public var retryBudget = RetryBudget()
        public var breaker = Breaker()
        public var pacing = Pacing()
        public var timeouts = Timeouts()

        public struct Retry: Sendable {
            /// Attempts per target, the first included. The default is 4.
            public var maxAttempts = 4
            /// The first backoff ceiling. The default is 500 ms.
            public var base: Duration = .milliseconds(500)
            /// The largest backoff ceiling. The default is 8 s.
            public var cap: Duration = .seconds(8)
            /// The longest `Retry-After` honoured; longer ones move to the next target. The default is 60 s.
            public var retryAfterCap: Duration = .seconds(60)
        }

        public struct RetryBudget: Sendable {
            /// Retries allowed per first attempt. The default is 0.1.
            public var ratio = 0.1
            /// Retries allowed per second regardless of traffic. The default is 1.
            public var minPerSecond = 1.0
        }

        public struct Breaker: Sendable {
            /// The sliding window failures are counted over. The default is 30 s.
            public var window: Duration = .seconds(30)
            /// Calls in the window before the breaker may open. The default is 20.
            public var minCalls = 20
            /// Failure share that opens it. The default is 0.5.
            public var failureRatio = 0.5
            /// How long it stays open before a probe. The default is 15 s.
            public var openFor: Duration = .seconds(15)
        }

        public struct Pacing: Sendable {
            /// Wait for provider headroom instead of earning a 429. The default is true.
            public var enabled = true
            /// The longest wait for headroom before routing on. The default is 10 s.
            public var maxWait: Duration = .seconds(10)
        }

        public struct Timeouts: Sendable {
            /// The default is 5 s.
            public var connect: Duration = .seconds(5)
            /// Until the response head. The default is 60 s.
            public var firstByte: Duration = .seconds(60)
            /// Between two stream events. The default is 30 s.
            public var idle: Duration = .seconds(30)
            /// The whole call, retries and fallbacks included. The default is 120 s.
            public var total: Duration = .seconds(120)
        }
    }

    // MARK: - cache

    public struct Cache: Sendable {
        public var exact = Exact()
        public var prompt = Prompt()

        public struct Exact: Sendable {
            /// The default is true.
            public var enabled = true
            /// The default is 1 hour.
            public var defaultTTL: Duration = .seconds(3600)
            /// Cache only deterministic requests (temperature 0 or a seed) unless opted in. The default is true.
            public var deterministicOnly = true
            /// In-memory LRU size in bytes. The default is 64 MiB.
            public var maxMemory = 64 << 20
            /// Streaming hits keep the original answer's pacing (its time to first token and its
            /// length) instead of arriving at once. The default is false.
            public var replayPacing = false
        }

        public struct Prompt: Sendable {
            public enum OpenAIKey: String, Sendable, CaseIterable {
                case perTenant = "per_tenant"
                case perUser = "per_user"
                case off
            }

            /// The default is true.
            public var anthropicAutoBreakpoints = true
            /// `5m` or `1h`. The default is 5 minutes.
            public var ttl: Duration = .seconds(300)
            /// `ttl: auto`: Anthropic breakpoints start at 5 minutes and turn to an hour for a
            /// prefix that comes back after its 5-minute entry has gone, but within the hour.
            public var ttlAuto = false
            /// The default is `per_tenant`.
            public var openAIPromptCacheKey: OpenAIKey = .perTenant
            /// Sends requests with the same long prefix (tools and system prompt) to the key of the
            /// pool that served it last, where the provider holds it cached (each key's
            /// organisation has a cache of its own). The default is true.
            public var keyAffinity = true
            /// The share of headroom under which that key is passed over for the best one (the
            /// cache is rebuilt there). The default is 0.2.
            public var affinityFloor = 0.2
        }
    }

    // MARK: - limits

    public struct Limits: Sendable {
        public struct UserLimits: Sendable, Equatable {
            public var rpm: Int
            public var tpm: Int
            public var maxOutputTokens: Int?

            public init(rpm: Int, tpm: Int, maxOutputTokens: Int? = nil) {
                self.rpm = rpm
                self.tpm = tpm
                self.maxOutputTokens = maxOutputTokens
            }
        }

        /// What a request over its output cap gets.
        public enum OverCap: String, Sendable, CaseIterable {
            /// Its `max_tokens` is lowered to the cap (and set when absent).
            case clamp
            /// It is refused with `bad_request`.
            case refuse
        }

        /// The defaults are 60 requests and 100,000 tokens per minute, 4,096 output tokens per request.
        public var defaultUser = UserLimits(rpm: 60, tpm: 100_000, maxOutputTokens: 4096)
        /// Callers without a user, keyed by IP. The defaults are 10 requests and 10,000 tokens per minute.
        public var anonymous = UserLimits(rpm: 10, tpm: 10_000, maxOutputTokens: nil)
        /// Count without refusing. The default is false.
        public var shadow = false
        /// Limits of named users, instead of `defaultUser`. The default is none.
        public var users: [String: UserLimits] = [:]
        /// Per-user limits on a route, instead of the user's. The default is none.
        public var routes: [String: UserLimits] = [:]
        /// The default is `clamp`.
        public var overOutputCap: OverCap = .clamp
    }

    // MARK: - budgets

    public struct Budgets: Sendable {
        public enum Period: String, Sendable, CaseIterable {
            case month, week, day

            /// `monthly`, `weekly`, `daily`: as messages say it.
            public var adjective: String {
                switch self {
                case .month: "monthly"
                case .week: "weekly"
                case .day: "daily"
                }
            }
        }

        /// A hard limit (calls are refused past it) and a soft one (an event and a console mark),
        /// in nano-USD per period.
        public struct Limit: Sendable, Equatable {
            public var hardNanoUSD: Int64
            public var softNanoUSD: Int64

            public init(hardNanoUSD: Int64, softNanoUSD: Int64) {
                self.hardNanoUSD = hardNanoUSD
                self.softNanoUSD = softNanoUSD
            }
        }

        /// The default is the UTC calendar month.
        public var period: Period = .month
        /// Every user without a budget of their own. The defaults are a hard limit of $50.00 and
        /// a warning at $40.00.
        public var defaultUser = Limit(hardNanoUSD: 50_000_000_000, softNanoUSD: 40_000_000_000)
        /// Budgets of named users. The default is none.
        public var users: [String: Limit] = [:]
        /// Budgets of tenants, over all their users. The default is none (tenants are unlimited).
        public var tenants: [String: Limit] = [:]

        public init() {}

        /// Dollars (`25`, `12.50`, `$3`) as nano-dollars, exactly; `nil` for anything else.
        public static func nanoUSD(_ text: String) -> Int64? { NanoUSD.parse(text) }
    }

    // MARK: - moderation

    public struct Moderation: Sendable {
        public enum Action: String, Sendable, CaseIterable {
            case block, flag, allow
        }

        /// Local rules are always on; the default is true.
        public var localEnabled = true
        /// Also ask OpenAI's moderation endpoint. The default is false.
        public var openAIEnabled = false
        /// The default is `omni-moderation-latest`.
        public var openAIModel = "omni-moderation-latest"
        /// When the endpoint fails. The default is `open`.
        public var onFailure: State.Failure = .open
        /// The action for categories not listed. The default is `flag`.
        public var defaultAction: Action = .flag
        /// Categories that block. The default is the four most severe.
        public var block = ["sexual/minors", "self-harm/instructions", "violence/graphic", "illicit/violent"]
        /// The defaults are `flag`.
        public var promptInjection: Action = .flag
        public var pii: Action = .flag
        /// The score (0…1) at which a category counts. The default is 0.5.
        public var threshold = 0.5
        /// Per-category scores, instead of `threshold`. The default is none.
        public var thresholds: [String: Double] = [:]

        public init() {}
    }

    // MARK: - validation

    /// How answers are checked where the request brings a schema (`response_format`, tool
    /// schemas), and what the route-level checks (`routes.NAME.validate`) use.
    public struct Validation: Sendable {
        /// For request schemas: `repair`, `fail` or `flag`. The default is `repair`.
        public var onInvalid: Route.Validation.OnInvalid = .repair
        /// The default is 1.
        public var maxRepairs = 1
        /// Code-block checkers by language: the command's arguments, `{file}` for the block's file.
        /// The default is none (JSON and YAML are always checked).
        public var commands: [String: [String]] = [:]
        /// The default is 5 s.
        public var commandTimeout: Duration = .seconds(5)
        /// Names grounding checks: the answer may use them only when the context does. The
        /// default is none.
        public var entities: [String] = []
        /// Files counted as context by grounding checks. The default is none.
        public var knowledgeDirectory: String?

        public init() {}
    }

    // MARK: - gateway

    public struct Gateway: Sendable {
        /// The default is `127.0.0.1:8080`.
        public var listen = "127.0.0.1:8080"
        /// The default is 4 MiB.
        public var maxBody = 4 << 20
        /// Trust `x-switchboard-user` from every key (otherwise per key). The default is false.
        public var trustedUserHeader = false
        /// Serve callers without a key, limited by their address (`limits.anonymous`). The
        /// default is false: every request needs a virtual key.
        public var allowAnonymous = false
        /// Serve `/metrics`. The default is true.
        public var metrics = true
        /// On shutdown, how long in-flight requests may take to finish. The default is 30 s.
        public var drainTimeout: Duration = .seconds(30)
    }

    // MARK: - pricing and console

    public struct Pricing: Sendable {
        /// The default is none.
        public var overridesFile: String?
    }

    public struct Console: Sendable {
        /// Playground calls are billed to this user. The default is the login name.
        public var user: String
        /// The default is `default`.
        public var theme = "default"
        /// How often the journal is checked. The default is 150 ms.
        public var refresh: Duration = .milliseconds(150)

        public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
            user = [environment["USER"], environment["LOGNAME"]].compactMap { $0 }.first { !$0.isEmpty } ?? "operator"
        }
    }
}
