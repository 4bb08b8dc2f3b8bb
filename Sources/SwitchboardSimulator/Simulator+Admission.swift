import Foundation
import SwitchboardWire
import Synchronization

extension Simulator {
    enum Admission {
        /// Admitted; `fault` is an outage or random fault to serve instead of (or to spoil) the answer.
        case admitted(rateLimitHeaders: [HeaderField], fault: Fault?)
        case rejected(KeyLimiter.Rejection, rateLimitHeaders: [HeaderField])
    }

    /// Runs a request against its key's limits and, when admitted, settles its output, records its
    /// prompt-cache writes and draws an unscripted fault, all in one step.
    func admit(
        provider: APIFormat,
        key: String,
        model: String,
        input: Int,
        outputReservation: Int,
        actualOutput: Int,
        cacheWrites: [PromptCacheEmulator.Write]
    ) -> Admission {
        let now = now()
        let elapsed = elapsed
        let limits = limits(for: key, provider: provider)
        return state.withLock { state in
            let limiterKey = LimiterKey(provider: provider, key: key, model: model)
            var limiter = state.limiters[limiterKey] ?? KeyLimiter(provider: provider, limits: limits, now: now)
            defer { state.limiters[limiterKey] = limiter }
            switch limiter.admit(input: input, output: outputReservation, now: now) {
            case .failure(let rejection):
                return .rejected(rejection, rateLimitHeaders: rateLimitHeaders(limiter, provider: provider))
            case .success(let reservation):
                let fault = state.faults.unscripted(provider: provider, elapsed: elapsed)
                let answered = fault.map(\.deliversAnswer) ?? true
                limiter.settle(reservation, actualOutput: answered ? actualOutput : 0, now: now)
                if answered { state.promptCache.commit(cacheWrites) }
                return .admitted(rateLimitHeaders: rateLimitHeaders(limiter, provider: provider), fault: fault)
            }
        }
    }

    /// "Please try again in 644ms" / "20s": the delay as OpenAI writes it in messages.
    static func tryAgainText(_ delay: Duration) -> String {
        GoDuration.format(.milliseconds(Int64(delay.millisecondsDouble.rounded(.up))))
    }
}

extension Fault {
    /// Whether the client still receives (part of) a generated answer under this fault.
    var deliversAnswer: Bool {
        switch self {
        case .slowStream, .midStreamError, .invalidOutput, .malformed, .ok: true
        case .status, .rateLimited, .insufficientQuota, .reset, .stall: false
        }
    }
}

extension KeyLimiter.Dimension {
    /// OpenAI's words for the limit in 429 messages and its error `type`.
    var openAIDescription: (words: String, type: String) {
        switch self {
        case .requests: ("requests per min (RPM)", "requests")
        default: ("tokens per min (TPM)", "tokens")
        }
    }

    /// Anthropic's words for the limit in 429 messages.
    var anthropicWords: String {
        switch self {
        case .requests: "requests per minute"
        case .tokens: "tokens per minute"
        case .inputTokens: "input tokens per minute"
        case .outputTokens: "output tokens per minute"
        }
    }
}
