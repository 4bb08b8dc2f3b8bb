import Foundation
import SwitchboardWire
import Synchronization

extension Simulator {
    // MARK: - POST /v1/moderations

    func moderations(_ request: Request) -> SimulatedReply {
        let requestID = newRequestID(.openAI)
        let headers = baseHeaders(.openAI, requestID: requestID)
        func error(_ status: Int, _ message: String, param: String? = nil, code: String? = nil) -> SimulatedReply {
            Self.json(
                status,
                headers,
                OpenAI.ErrorBody(message: message, type: "invalid_request_error", param: param, code: code).json
            )
        }
        guard let key = request.bearerToken else {
            return error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
        }
        guard keySettings(key) != nil else {
            return error(401, "Incorrect API key provided: \(Self.mask(key)).", code: "invalid_api_key")
        }
        let body: OpenAI.ModerationRequest
        do {
            body = try OpenAI.ModerationRequest(parsing: request.body)
        } catch let problem as WireDecodingError {
            let (message, param) = Self.openAIMessage(for: problem)
            return error(400, message, param: param)
        } catch {
            return Self.json(400, headers, OpenAI.ErrorBody(message: "\(error)", type: "invalid_request_error").json)
        }
        let model = body.model ?? "omni-moderation-latest"
        guard model.contains("moderation") else {
            return error(
                404,
                "The model `\(model)` does not exist or you do not have access to it.",
                code: "model_not_found"
            )
        }
        if let header = request.header("x-sim-fault"), let fault = Fault(header: header),
            let reply = openAIFaultReply(fault, headers: headers, model: model)
        {
            countFault(fault)
            return reply
        }
        let id = state.withLock { Self.identifier(&$0.random, prefix: "modr-", length: 32, hex: true) }
        let resolvedModel = model == "omni-moderation-latest" ? "omni-moderation-2024-09-26" : model
        let results = body.texts.map { KeywordModerator.classify($0, hasImage: body.hasImage) }
        return Self.json(200, headers, OpenAI.ModerationResponse(id: id, model: resolvedModel, results: results).json)
    }

    // MARK: - GET /v1/models

    /// The served models, in Anthropic's list format when the request carries `anthropic-version`
    /// or `x-api-key`, else in OpenAI's.
    func models(_ request: Request) -> SimulatedReply {
        let anthropic = request.header("anthropic-version") != nil || request.header("x-api-key") != nil
        let created = 1_700_000_000
        if anthropic {
            let headers = baseHeaders(.anthropic, requestID: newRequestID(.anthropic))
            let data: [JSONValue] = configuration.models.anthropic.map { id in
                ["type": "model", "id": .string(id), "display_name": .string(id), "created_at": "2025-10-01T00:00:00Z"]
            }
            let body: JSONValue = [
                "data": .array(data), "has_more": false,
                "first_id": configuration.models.anthropic.first.map(JSONValue.string) ?? .null,
                "last_id": configuration.models.anthropic.last.map(JSONValue.string) ?? .null,
            ]
            return Self.json(200, headers, body)
        }
        let headers = baseHeaders(.openAI, requestID: newRequestID(.openAI))
        let data: [JSONValue] = configuration.models.openAI.map { id in
            ["id": .string(id), "object": "model", "created": .integer(created), "owned_by": "system"]
        }
        return Self.json(200, headers, ["object": "list", "data": .array(data)])
    }
}
