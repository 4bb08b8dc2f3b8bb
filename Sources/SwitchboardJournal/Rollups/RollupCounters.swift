import Foundation
import GRDB
import SwitchboardWire

/// One rollup row's figures: what the console's panes and `journal stats` read instead of raw rows.
public struct RollupCounters: Sendable, Equatable {
    public var calls = 0
    public var ok = 0
    public var errors = 0
    public var blocked = 0
    public var cached = 0
    public var rateLimited = 0
    public var budget = 0
    public var invalidOutput = 0
    /// Error class → calls that did not end ok or cached.
    public var errorClasses: [String: Int] = [:]
    public var cacheHits = 0
    public var cacheJoined = 0
    public var retried = 0
    public var fellBack = 0
    public var paced = 0
    public var inputTokens = 0
    public var cachedInputTokens = 0
    public var cacheWriteTokens = 0
    public var outputTokens = 0
    public var reasoningTokens = 0
    public var costNanoUSD: Int64 = 0
    public var costUnknown = 0
    public var savedNanoUSD: Int64 = 0
    public var latencySumMilliseconds = 0.0
    public var latency = LogHistogram()
    public var timeToFirstToken = LogHistogram()

    public init() {}

    /// Calls that did not end ok or cached.
    public var failures: Int { calls - ok - cached }

    public mutating func add(_ call: CallRecord) {
        add(RollupContribution(call))
    }

    /// Counts one call. Without `details`, the error classes and histograms are left alone: what
    /// an aggregate read without details holds.
    mutating func add(_ call: RollupContribution, details: Bool = true) {
        calls += 1
        switch call.outcome {
        case .ok: ok += 1
        case .error: errors += 1
        case .blocked: blocked += 1
        case .cached: cached += 1
        case .rateLimited: rateLimited += 1
        case .budget: budget += 1
        case .invalidOutput: invalidOutput += 1
        }
        if details, call.outcome != .ok, call.outcome != .cached {
            errorClasses[call.errorClass ?? call.outcome.rawValue, default: 0] += 1
        }
        if call.cache == .hit { cacheHits += 1 }
        if call.cache == .joined { cacheJoined += 1 }
        if call.attempts > 1 { retried += 1 }
        if call.fellBack { fellBack += 1 }
        if call.pacedMilliseconds > 0 { paced += 1 }
        inputTokens += call.tokens.input
        cachedInputTokens += call.tokens.cachedInput
        cacheWriteTokens += call.tokens.cacheWrite5m + call.tokens.cacheWrite1h
        outputTokens += call.tokens.output
        reasoningTokens += call.tokens.reasoning
        if let cost = call.costNanoUSD { costNanoUSD += cost } else { costUnknown += 1 }
        savedNanoUSD += call.savedNanoUSD
        if let latencyMilliseconds = call.latencyMilliseconds {
            latencySumMilliseconds += latencyMilliseconds
            if details { latency.record(latencyMilliseconds) }
        }
        if details, let ttft = call.timeToFirstTokenMilliseconds { timeToFirstToken.record(ttft) }
    }

    public mutating func merge(_ other: RollupCounters) {
        calls += other.calls
        ok += other.ok
        errors += other.errors
        blocked += other.blocked
        cached += other.cached
        rateLimited += other.rateLimited
        budget += other.budget
        invalidOutput += other.invalidOutput
        for (name, count) in other.errorClasses { errorClasses[name, default: 0] += count }
        cacheHits += other.cacheHits
        cacheJoined += other.cacheJoined
        retried += other.retried
        fellBack += other.fellBack
        paced += other.paced
        inputTokens += other.inputTokens
        cachedInputTokens += other.cachedInputTokens
        cacheWriteTokens += other.cacheWriteTokens
        outputTokens += other.outputTokens
        reasoningTokens += other.reasoningTokens
        costNanoUSD += other.costNanoUSD
        costUnknown += other.costUnknown
        savedNanoUSD += other.savedNanoUSD
        latencySumMilliseconds += other.latencySumMilliseconds
        latency.merge(other.latency)
        timeToFirstToken.merge(other.timeToFirstToken)
    }

    var errorClassesJSON: String {
        JSONValue.object(
            JSONObject(
                uniqueKeysWithValues: errorClasses.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) }
            )
        )
        .serialized()
    }

    static func errorClasses(fromJSON text: String) -> [String: Int] {
        guard let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return Dictionary(uniqueKeysWithValues: object.compactMap { key, value in value.intValue.map { (key, $0) } })
    }
}

/// The dimensions a rollup row is keyed by, besides its time bucket; the dimensions a table does
/// not have are empty.
public struct RollupKey: Hashable, Sendable {
    public var bucketStart: Int64
    public var userID = ""
    public var tenantID = ""
    public var route = ""
    public var provider = ""
    public var model = ""
    public var origin = ""

    init(bucketStart: Int64, call: CallRecord, scope: RollupScope) {
        self.bucketStart = bucketStart
        if scope != .fleet {
            userID = call.userID ?? ""
            tenantID = call.tenantID ?? ""
        }
        if scope != .user {
            route = call.route ?? ""
            provider = call.provider ?? ""
            model = call.modelUsed ?? call.modelRequested ?? ""
            origin = call.origin.rawValue
        }
    }

    /// The values of `scope`'s key columns, in order.
    func values(for scope: RollupScope) -> [String] {
        switch scope {
        case .all: [userID, tenantID, route, provider, model, origin]
        case .fleet: [route, provider, model, origin]
        case .user: [userID, tenantID]
        }
    }
}

/// What rollups count of a call: the fields of its record, or of its row in `calls`, that its
/// rollup rows add up. One counting for both, so figures kept from the tail equal the rollups.
struct RollupContribution: Sendable {
    var outcome: CallOutcome
    var errorClass: String?
    var cache: CacheOutcome?
    var attempts: Int
    var fellBack: Bool
    var pacedMilliseconds: Double
    var tokens: TokenCounts
    var costNanoUSD: Int64?
    var savedNanoUSD: Int64
    var latencyMilliseconds: Double?
    var timeToFirstTokenMilliseconds: Double?

    init(_ call: CallRecord) {
        outcome = call.outcome
        errorClass = call.errorClass
        cache = call.cache
        attempts = call.attempts.count
        fellBack = call.fellBack
        pacedMilliseconds = call.pacedMilliseconds
        tokens = call.tokens
        costNanoUSD = call.costNanoUSD
        savedNanoUSD = call.savedNanoUSD
        latencyMilliseconds = call.latencyMilliseconds
        timeToFirstTokenMilliseconds = call.timeToFirstTokenMilliseconds
    }

    /// The columns ``init(row:offset:)`` reads, in order.
    static let columns = """
        outcome, error_class, cache, attempts, fell_back, paced_ms, input_tokens, cached_input_tokens,
        cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_nano_usd,
        saved_nano_usd, latency_ms, ttft_ms
        """

    /// From a `calls` row holding ``columns`` from `offset` on.
    init(row: Row, offset: Int) {
        outcome = CallOutcome(rawValue: row[offset]) ?? .error
        errorClass = row[offset + 1]
        cache = (row[offset + 2] as String?).flatMap(CacheOutcome.init(rawValue:))
        attempts = row[offset + 3]
        fellBack = row[offset + 4]
        pacedMilliseconds = row[offset + 5]
        tokens = TokenCounts(
            input: row[offset + 6],
            cachedInput: row[offset + 7],
            cacheWrite5m: row[offset + 8],
            cacheWrite1h: row[offset + 9],
            output: row[offset + 10],
            reasoning: row[offset + 11]
        )
        costNanoUSD = row[offset + 12]
        savedNanoUSD = row[offset + 13]
        latencyMilliseconds = row[offset + 14]
        timeToFirstTokenMilliseconds = row[offset + 15]
    }
}

/// The two rollup resolutions.
public enum RollupResolution: String, Sendable, CaseIterable {
    case minute
    case hour

    var milliseconds: Int64 { self == .minute ? 60_000 : 3_600_000 }

    func bucketStart(_ milliseconds: Int64) -> Int64 {
        milliseconds - ((milliseconds % self.milliseconds) + self.milliseconds) % self.milliseconds
    }
}

/// Which dimensions a family of rollup tables keeps.
enum RollupScope: CaseIterable, Sendable {
    /// Every dimension: `rollups_minute`, `rollups_hour`.
    case all
    /// Route, provider, model and origin, for whole-fleet panes: `rollups_*_fleet`.
    case fleet
    /// User and tenant, for spend per user: `rollups_*_user`.
    case user

    var dimensionColumns: [String] {
        switch self {
        case .all: ["user_id", "tenant_id", "route", "provider", "model", "origin"]
        case .fleet: ["route", "provider", "model", "origin"]
        case .user: ["user_id", "tenant_id"]
        }
    }

    /// The scope that can answer a grouping by `dimension` with the fewest rows.
    static func serving(_ dimension: RollupDimension?) -> RollupScope {
        guard let dimension else { return .fleet }
        return dimension.needsUsers ? .user : .fleet
    }
}

/// The six rollup tables: per minute and per hour, in each scope.
struct RollupTable: Hashable, Sendable, CaseIterable {
    var resolution: RollupResolution
    var scope: RollupScope

    static let allCases: [RollupTable] = RollupResolution.allCases.flatMap { resolution in
        RollupScope.allCases.map { RollupTable(resolution: resolution, scope: $0) }
    }

    var name: String {
        switch scope {
        case .all: "rollups_\(resolution.rawValue)"
        case .fleet: "rollups_\(resolution.rawValue)_fleet"
        case .user: "rollups_\(resolution.rawValue)_user"
        }
    }

    var keyColumns: [String] { ["bucket_start"] + scope.dimensionColumns }
}
