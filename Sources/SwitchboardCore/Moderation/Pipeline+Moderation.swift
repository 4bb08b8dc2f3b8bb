import Foundation
import Logging
import OrderedCollections
import SwitchboardWire

extension Pipeline {
    /// Moderates what the user wrote: the local rules always, and OpenAI's moderation endpoint
    /// when `moderation.openai.enabled` (its scores merged, the higher one counting). When the
    /// endpoint fails, `on_failure: open` goes on with the local verdict (the failure recorded)
    /// and `closed` refuses the call.
    /// - Returns: the verdict, and when the endpoint failed under a closed policy, the error that
    ///   refuses the call.
    func moderate(_ text: String) async -> (verdict: ModerationVerdict, refusal: SwitchboardError?) {
        let policy = configuration.moderation
        let clock = ContinuousClock()
        let start = clock.now
        var (scores, pii) = LocalModerator.scan(text)
        var endpoint: (model: String?, error: String?)?
        var refusal: SwitchboardError?
        if policy.openAIEnabled {
            switch await endpointScores(text) {
            case .success(let (model, remote)):
                for (category, score) in remote { scores[category] = max(scores[category] ?? 0, score) }
                endpoint = (model, nil)
            case .failure(let failure):
                endpoint = (nil, failure.message)
                if policy.onFailure == .closed {
                    refusal = SwitchboardError(
                        .upstreamUnavailable,
                        "the moderation endpoint could not check the request (\(failure.message)) and moderation.openai.on_failure is closed; retry later",
                        retryAfter: .seconds(5)
                    )
                }
                logger.warning(
                    "moderation endpoint failed; going on with the local verdict",
                    metadata: ["error": "\(failure.message)"]
                )
            }
        }
        var verdict = LocalModerator.decide(scores: scores, pii: pii, policy: policy)
        verdict.endpoint = endpoint
        verdict.latency = clock.now - start
        return (verdict, refusal)
    }

    struct EndpointFailure: Error {
        var message: String
    }

    /// The category scores OpenAI's moderation endpoint gives `text` (over 0.01), through the
    /// first OpenAI provider's first key.
    func endpointScores(_ text: String) async -> Result<(model: String, scores: [String: Double]), EndpointFailure> {
        guard
            let (name, provider) = configuration.providers.sorted(by: { $0.key < $1.key }).first(where: {
                $0.value.kind == .openAI
            }),
            let key = keys[name]?.first
        else { return .failure(EndpointFailure(message: "no OpenAI provider with a key is configured")) }
        let body: JSONValue = ["model": .string(configuration.moderation.openAIModel), "input": .string(text)]
        let request = ProviderRequest(
            url: provider.baseURL + "/v1/moderations",
            headers: Self.headers(provider: provider, key: key),
            body: body.serializedBytes()
        )
        let timeouts = ExchangeTimeouts(firstByte: .seconds(10), idle: .seconds(10), remaining: .seconds(15))
        do {
            return try await transport.exchange(request, timeouts: timeouts) { head, body in
                let bytes = try await body.collect(upTo: 1 << 20)
                guard head.status == 200 else {
                    let error = UpstreamError(status: head.status, provider: name, body: bytes)
                    return .failure(EndpointFailure(message: "\(name) answered \(head.status): \(error.message)"))
                }
                guard let response = try? OpenAI.ModerationResponse(parsing: bytes), let result = response.results.first
                else {
                    return .failure(
                        EndpointFailure(message: "\(name)'s moderation answer is not a moderation response")
                    )
                }
                var scores: [String: Double] = [:]
                for (category, score) in result.categoryScores where score > 0.01 { scores[category] = score }
                return .success((response.model, scores))
            }
        } catch {
            return .failure(EndpointFailure(message: "\(error)"))
        }
    }
}

extension Pipeline {
    /// Answers OpenAI's `POST /v1/moderations` with Switchboard's own moderation (the local rules,
    /// plus the OpenAI endpoint when `moderation.openai.enabled`): one result per input text, every
    /// category of the endpoint scored, `flagged` when the policy flags or blocks any category.
    /// Image inputs are not read; their results score nothing.
    public func moderations(_ request: OpenAI.ModerationRequest) async -> OpenAI.ModerationResponse {
        var results: [OpenAI.ModerationResult] = []
        for text in request.texts {
            let (verdict, _) = await moderate(text)
            var categories = OrderedDictionary<String, Bool>()
            var scores = OrderedDictionary<String, Double>()
            var applied = OrderedDictionary<String, [String]>()
            let hits = Set(verdict.flagged + verdict.blocked)
            for category in OpenAI.ModerationCategory.allCases {
                categories[category.rawValue] = hits.contains(category.rawValue)
                scores[category.rawValue] = verdict.scores[category.rawValue] ?? 0
                applied[category.rawValue] = ["text"]
            }
            results.append(
                OpenAI.ModerationResult(
                    flagged: !hits.isEmpty,
                    categories: categories,
                    categoryScores: scores,
                    categoryAppliedInputTypes: applied
                )
            )
        }
        var generator = SystemRandomNumberGenerator()
        let id = "modr-" + String(generator.next(), radix: 16)
        return OpenAI.ModerationResponse(
            id: id,
            model: request.model ?? "switchboard-local-moderation",
            results: results
        )
    }
}
