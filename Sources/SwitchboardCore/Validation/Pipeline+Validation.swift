import Foundation
import SwitchboardJournal
import SwitchboardValidation
import SwitchboardWire
import Synchronization

/// A configuration problem found while preparing output validation (a schema file that cannot be
/// read or compiled, a custom validator that was not passed in, a missing knowledge directory).
public struct ValidationSetupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The output checks prepared when the pipeline starts: each route's validators, custom
/// validators by name, the knowledge directory's text, and compiled request schemas.
struct OutputChecks: Sendable {
    var routes: [String: (validators: [any OutputValidator], policy: SwitchboardConfiguration.Route.Validation)] = [:]
    let schemas = SchemaCache()

    init(configuration: SwitchboardConfiguration, custom: [any OutputValidator]) throws {
        let settings = configuration.validation
        let byName = Dictionary(custom.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var knowledge: [String] = []
        if let directory = settings.knowledgeDirectory {
            do {
                knowledge = try GroundingValidator.knowledge(in: directory)
            } catch {
                throw ValidationSetupError(
                    "validation.knowledge_dir: \(directory) cannot be read (\(error.localizedDescription))"
                )
            }
        }
        for (name, route) in configuration.routes {
            guard let policy = route.validation else { continue }
            var validators: [any OutputValidator] = []
            if let file = policy.schemaFile {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw ValidationSetupError(
                        "routes.\(name).validate.schema_file: \(file) cannot be read (\(error.localizedDescription))"
                    )
                }
                do {
                    validators.append(SchemaOutputValidator(schema: try JSONSchema(parsing: text)))
                } catch {
                    throw ValidationSetupError("routes.\(name).validate.schema_file: \(file): \(error)")
                }
            }
            if policy.code {
                validators.append(CodeBlockValidator(commands: settings.commands, timeout: settings.commandTimeout))
            }
            if policy.grounding {
                validators.append(GroundingValidator(entities: settings.entities, knowledge: knowledge))
            }
            for wanted in policy.custom {
                guard let validator = byName[wanted] else {
                    throw ValidationSetupError(
                        "routes.\(name).validate.custom names '\(wanted)', but no validator of that name was passed to the pipeline"
                    )
                }
                validators.append(validator)
            }
            routes[name] = (validators, policy)
        }
    }
}

/// Compiled schemas of requests (structured output, tools), by their JSON text: a caller sends the
/// same schema again and again. Bounded; a schema that does not compile is remembered as such.
final class SchemaCache: Sendable {
    private let entries = Mutex<[String: JSONSchema?]>([:])
    private static let capacity = 512

    func schema(_ document: JSONValue) -> JSONSchema? {
        let key = document.serialized()
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let compiled = try? JSONSchema(document)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = .some(compiled)
        }
        return compiled
    }
}

/// The checks one call's answer goes through, and what happens when it fails them.
struct ValidationPlan: Sendable {
    var validators: [any OutputValidator]
    var onInvalid: SwitchboardConfiguration.Route.Validation.OnInvalid
    var maxRepairs: Int
    var context: ValidationContext
}

extension Pipeline {
    /// The checks for a call: schemas the request brings (`response_format`, tools) and the
    /// route's; `nil` when there are none.
    func validationPlan<D: Dialect>(_ dialect: D.Type, request: D.Request, route: String?) -> ValidationPlan? {
        let json = request.json
        var validators: [any OutputValidator] = []
        switch D.format {
        case .openAI:
            if let format = json["response_format"], let type = format["type"]?.stringValue {
                if type == "json_schema", let document = format["json_schema"]?["schema"],
                    let schema = outputChecks.schemas.schema(document)
                {
                    validators.append(SchemaOutputValidator(schema: schema))
                } else if type == "json_object" {
                    validators.append(SchemaOutputValidator.jsonObject)
                }
            }
            var tools: [String: JSONSchema] = [:]
            for tool in json["tools"]?.arrayValue ?? [] {
                guard let function = tool["function"], let name = function["name"]?.stringValue else { continue }
                tools[name] = outputChecks.schemas.schema(function["parameters"] ?? ["type": "object"])
            }
            if !tools.isEmpty { validators.append(ToolInputValidator(schemas: tools)) }
        case .anthropic:
            var tools: [String: JSONSchema] = [:]
            for tool in json["tools"]?.arrayValue ?? [] {
                guard let name = tool["name"]?.stringValue, let document = tool["input_schema"] else { continue }
                tools[name] = outputChecks.schemas.schema(document)
            }
            if !tools.isEmpty { validators.append(ToolInputValidator(schemas: tools)) }
        }
        let routeChecks = route.flatMap { outputChecks.routes[$0] }
        validators += routeChecks?.validators ?? []
        guard !validators.isEmpty else { return nil }
        return ValidationPlan(
            validators: validators,
            onInvalid: routeChecks?.policy.onInvalid ?? configuration.validation.onInvalid,
            maxRepairs: routeChecks?.policy.maxRepairs ?? configuration.validation.maxRepairs,
            context: ValidationContext(sources: Self.contextTexts(json))
        )
    }

    /// Checks a whole answer; repairs it (asking the same target again with the violations) as
    /// the policy allows. Returns the answer to deliver, or throws `invalid_output` (`fail`).
    func validated<D: Dialect>(
        _ response: D.Response,
        plan: ValidationPlan,
        target: SwitchboardConfiguration.Target,
        provider: SwitchboardConfiguration.Provider,
        keys: [PoolKey],
        call: inout CallInProgress<D>,
        deadline: Date
    ) async throws -> D.Response {
        let clock = ContinuousClock()
        let start = clock.now
        var current = response
        var conversation = call.request
        var repairs = 0
        var first: [Violation] = []
        while true {
            let violations = await check(plan, Self.output(current.json, format: D.format))
            if violations.isEmpty {
                call.validation = Self.verdict(
                    repairs > 0 ? "repaired" : "pass",
                    plan,
                    repairs,
                    first,
                    [],
                    clock.now - start
                )
                return current
            }
            if first.isEmpty { first = violations }
            guard plan.onInvalid == .repair, repairs < plan.maxRepairs else {
                let action = plan.onInvalid == .flag ? "flag" : "fail"
                call.validation = Self.verdict(action, plan, repairs, first, violations, clock.now - start)
                if plan.onInvalid == .flag {
                    // A flagged answer is delivered, never cached.
                    if let write = call.cacheWrite, let cache {
                        call.cacheWrite = nil
                        await cache.finish(write.key, with: nil)
                    }
                    return current
                }
                throw SwitchboardError(
                    .invalidOutput,
                    "the model's answer failed validation"
                        + (repairs > 0 ? " after \(repairs) repair\(repairs == 1 ? "" : "s")" : "") + ": "
                        + violations.prefix(5).map(\.description).joined(separator: "; ")
                        + (violations.count > 5 ? "; and \(violations.count - 5) more" : "")
                        + "; change the request (a simpler schema, a clearer instruction) or the route's validate.on_invalid",
                    details: ["violations": .array(violations.map(\.json))]
                )
            }
            repairs += 1
            call.events.append(
                EventRecord(
                    at: self.clock.now(),
                    requestID: call.context.requestID,
                    kind: "repair",
                    scope: target.description,
                    detail: [
                        "repair": .integer(repairs), "violations": .array(violations.prefix(20).map(\.json)),
                    ]
                )
            )
            conversation = try Self.repairRequest(
                conversation,
                answer: current,
                violations: violations,
                format: D.format
            )
            call.earlierTokens = call.earlierTokens + call.tally.journaledTokens(estimate: call.estimate)
            let upstream = try D.upstreamBody(conversation, to: provider.kind, model: target.model, stream: false)
            let result = await attempts(
                on: target,
                provider: provider,
                keys: keys,
                upstream: upstream,
                call: &call,
                deadline: deadline,
                isLast: true,
                sink: nil
            )
            switch result {
            case .answered(let repaired):
                current = repaired
            case .streamed:
                preconditionFailure("a repair is never streamed")
            case .nextTarget(let reason):
                throw SwitchboardError(.upstreamExhausted, "the repair of an invalid answer failed: \(reason)")
            case .failed(let error):
                throw error
            }
        }
    }

    /// Checks a streamed answer once it is over. It was delivered as it came, so a failure can
    /// only be flagged (journaled with the call), whatever the policy.
    func validateStreamed<D: Dialect>(plan: ValidationPlan, call: inout CallInProgress<D>) async {
        let clock = ContinuousClock()
        let start = clock.now
        guard
            let whole = D.response(
                from: call.tally,
                request: call.request,
                requestID: call.context.requestID,
                created: Int(self.clock.now().timeIntervalSince1970)
            )
        else { return }
        let violations = await check(plan, Self.output(whole.json, format: D.format))
        var verdict = Self.verdict(
            violations.isEmpty ? "pass" : "flag",
            plan,
            0,
            violations,
            violations,
            clock.now - start
        )
        if !violations.isEmpty, case .object(var object) = verdict {
            object["streamed"] = true
            verdict = .object(object)
        }
        call.validation = verdict
    }

    private func check(_ plan: ValidationPlan, _ output: ModelOutput) async -> [Violation] {
        var found: [Violation] = []
        for validator in plan.validators {
            found += await validator.violations(in: output, context: plan.context)
        }
        return found
    }

    static func verdict(
        _ action: String,
        _ plan: ValidationPlan,
        _ repairs: Int,
        _ first: [Violation],
        _ last: [Violation],
        _ latency: Duration
    ) -> JSONValue {
        var object: JSONObject = [
            "action": .string(action),
            "validators": .array(Array(Set(plan.validators.map(\.name))).sorted().map(JSONValue.string)),
            "repairs": .integer(repairs),
            "latency_ms": .double((latency.millisecondsDouble * 1000).rounded() / 1000),
        ]
        if !last.isEmpty { object["violations"] = .array(last.prefix(50).map(\.json)) }
        if repairs > 0, !first.isEmpty { object["repaired_violations"] = .array(first.prefix(50).map(\.json)) }
        return .object(object)
    }

    // MARK: - Answers and requests in either format

    /// The answer's text and tool calls.
    static func output(_ response: JSONValue, format: APIFormat) -> ModelOutput {
        switch format {
        case .openAI:
            let message = response["choices"]?[0]?["message"]
            let calls = (message?["tool_calls"]?.arrayValue ?? []).map { call in
                ModelOutput.ToolCall(
                    id: call["id"]?.stringValue ?? "",
                    name: call["function"]?["name"]?.stringValue ?? "",
                    arguments: call["function"]?["arguments"]?.stringValue ?? ""
                )
            }
            return ModelOutput(text: message?["content"]?.stringValue ?? "", toolCalls: calls)
        case .anthropic:
            var text = ""
            var calls: [ModelOutput.ToolCall] = []
            for block in response["content"]?.arrayValue ?? [] {
                switch block["type"]?.stringValue {
                case "text": text += block["text"]?.stringValue ?? ""
                case "tool_use":
                    calls.append(
                        ModelOutput.ToolCall(
                            id: block["id"]?.stringValue ?? "",
                            name: block["name"]?.stringValue ?? "",
                            arguments: (block["input"] ?? [:]).serialized()
                        )
                    )
                default: continue
                }
            }
            return ModelOutput(text: text, toolCalls: calls)
        }
    }

    /// The request's own words (system prompt, every message): what grounding counts as given.
    static func contextTexts(_ request: JSONValue) -> [String] {
        var texts: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .string(let text): texts.append(text)
            case .array(let items): items.forEach(collect)
            case .object(let object):
                for key in ["content", "text", "system"] { if let member = object[key] { collect(member) } }
            default: break
            }
        }
        if let system = request["system"] { collect(system) }
        for message in request["messages"]?.arrayValue ?? [] { collect(message) }
        return texts
    }

    /// The conversation so far plus the invalid answer and what was wrong with it: a tool result
    /// marked as an error per tool call, or a user message listing the violations.
    static func repairRequest<Request: JSONRepresentable>(
        _ request: Request,
        answer: some JSONRepresentable,
        violations: [Violation],
        format: APIFormat
    ) throws -> Request {
        guard case .object(var json) = request.json else { return request }
        var messages = json["messages"]?.arrayValue ?? []
        let output = output(answer.json, format: format)
        let listing = violations.prefix(20).map { "- \($0.description)" }.joined(separator: "\n")
        let instruction =
            "Your previous answer did not pass validation:\n\(listing)\nAnswer again, correcting these problems. Reply with the corrected answer only."
        switch format {
        case .openAI:
            var assistant: JSONObject = [
                "role": "assistant", "content": output.text.isEmpty ? .null : .string(output.text),
            ]
            if let calls = answer.json["choices"]?[0]?["message"]?["tool_calls"] { assistant["tool_calls"] = calls }
            messages.append(.object(assistant))
            if output.toolCalls.isEmpty {
                messages.append(["role": "user", "content": .string(instruction)])
            } else {
                for call in output.toolCalls {
                    let own = violations.filter { $0.validator == "tool:\(call.name)" }
                    let text =
                        own.isEmpty
                        ? "OK"
                        : "Invalid arguments:\n" + own.map { "- \($0.description)" }.joined(separator: "\n")
                            + "\nCall the tool again with corrected arguments."
                    messages.append(["role": "tool", "tool_call_id": .string(call.id), "content": .string(text)])
                }
            }
        case .anthropic:
            messages.append(["role": "assistant", "content": answer.json["content"] ?? .array([])])
            if output.toolCalls.isEmpty {
                messages.append(["role": "user", "content": .string(instruction)])
            } else {
                let results: [JSONValue] = output.toolCalls.map { call in
                    let own = violations.filter { $0.validator == "tool:\(call.name)" }
                    return [
                        "type": "tool_result", "tool_use_id": .string(call.id), "is_error": .bool(!own.isEmpty),
                        "content": .string(
                            own.isEmpty
                                ? "OK"
                                : "Invalid input:\n" + own.map { "- \($0.description)" }.joined(separator: "\n")
                                    + "\nCall the tool again with corrected input."
                        ),
                    ]
                }
                messages.append(["role": "user", "content": .array(results)])
            }
        }
        json["messages"] = .array(messages)
        return try Request(json: .object(json))
    }
}
