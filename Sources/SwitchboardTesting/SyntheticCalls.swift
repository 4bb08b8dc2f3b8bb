import Foundation
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardWire

/// Realistic, reproducible call records for tests and benchmarks: a mix of users, tenants, models
/// and outcomes, log-normal latencies, retries and fallbacks, and (optionally) request and
/// response bodies of realistic size.
public struct SyntheticCalls: Sendable {
    public struct Options: Sendable {
        /// The first call's start; calls are spread evenly from here over `span`.
        public var start: Date
        public var span: Duration
        public var users = 50
        /// Store a ~2 KB request and a ~1 KB response per call.
        public var bodies = false
        /// Prefix of request ids, so that several writers never collide.
        public var idPrefix = "req_syn"

        public init(start: Date, span: Duration = .seconds(3600)) {
            self.start = start
            self.span = span
        }
    }

    public static let models: [(provider: String, model: String, inputNano: Int64, outputNano: Int64)] = [
        ("openai", "gpt-4o-mini", 150, 600), ("openai", "gpt-4.1", 2_000, 8_000),
        ("anthropic", "claude-haiku-4-5", 1_000, 5_000), ("anthropic", "claude-sonnet-4-6", 3_000, 15_000),
    ]

    private var random: SplitMix64
    private let options: Options
    private let count: Int
    private var index = 0

    /// - Parameters:
    ///   - count: how many calls `next()` will produce.
    public init(count: Int, seed: UInt64, options: Options) {
        self.random = SplitMix64(seed: seed)
        self.options = options
        self.count = count
    }

    private mutating func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }

    /// A log-normal draw with the given median and spread.
    private mutating func logNormal(median: Double, sigma: Double) -> Double {
        let u1 = max(uniform(), 1e-12)
        let u2 = uniform()
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return median * exp(sigma * normal)
    }

    /// Every call still to come.
    public var all: [CallRecord] {
        var calls = self
        var all: [CallRecord] = []
        while let call = calls.next() { all.append(call) }
        return all
    }

    public mutating func next() -> CallRecord? {
        guard index < count else { return nil }
        defer { index += 1 }
        let offset = options.span.secondsDouble * Double(index) / Double(max(1, count))
        let started = options.start.addingTimeInterval(offset)
        // A user belongs to one tenant and mostly uses one model; most calls come through the gateway.
        let userNumber = Int(random.next() % UInt64(options.users))
        let user = "user-\(userNumber)"
        let modelIndex =
            uniform() < 0.8 ? userNumber % Self.models.count : Int(random.next() % UInt64(Self.models.count))
        let (provider, model, inputPrice, outputPrice) = Self.models[modelIndex]
        let originDraw = uniform()
        let origin: CallOrigin = originDraw < 0.9 ? .gateway : originDraw < 0.98 ? .library : .playground
        let draw = uniform()
        let outcome: CallOutcome =
            switch draw {
            case ..<0.80: .ok
            case ..<0.88: .cached
            case ..<0.93: .error
            case ..<0.96: .rateLimited
            case ..<0.98: .blocked
            case ..<0.99: .budget
            default: .invalidOutput
            }
        let latency = outcome == .cached ? logNormal(median: 0.3, sigma: 0.5) : logNormal(median: 600, sigma: 0.7)
        let input = Int(logNormal(median: 500, sigma: 0.8))
        let output = outcome == .ok ? Int(logNormal(median: 150, sigma: 0.6)) : 0
        let attemptCount = outcome == .ok || outcome == .error ? (uniform() < 0.1 ? 2 + Int(random.next() % 2) : 1) : 0
        let requestID = "\(options.idPrefix)_\(index)_\(String(random.next(), radix: 36))"
        var attempts: [AttemptRecord] = []
        for number in 0..<attemptCount {
            let last = number == attemptCount - 1
            attempts.append(
                AttemptRecord(
                    number: number + 1,
                    provider: provider,
                    model: model,
                    keyFingerprint: "sk-…a1b2",
                    startedAt: started,
                    httpStatus: last && outcome == .ok ? 200 : 429,
                    errorClass: last && outcome == .ok ? nil : "rate_limit_exceeded",
                    backoffMilliseconds: number == 0 ? 0 : 250,
                    latencyMilliseconds: latency / Double(attemptCount),
                    rateLimitHeaders: [
                        "x-ratelimit-remaining-requests": "41",
                        provider == "anthropic" ? "request-id" : "x-request-id": "req_up\(index)x\(number + 1)",
                    ]
                )
            )
        }
        let cost: Int64? = outcome == .ok ? Int64(input) * inputPrice + Int64(output) * outputPrice : 0
        var record = CallRecord(
            requestID: requestID,
            startedAt: started,
            endedAt: started.addingTimeInterval(latency / 1000),
            origin: origin,
            outcome: outcome,
            stream: uniform() < 0.4,
            userID: user,
            tenantID: "tenant-\(userNumber % 5)",
            sessionID: uniform() < 0.2 ? "s-\(index / 4)" : nil,
            step: nil,
            route: "default",
            provider: outcome == .blocked ? nil : provider,
            modelRequested: model,
            modelUsed: outcome == .ok ? model : nil,
            httpStatus: Self.status(outcome),
            errorClass: outcome == .ok || outcome == .cached ? nil : Self.errorClass(outcome),
            errorMessage: outcome == .ok || outcome == .cached ? nil : "simulated \(outcome.rawValue)",
            latencyMilliseconds: latency,
            timeToFirstTokenMilliseconds: outcome == .ok ? latency * 0.3 : nil,
            tokens: TokenCounts(
                input: input,
                cachedInput: outcome == .ok && uniform() < 0.3 ? input / 2 : 0,
                output: output
            ),
            costNanoUSD: cost,
            savedNanoUSD: outcome == .cached ? Int64(input) * inputPrice : 0,
            cache: outcome == .cached ? .hit : .miss,
            pacedMilliseconds: uniform() < 0.05 ? 120 : 0,
            fellBack: attemptCount > 2,
            attempts: attempts
        )
        if record.sessionID != nil { record.step = index % 4 + 1 }
        if options.bodies {
            record.requestBody = Self.requestBody(user: user, model: model, index: index)
            record.responseBody = outcome == .ok ? Self.responseBody(index: index) : nil
            record.searchText = Self.question(user: user, index: index) + (outcome == .ok ? "\n" + Self.answer : "")
        }
        return record
    }

    static func status(_ outcome: CallOutcome) -> Int {
        switch outcome {
        case .ok, .cached: 200
        case .error: 502
        case .rateLimited, .budget: 429
        case .blocked: 400
        case .invalidOutput: 422
        }
    }

    static func errorClass(_ outcome: CallOutcome) -> String {
        switch outcome {
        case .error: "upstream_exhausted"
        case .rateLimited: "rate_limited"
        case .blocked: "moderation_blocked"
        case .budget: "budget_exceeded"
        case .invalidOutput: "invalid_output"
        case .ok, .cached: ""
        }
    }

    /// About 2 KB: a support system prompt and a question.
    static func requestBody(user: String, model: String, index: Int) -> String {
        let policy = String(
            repeating: "Refunds on annual plans are available within thirty days of purchase. ",
            count: 24
        )
        let body: JSONValue = [
            "model": .string(model),
            "messages": [
                ["role": "system", "content": .string("You are the support assistant for Acme. \(policy)")],
                [
                    "role": "user",
                    "content": .string(
                        "Question \(index) from \(user): how long is the refund window for annual plans?"
                    ),
                ],
            ],
            "max_tokens": 400,
        ]
        return body.serialized()
    }

    static func question(user: String, index: Int) -> String {
        "Question \(index) from \(user): how long is the refund window for annual plans?"
    }

    static let answer = String(
        repeating: "The refund window for annual plans is thirty days from the purchase date. ",
        count: 12
    )

    /// About 1 KB: an answer.
    static func responseBody(index: Int) -> String {
        let body: JSONValue = [
            "id": .string("chatcmpl-\(index)"), "object": "chat.completion",
            "choices": [
                ["index": 0, "message": ["role": "assistant", "content": .string(answer)], "finish_reason": "stop"]
            ],
        ]
        return body.serialized()
    }
}
