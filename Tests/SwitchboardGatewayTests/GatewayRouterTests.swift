import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardCore
import SwitchboardGateway
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardWire
import Testing

/// The gateway's router in process: each error of the table where the gateway raises it, the
/// headers a caller gets back, and what reaches the journal.
@Suite struct GatewayRouterTests {
    @Test func refusalsBeforeTheCallComeFromTheErrorTableInTheCallersFormat() async throws {
        _ = try await withGateway(configure: { $0.gateway.maxBody = 2_000 }) { fixture, client in
            let key = try fixture.key()
            // No key, and a key that is not ours: OpenAI's and Anthropic's shapes.
            let missing = try await client.chat(nil)
            #expect(missing.status.code == 401 && missing.errorCode == "invalid_api_key")
            #expect(missing.json["error"]?["message"]?.stringValue?.contains("switchboard keys create") == true)
            let wrong = try await client.messages("sk-sb-000000000000-" + String(repeating: "0", count: 40))
            #expect(wrong.status.code == 401 && wrong.errorCode == "authentication_error")
            #expect(wrong.json["request_id"]?.stringValue == wrong.header("request-id"))
            // Malformed JSON, a mistyped field (named in `param`), a wrong content type.
            let malformed = try await client.post(
                "/v1/chat/completions",
                #"{"model": "#,
                headers: ["authorization": "Bearer \(key)"]
            )
            #expect(malformed.status.code == 400 && malformed.errorCode == "invalid_request")
            #expect(malformed.json["error"]?["message"]?.stringValue?.contains("not valid JSON") == true)
            let mistyped = try await client.messages(key, extra: #","temperature":"hot""#)
            #expect(mistyped.status.code == 400 && mistyped.errorCode == "invalid_request_error")
            #expect(mistyped.json["error"]?["message"]?.stringValue == "temperature: expected a number, got string")
            let form = try await client.execute(
                uri: "/v1/chat/completions",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: "Bearer \(key)"],
                body: ByteBuffer(string: "model=gpt-4o-mini")
            )
            #expect(form.status.code == 400 && form.json["error"]?["param"]?.stringValue == "Content-Type")
            // No messages, even with an Anthropic system prompt that translation would make one.
            let empty = try await client.post(
                "/v1/messages",
                #"{"model":"default","max_tokens":8,"system":"Be brief.","messages":[]}"#,
                headers: ["x-api-key": key]
            )
            #expect(
                empty.status.code == 400
                    && empty.json["error"]?["message"]?.stringValue == "messages: at least one message is required"
            )
            // Over gateway.max_body.
            let large = try await client.chat(key, text: String(repeating: "x", count: 3_000))
            #expect(large.status.code == 413 && large.errorCode == "request_too_large")
            // An unknown model, an unknown endpoint.
            let unknown = try await client.chat(key, model: "no-such-model")
            #expect(unknown.status.code == 404 && unknown.errorCode == "model_not_found")
            #expect(unknown.json["error"]?["param"]?.stringValue == "model")
            let nowhere = try await client.execute(
                uri: "/v2/engines",
                method: .get,
                headers: [.authorization: "Bearer \(key)"]
            )
            #expect(nowhere.status.code == 404 && nowhere.errorCode == "unknown_url")
            // Headers the gateway reads, when they are wrong.
            let step = try await client.chat(key, headers: ["x-switchboard-step": "two"])
            #expect(step.status.code == 400 && step.json["error"]?["param"]?.stringValue == "x-switchboard-step")
            let control = try await client.chat(key, headers: ["x-switchboard-cache-control": "forever"])
            #expect(
                control.status.code == 400
                    && control.json["error"]?["param"]?.stringValue == "x-switchboard-cache-control"
            )
            // Nothing above reached a provider.
            #expect(fixture.simulator.stats.snapshot.requests == 0)
        }
    }

    @Test func theEndUserHeaderIsTrustedOnlyFromKeysAllowedToSendIt() async throws {
        _ = try await withGateway { fixture, client in
            let plain = try fixture.key(user: "app")
            let backend = try fixture.key(user: "backend", allowUserHeader: true)
            let refused = try await client.chat(plain, headers: ["x-switchboard-user": "mallory"])
            #expect(refused.status.code == 403 && refused.errorCode == "permission_denied")
            let served = try await client.chat(
                backend,
                headers: [
                    "x-switchboard-user": "end-user-9", "x-switchboard-session": "task-1", "x-switchboard-step": "2",
                ]
            )
            #expect(served.status.code == 200)
            let row = try #require(try fixture.call(served.header("x-request-id") ?? ""))
            #expect(row.summary.userID == "end-user-9" && row.summary.origin == "gateway")
            #expect(row.summary.sessionID == "task-1" && row.summary.step == 2)
        }
    }

    @Test func aRevokedKeyStopsWorking() async throws {
        _ = try await withGateway { fixture, client in
            let made = try fixture.keys.create(userID: "carol")
            #expect(try await client.chat(made.secret).status.code == 200)
            _ = try fixture.keys.revoke(made.key.id)
            let after = try await client.chat(made.secret)
            #expect(after.status.code == 401)
        }
    }

    @Test func answersCarryTheCallersLimitsCostCacheAndTrace() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key(rpm: 2)
            let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let first = try await client.chat(key, extra: #","temperature":0"#, headers: ["traceparent": parent])
            #expect(first.status.code == 200)
            #expect(first.header("x-ratelimit-limit-requests") == "2")
            #expect(first.header("x-ratelimit-remaining-requests") == "1")
            #expect(first.header("x-ratelimit-reset-requests").map { GoDuration.parse($0) != nil } == true)
            #expect(first.header("RateLimit-Limit") == "2" && first.header("RateLimit-Remaining") == "1")
            #expect(first.header("x-switchboard-cache") == "miss")
            // The trace continues: same trace id, a span of the gateway's own.
            let trace = try #require(first.header("traceparent")).split(separator: "-")
            #expect(trace[1] == "4bf92f3577b34da6a3ce929d0e0e4736" && trace[2] != "00f067aa0ba902b7")
            // The cost header is the journal's cost, to the nano-dollar.
            let row = try #require(try fixture.call(first.header("x-request-id") ?? ""))
            let cost = try #require(row.summary.costNanoUSD)
            #expect(cost > 0)
            let header = try #require(first.header("x-switchboard-cost-usd"))
            #expect(header.split(separator: ".")[1].count == 9)
            #expect(NSDecimalNumber(string: header).multiplying(byPowerOf10: 9).int64Value == cost)
            // And the provider's own id of the attempt that answered, for its support.
            let providerID = try #require(row.attempts.last?.providerRequestID)
            #expect(first.header("x-switchboard-provider-request-id") == providerID)
            #expect(providerID != first.header("x-request-id"))

            // The same request again is a cache hit, and the limit is spent.
            let second = try await client.chat(key, extra: #","temperature":0"#)
            #expect(second.header("x-switchboard-cache") == "hit")
            #expect(second.header("x-ratelimit-remaining-requests") == "0")
            let third = try await client.chat(key)
            #expect(third.status.code == 429 && third.errorCode == "rate_limit_exceeded")
            #expect(third.header("x-should-retry") == "true")
            let retryAfter = try #require(third.header("retry-after-ms").flatMap(Double.init))
            #expect(retryAfter > 0 && retryAfter <= 30_000)
            #expect(third.header("x-ratelimit-remaining-requests") == "0")
            #expect(third.header("RateLimit-Remaining") == "0")
        }
    }

    @Test func theAnthropicEndpointSpeaksAnthropicsHeaderFamily() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key(rpm: 10)
            let answer = try await client.messages(key)
            #expect(answer.status.code == 200 && answer.json["type"]?.stringValue == "message")
            #expect(answer.header("request-id") == answer.header("x-request-id"))
            #expect(answer.header("anthropic-ratelimit-requests-limit") == "10")
            let reset = try #require(answer.header("anthropic-ratelimit-requests-reset"))
            #expect(RFC3339.parse(reset) != nil)
            #expect(answer.header("x-ratelimit-limit-requests") == nil)
        }
    }

    @Test func aSpentBudgetIsRefusedWithoutInvitingRetries() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key(user: "broke", budget: 1_000)
            for response in [try await client.chat(key), try await client.messages(key)] {
                #expect(response.status.code == 429)
                #expect(response.header("x-should-retry") == "false" && response.header("retry-after") == nil)
            }
            #expect(try await client.chat(key).errorCode == "budget_exceeded")
            #expect(try await client.messages(key).errorCode == "billing_error")
        }
    }

    @Test func aRequestBiggerThanTheWholeTokenLimitIsNotWorthRetrying() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key(user: "small", tpm: 100)
            let refused = try await client.chat(key, extra: #","max_tokens":500"#)
            #expect(refused.status.code == 429 && refused.json["error"]?["type"]?.stringValue == "tokens")
            #expect(refused.header("x-should-retry") == "false" && refused.header("retry-after") == nil)
            #expect(refused.json["error"]?["message"]?.stringValue?.contains("send less") == true)
            // A request that fits, once the limit is spent, is worth retrying after the delay.
            #expect(try await client.chat(key, extra: #","max_tokens":60"#).status.code == 200)
            let later = try await client.chat(key, extra: #","max_tokens":60"#)
            #expect(later.status.code == 429 && later.header("x-should-retry") == "true")
            #expect(later.header("retry-after") != nil)
        }
    }

    @Test func moderationBlocksAndUpstreamFailuresUseTheTable() async throws {
        _ = try await withGateway(configure: { $0.resilience.retry.base = .milliseconds(1) }) { fixture, client in
            let key = try fixture.key()
            let blocked = try await client.chat(key, text: "Describe the gore when the body is dismembered.")
            #expect(blocked.status.code == 400 && blocked.errorCode == "content_policy_violation")
            #expect(blocked.json["error"]?["message"]?.stringValue?.contains("violence/graphic") == true)
            fixture.simulator.enqueue([.status(500), .status(500), .status(500)], model: "gpt-4.1-nano")
            let exhausted = try await client.chat(key, model: "gpt-4.1-nano")
            #expect(exhausted.status.code == 502 && exhausted.errorCode == "upstream_error")
            #expect(exhausted.header("x-should-retry") == "false")
            let row = try #require(try fixture.call(exhausted.header("x-request-id") ?? ""))
            #expect(row.summary.outcome == "error" && row.summary.attempts == 3)
            // The failure names the provider's id of the last attempt, to quote to its support.
            #expect(exhausted.header("x-switchboard-provider-request-id") == row.attempts.last?.providerRequestID)
            #expect(exhausted.header("x-switchboard-provider-request-id") != nil)
            // A refusal before any provider was reached has none.
            #expect(blocked.header("x-switchboard-provider-request-id") == nil)
        }
    }

    @Test func anAnswerThatFailsValidationIsA422InEitherFormat() async throws {
        _ = try await withGateway(configure: { $0.validation.onInvalid = .fail }) { fixture, client in
            let key = try fixture.key()
            let schema = #"{"type":"object","properties":{"days":{"type":"integer"}},"required":["days"]}"#
            fixture.simulator.enqueue([.invalidOutput], provider: .openAI)
            let openAI = try await client.chat(
                key,
                extra: #","response_format":{"type":"json_schema","json_schema":{"name":"r","schema":\#(schema)}}"#
            )
            #expect(openAI.status.code == 422 && openAI.errorCode == "invalid_output")
            #expect(openAI.json["error"]?["switchboard"]?["violations"]?.arrayValue?.isEmpty == false)
            #expect(openAI.header("x-should-retry") == "false")
            fixture.simulator.enqueue([.invalidOutput], provider: .anthropic)
            let anthropic = try await client.messages(
                key,
                extra: #","tools":[{"name":"r","input_schema":\#(schema)}],"tool_choice":{"type":"tool","name":"r"}"#
            )
            #expect(anthropic.status.code == 422 && anthropic.errorCode == "api_error")
            let row = try #require(try fixture.call(anthropic.header("x-request-id") ?? ""))
            #expect(row.summary.outcome == "invalid_output")
        }
    }

    @Test func aJournalThatCannotBeWrittenRefusesWithRetryAfter() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key()
            fixture.bench.journalWriter.finish()
            let refused = try await client.chat(key)
            #expect(refused.status.code == 503 && refused.errorCode == "journal_unavailable")
            #expect(refused.header("retry-after") != nil && refused.header("x-should-retry") == "true")
        }
    }

    @Test func aDrainingGatewayRefusesNewRequests() async throws {
        _ = try await withGateway { fixture, client in
            let key = try fixture.key()
            #expect(try await client.execute(uri: "/readyz", method: .get).status.code == 200)
            fixture.gateway.beginDrain()
            let refused = try await client.chat(key)
            #expect(refused.status.code == 503 && refused.errorCode == "shutting_down")
            #expect(refused.header("retry-after") == "1")
            #expect(try await client.execute(uri: "/readyz", method: .get).status.code == 503)
            #expect(try await client.execute(uri: "/healthz", method: .get).status.code == 200)
        }
    }
}

/// `/metrics` with the state in Redis.
struct GatewayRedisMetricsTests {
    @Test func metricsSayWhetherRedisAnswers() async throws {
        let server = try await RedisServer.start()
        let directory = try temporaryDirectory()
        try await withSimulator { fixture in
            var configuration = testConfiguration(baseURL: fixture.baseURL, directory: directory)
            configuration.state.backend = .redis
            configuration.state.redisURL = server.url
            configuration.state.redisTimeout = .seconds(10)
            let pipeline = try Pipeline(configuration: configuration, logger: quietLogger)
            let keys = try VirtualKeyStore(path: "\(directory)/keys.sqlite")
            let gateway = Gateway(pipeline: pipeline, keys: keys, keyCacheTTL: .zero, logger: quietLogger)
            let call = openAIRequest(model: "openai/gpt-4o-mini")
            try await Application(router: gateway.makeRouter()).test(.router) { client in
                _ = try await pipeline.chat(call, context: CallContext(userID: "ops"))
                let up = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(up.contains("switchboard_redis_up 1"), "\(up)")
                #expect(up.contains("switchboard_redis_outages 0"))

                await server.stop()
                // Refused (budgets fail closed by default); the client has seen the outage.
                await #expect(throws: SwitchboardError.self) {
                    try await pipeline.chat(call, context: CallContext(userID: "ops"))
                }
                let down = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(down.contains("switchboard_redis_up 0"), "\(down)")
                #expect(down.contains("switchboard_redis_outages 1"))
            }
            await pipeline.close()
        }
    }
}
