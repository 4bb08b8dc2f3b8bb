import Foundation
import SwitchboardWire

/// The rate limits of one (provider, key, model), as the provider enforces and reports them.
///
/// OpenAI: requests and tokens per window; a call reserves its prompt tokens plus its output
/// ceiling, and the unused part of the ceiling is returned when it ends. Anthropic: requests, input
/// tokens (uncached input and cache writes; cache reads are free) and output tokens (reserved at
/// `max_tokens`, settled to the tokens produced); the `tokens` headers report input plus output.
struct KeyLimiter: Sendable {
    enum Dimension: Sendable, Equatable {
        case requests, tokens, inputTokens, outputTokens
    }

    struct Rejection: Error, Sendable, Equatable {
        var dimension: Dimension
        var limit: Int
        var used: Int
        var requested: Int
        /// `nil` when the request can never fit (it is larger than the limit).
        var retryAfter: Duration?
    }

    struct Reservation: Sendable, Equatable {
        var input: Int
        var output: Int
    }

    private var requests: TokenBucket
    private var tokens: TokenBucket?
    private var inputTokens: TokenBucket?
    private var outputTokens: TokenBucket?

    init(provider: APIFormat, limits: SimulatorConfiguration.Limits, now: Date) {
        requests = TokenBucket(limit: limits.requestsPerWindow, window: limits.window, now: now)
        switch provider {
        case .openAI:
            tokens = TokenBucket(limit: limits.tokensPerWindow, window: limits.window, now: now)
        case .anthropic:
            inputTokens = TokenBucket(limit: limits.inputTokensPerWindow, window: limits.window, now: now)
            outputTokens = TokenBucket(limit: limits.outputTokensPerWindow, window: limits.window, now: now)
        }
    }

    /// Admits a request that needs `input` prompt tokens and reserves `output` tokens of output, or
    /// says which limit it hits and when it would fit.
    mutating func admit(input: Int, output: Int, now: Date) -> Result<Reservation, Rejection> {
        var checks: [(Dimension, Int)] = [(.requests, 1)]
        if tokens != nil { checks.append((.tokens, input + output)) }
        if inputTokens != nil { checks.append((.inputTokens, input)) }
        if outputTokens != nil { checks.append((.outputTokens, output)) }
        for (dimension, amount) in checks {
            guard let bucket = self[dimension] else { continue }
            let used = bucket.limit - bucket.remaining(now: now)
            if amount > bucket.limit {
                return .failure(
                    Rejection(dimension: dimension, limit: bucket.limit, used: used, requested: amount, retryAfter: nil)
                )
            }
            let wait = bucket.wait(for: amount, now: now)
            if wait > .zero {
                return .failure(
                    Rejection(
                        dimension: dimension,
                        limit: bucket.limit,
                        used: used,
                        requested: amount,
                        retryAfter: wait
                    )
                )
            }
        }
        for (dimension, amount) in checks {
            self[dimension]?.take(amount, now: now)
        }
        return .success(Reservation(input: input, output: output))
    }

    /// Returns the unused part of an output reservation once the real output is known.
    mutating func settle(_ reservation: Reservation, actualOutput: Int, now: Date) {
        let unused = max(0, reservation.output - actualOutput)
        guard unused > 0 else { return }
        tokens?.giveBack(unused, now: now)
        outputTokens?.giveBack(unused, now: now)
    }

    /// What the headers report now.
    func snapshot(now: Date) -> RateLimitSnapshot {
        func window(_ bucket: TokenBucket?) -> RateLimitWindow? {
            bucket.map {
                RateLimitWindow(limit: $0.limit, remaining: $0.remaining(now: now), resetAfter: $0.resetAfter(now: now))
            }
        }
        var snapshot = RateLimitSnapshot(
            requests: window(requests),
            tokens: window(tokens),
            inputTokens: window(inputTokens),
            outputTokens: window(outputTokens)
        )
        if let input = snapshot.inputTokens, let output = snapshot.outputTokens {
            // Anthropic's `tokens` headers: the sum of the input and output limits.
            snapshot.tokens = RateLimitWindow(
                limit: (input.limit ?? 0) + (output.limit ?? 0),
                remaining: (input.remaining ?? 0) + (output.remaining ?? 0),
                resetAfter: max(input.resetAfter ?? .zero, output.resetAfter ?? .zero)
            )
        }
        return snapshot
    }

    private subscript(dimension: Dimension) -> TokenBucket? {
        get {
            switch dimension {
            case .requests: requests
            case .tokens: tokens
            case .inputTokens: inputTokens
            case .outputTokens: outputTokens
            }
        }
        set {
            switch dimension {
            case .requests: if let newValue { requests = newValue }
            case .tokens: tokens = newValue
            case .inputTokens: inputTokens = newValue
            case .outputTokens: outputTokens = newValue
            }
        }
    }
}
