import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardWire

extension Gateway {
    /// What callers may name as `model`: every route, then every provider model the configured
    /// providers serve (the routes' targets and the priced, not deprecated, models of each
    /// provider's kind). Clients that look like Anthropic's (`x-api-key` or `anthropic-version`)
    /// get Anthropic's list format; everyone else OpenAI's.
    func models(request: Request, context: GatewayRequestContext) async -> Response {
        let anthropic =
            request.headers[HTTPField.Name("anthropic-version")!] != nil
            || request.headers[HTTPField.Name("x-api-key")!] != nil
        let format: APIFormat = anthropic ? .anthropic : .openAI
        let requestID = CallContext.newRequestID()
        do {
            _ = try identify(request, remoteAddress: context.remoteAddress, requestID: requestID)
        } catch {
            return errorResponse(error, format: format, requestID: requestID)
        }
        let entries = catalog()
        let created = Int(pipeline.configuration.source.flatMap(Self.modificationTime) ?? 1_735_689_600)
        let body: JSONValue
        switch format {
        case .openAI:
            body = [
                "object": "list",
                "data": .array(
                    entries.map { entry in
                        [
                            "id": .string(entry.id), "object": "model", "created": .integer(created),
                            "owned_by": .string(entry.owner),
                        ]
                    }
                ),
            ]
        case .anthropic:
            let createdAt = RFC3339.format(Date(timeIntervalSince1970: TimeInterval(created)))
            body = [
                "data": .array(
                    entries.map { entry in
                        [
                            "type": "model", "id": .string(entry.id), "display_name": .string(entry.id),
                            "created_at": .string(createdAt),
                        ]
                    }
                ),
                "has_more": false,
                "first_id": entries.first.map { .string($0.id) } ?? .null,
                "last_id": entries.last.map { .string($0.id) } ?? .null,
            ]
        }
        return Self.json(200, body, headers: Self.requestIDFields(requestID, format: format))
    }

    /// Routes first (owned by `switchboard`), then provider models (owned by the provider's name).
    func catalog() -> [(id: String, owner: String)] {
        let configuration = pipeline.configuration
        var entries = configuration.routes.keys.sorted().map { (id: $0, owner: "switchboard") }
        var seen = Set(entries.map(\.id))
        var models: [(id: String, owner: String)] = []
        for route in configuration.routes.values {
            for target in route.targets { models.append((target.model, target.provider)) }
        }
        for (name, provider) in configuration.providers {
            for (model, prices) in pipeline.prices.models
            where prices.provider == provider.kind && prices.deprecated == nil {
                models.append((model, name))
            }
        }
        for model in models.sorted(by: { ($0.owner, $0.id) < ($1.owner, $1.id) }) where seen.insert(model.id).inserted {
            entries.append(model)
        }
        return entries
    }

    static func modificationTime(_ path: String) -> TimeInterval? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)?.timeIntervalSince1970
    }

    /// `POST /v1/moderations` (OpenAI format), answered by Switchboard's own moderation.
    func moderations(request: Request, context: GatewayRequestContext) async -> Response {
        let requestID = CallContext.newRequestID()
        do {
            _ = try identify(request, remoteAddress: context.remoteAddress, requestID: requestID)
            let body = try await readBody(request)
            let moderation = try Self.decode(OpenAI.ModerationRequest.self, body)
            let answer = await pipeline.moderations(moderation)
            return Self.json(200, answer.json, headers: Self.requestIDFields(requestID, format: .openAI))
        } catch {
            return errorResponse(error, format: .openAI, requestID: requestID)
        }
    }
}
