import Foundation
import SwitchboardCore
import SwitchboardJournal
import SwitchboardSimulator
import SwitchboardTesting
import SwitchboardValidation
import SwitchboardWire
import Testing

/// Output validation in the pipeline against the simulator's invalid structured outputs: repair,
/// fail and flag, tool inputs, streams, and a route's own checks.
@Suite struct OutputValidationTests {
    static let schema =
        #"{"type": "object", "properties": {"answer": {"type": "string"}, "days": {"type": "integer"}}, "required": ["answer", "days"], "additionalProperties": false}"#

    static func structured(_ extra: String = "") throws -> OpenAI.ChatCompletionRequest {
        try OpenAI.ChatCompletionRequest(
            parsing: Array(
                #"{"model": "gpt-4o-mini", "max_completion_tokens": 200, "messages": [{"role": "user", "content": "Refund window?"}], "response_format": {"type": "json_schema", "json_schema": {"name": "refund", "strict": true, "schema": \#(schema)}}\#(extra)}"#
                    .utf8
            )
        )
    }

    static func answer(_ completion: OpenAI.ChatCompletion) throws -> JSONValue {
        try JSONValue.parse(Array((completion.json["choices"]?[0]?["message"]?["content"]?.stringValue ?? "").utf8))
    }

    @Test func anInvalidStructuredAnswerIsRepairedAndBothAnswersAreBilled() async throws {
        let run = try await withPipeline { bench in
            bench.simulator.enqueue([.invalidOutput], provider: .openAI)
            let context = CallContext()
            let completion = try await bench.pipeline.chat(try Self.structured(), context: context)
            return (
                context.requestID, try Self.answer(completion),
                completion.json["usage"]?["completion_tokens"]?.intValue ?? 0
            )
        }
        let (requestID, answer, lastOutput) = run.value
        #expect(try JSONSchema(parsing: Self.schema).isValid(answer))
        let detail = try #require(try run.journal.call(requestID: requestID))
        #expect(detail.summary.outcome == "ok" && detail.summary.attempts == 2)
        #expect(detail.validation?["action"] == "repaired" && detail.validation?["repairs"] == 1)
        #expect(detail.validation?["repaired_violations"]?.arrayValue?.isEmpty == false)
        #expect(detail.events.contains { $0.kind == "repair" })
        // The invalid answer's tokens are billed too.
        #expect(detail.summary.tokens.output > lastOutput)
    }

    @Test func atTheSimulatorsInvalidOutputRateEveryDeliveredAnswerValidates() async throws {
        var simulator = SimulatorConfiguration.testing
        simulator.invalidOutputRate = 0.4
        let run = try await withPipeline(simulator: simulator, configure: { $0.validation.maxRepairs = 4 }) { bench in
            var results: [(String, JSONValue)] = []
            for index in 0..<20 {
                let context = CallContext()
                let request = try Self.structured().withPrompt("Refund window, case \(index)?")
                results.append(
                    (context.requestID, try Self.answer(try await bench.pipeline.chat(request, context: context)))
                )
            }
            return results
        }
        let schema = try JSONSchema(parsing: Self.schema)
        var repaired = 0
        for (requestID, answer) in run.value {
            #expect(schema.isValid(answer))
            let detail = try #require(try run.journal.call(requestID: requestID))
            let repairs = detail.validation?["repairs"]?.intValue ?? 0
            #expect(detail.summary.attempts == 1 + repairs, "each repair is a journaled attempt")
            repaired += repairs > 0 ? 1 : 0
        }
        // About 40 % of first answers are invalid; with seed 7 some are, and all were repaired.
        #expect(repaired >= 3 && repaired <= 16)
    }

    @Test func failRefusesWithTheViolationsAndJournalsInvalidOutput() async throws {
        let run = try await withPipeline(configure: { $0.validation.onInvalid = .fail }) { bench in
            bench.simulator.enqueue([.invalidOutput], provider: .openAI)
            let context = CallContext()
            do {
                _ = try await bench.pipeline.chat(try Self.structured(), context: context)
                Issue.record("an invalid answer was delivered")
            } catch let error as SwitchboardError {
                #expect(error.code == .invalidOutput && error.httpStatus == 422)
                #expect(error.message.contains("failed validation"))
                #expect(error.details["violations"]?.arrayValue?.isEmpty == false)
            }
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.summary.outcome == "invalid_output" && detail.summary.attempts == 1)
        #expect(detail.validation?["action"] == "fail")
    }

    @Test func flagDeliversTheAnswerMarksTheCallAndDoesNotCacheIt() async throws {
        let run = try await withPipeline(configure: { $0.validation.onInvalid = .flag }) { bench in
            bench.simulator.enqueue([.invalidOutput], provider: .openAI)
            let first = CallContext()
            _ = try await bench.pipeline.chat(try Self.structured(#", "temperature": 0"#), context: first)
            let second = CallContext()
            _ = try await bench.pipeline.chat(try Self.structured(#", "temperature": 0"#), context: second)
            return (first.requestID, second.requestID)
        }
        let first = try #require(try run.journal.call(requestID: run.value.0))
        #expect(first.summary.outcome == "ok" && first.validation?["action"] == "flag")
        #expect(first.validation?["violations"]?.arrayValue?.isEmpty == false)
        let second = try #require(try run.journal.call(requestID: run.value.1))
        #expect(second.summary.cache != "hit", "a flagged answer was served from the cache")
        #expect(second.validation?["action"] == "pass")
    }

    @Test func anInvalidToolInputIsRepairedThroughAToolResult() async throws {
        let request = try Anthropic.MessagesRequest(
            parsing: Array(
                #"{"model": "claude-haiku-4-5", "max_tokens": 200, "messages": [{"role": "user", "content": "Refund order A-1"}], "tools": [{"name": "refund", "input_schema": {"type": "object", "properties": {"order": {"type": "string"}, "amount": {"type": "number"}}, "required": ["order", "amount"]}}], "tool_choice": {"type": "tool", "name": "refund"}}"#
                    .utf8
            )
        )
        let run = try await withPipeline { bench in
            bench.simulator.enqueue([.invalidOutput], provider: .anthropic)
            let context = CallContext()
            let message = try await bench.pipeline.chat(request, context: context)
            return (context.requestID, message.json)
        }
        let input = try #require(run.value.1["content"]?.arrayValue?.first { $0["type"] == "tool_use" }?["input"])
        #expect(input["order"]?.stringValue != nil && input["amount"] != nil)
        let detail = try #require(try run.journal.call(requestID: run.value.0))
        #expect(detail.validation?["action"] == "repaired")
        #expect(detail.requestBody?.contains("tool_result") == false, "the caller's request is journaled as sent")
    }

    @Test func aStreamedAnswerCanOnlyBeFlagged() async throws {
        let run = try await withPipeline(configure: { $0.validation.onInvalid = .fail }) { bench in
            bench.simulator.enqueue([.invalidOutput], provider: .openAI)
            let context = CallContext()
            _ = try await collect(bench.pipeline.stream(try Self.structured(), context: context))
            return context.requestID
        }
        let detail = try #require(try run.journal.call(requestID: run.value))
        #expect(detail.summary.outcome == "ok")
        #expect(detail.validation?["action"] == "flag" && detail.validation?["streamed"] == true)
    }

    struct NoSimulatedText: OutputValidator {
        let name = "no-simulated"
        func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation] {
            output.text.contains("Simulated")
                ? [Violation(validator: name, message: "the answer admits it is simulated")] : []
        }
    }

    @Test func aRouteRunsItsOwnChecksIncludingCustomOnes() async throws {
        let run = try await withPipeline(
            configure: {
                var validation = SwitchboardConfiguration.Route.Validation()
                validation.onInvalid = .fail
                validation.grounding = true
                validation.code = true
                validation.custom = ["no-simulated"]
                $0.routes["checked"] = .init(
                    targets: [.init(provider: "openai", model: "gpt-4o-mini")],
                    validation: validation
                )
            },
            validators: [NoSimulatedText()]
        ) { bench in
            do {
                _ = try await bench.pipeline.chat(openAIRequest(model: "checked"))
                Issue.record("the custom check did not refuse")
            } catch let error as SwitchboardError {
                #expect(error.code == .invalidOutput && error.message.contains("no-simulated"))
            }
            // Other routes are not checked.
            _ = try await bench.pipeline.chat(openAIRequest(model: "default"))
            return true
        }
        #expect(run.value)
    }

    @Test func aRouteNamingAnUnknownValidatorOrAMissingSchemaFileDoesNotStart() throws {
        var configuration = SwitchboardConfiguration()
        var validation = SwitchboardConfiguration.Route.Validation()
        validation.custom = ["nobody"]
        configuration.routes["r"] = .init(
            targets: [.init(provider: "openai", model: "gpt-4o-mini")],
            validation: validation
        )
        #expect(throws: ValidationSetupError.self) { try Pipeline(configuration: configuration) }
        validation.custom = []
        validation.schemaFile = "/nonexistent/schema.json"
        configuration.routes["r"]?.validation = validation
        #expect(throws: ValidationSetupError.self) { try Pipeline(configuration: configuration) }
    }
}

extension OpenAI.ChatCompletionRequest {
    /// The same request asking something else.
    fileprivate func withPrompt(_ text: String) -> Self {
        var copy = self
        copy.messages = [.user(text)]
        return copy
    }
}
