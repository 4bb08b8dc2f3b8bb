import Foundation
import SwitchboardWire

extension CallSummary {
    /// The keys of ``json``, in order: every one is always present (`null` when unknown).
    public static let jsonKeys = [
        "request_id", "started_at", "ended_at", "user_id", "tenant_id", "session_id", "step", "origin", "route",
        "provider",
        "model_requested", "model_used", "stream", "outcome", "http_status", "error_class", "error_message", "attempts",
        "latency_ms", "ttft_ms", "input_tokens", "cached_input_tokens", "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "output_tokens", "reasoning_tokens", "cost_nano_usd", "saved_nano_usd", "cache", "paced_ms", "fell_back",
    ]

    /// The call as a JSON object with the journal's column names (times in RFC 3339).
    public var json: JSONValue {
        var object = JSONObject()
        object["request_id"] = .string(requestID)
        object["started_at"] = .string(Self.timestamp(startedAt))
        object["ended_at"] = .string(Self.timestamp(endedAt))
        object.setOrNull("user_id", userID)
        object.setOrNull("tenant_id", tenantID)
        object.setOrNull("session_id", sessionID)
        object.setOrNull("step", step)
        object["origin"] = .string(origin)
        object.setOrNull("route", route)
        object.setOrNull("provider", provider)
        object.setOrNull("model_requested", modelRequested)
        object.setOrNull("model_used", modelUsed)
        object["stream"] = .bool(stream)
        object["outcome"] = .string(outcome)
        object.setOrNull("http_status", httpStatus)
        object.setOrNull("error_class", errorClass)
        object.setOrNull("error_message", errorMessage)
        object["attempts"] = .integer(attempts)
        object.setOrNull("latency_ms", latencyMilliseconds)
        object.setOrNull("ttft_ms", timeToFirstTokenMilliseconds)
        object["input_tokens"] = .integer(tokens.input)
        object["cached_input_tokens"] = .integer(tokens.cachedInput)
        object["cache_write_5m_tokens"] = .integer(tokens.cacheWrite5m)
        object["cache_write_1h_tokens"] = .integer(tokens.cacheWrite1h)
        object["output_tokens"] = .integer(tokens.output)
        object["reasoning_tokens"] = .integer(tokens.reasoning)
        object["cost_nano_usd"] = costNanoUSD.map { .integer(Int($0)) } ?? .null
        object["saved_nano_usd"] = .integer(Int(savedNanoUSD))
        object.setOrNull("cache", cache)
        object["paced_ms"] = .double(pacedMilliseconds)
        object["fell_back"] = .bool(fellBack)
        return .object(object)
    }

    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = RFC3339.format(Date(timeIntervalSince1970: Double(milliseconds / 1000)))
        return seconds.dropLast() + String(format: ".%03dZ", Int(milliseconds % 1000))
    }
}

extension CallDetail {
    /// The call with its verdicts, bodies, attempts and events.
    public var json: JSONValue {
        guard case .object(var object) = summary.json else { return summary.json }
        object.set("moderation", moderation)
        object.set("validation", validation)
        object.set("headroom", headroom)
        object.set("request_body", requestBody)
        object.set("response_body", responseBody)
        object["attempts_detail"] = .array(
            attempts.map { attempt in
                var entry = JSONObject()
                entry["number"] = .integer(attempt.number)
                entry["provider"] = .string(attempt.provider)
                entry["model"] = .string(attempt.model)
                entry.set("key_fingerprint", attempt.keyFingerprint)
                entry["started_at"] = .string(CallSummary.timestamp(attempt.startedAt))
                entry.set("http_status", attempt.httpStatus)
                entry.set("error_class", attempt.errorClass)
                entry.set("error_message", attempt.errorMessage)
                entry.set("provider_request_id", attempt.providerRequestID)
                entry["backoff_ms"] = .double(attempt.backoffMilliseconds)
                entry.set("retry_after_ms", attempt.retryAfterMilliseconds)
                entry.set("latency_ms", attempt.latencyMilliseconds)
                entry["ratelimit"] = .object(
                    JSONObject(
                        uniqueKeysWithValues: attempt.rateLimitHeaders.sorted { $0.key < $1.key }.map {
                            ($0.key, .string($0.value))
                        }
                    )
                )
                return .object(entry)
            }
        )
        object["events"] = .array(
            events.map { event in
                var entry = JSONObject()
                entry["at"] = .string(CallSummary.timestamp(event.at))
                entry["kind"] = .string(event.kind)
                entry["scope"] = .string(event.scope)
                entry.set("detail", event.detail)
                return .object(entry)
            }
        )
        return .object(object)
    }
}
