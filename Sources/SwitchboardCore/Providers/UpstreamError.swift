import Foundation
import SwitchboardWire

/// A provider's error answer that retrying cannot fix (a bad request, a refused key), passed to
/// the caller in the caller's format with `x-should-retry: false`: Switchboard already decided.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// The provider's name in the configuration.
    public var provider: String
    /// The provider's error `type` (`invalid_request_error`) and OpenAI's `code`.
    public var type: String
    public var code: String?
    public var param: String?
    /// The provider's message, with anything key-shaped masked.
    public var message: String

    public init(status: Int, provider: String, type: String, code: String? = nil, param: String? = nil, message: String)
    {
        self.status = status
        self.provider = provider
        self.type = type
        self.code = code
        self.param = param
        self.message = SecretScanner.redact(message)
    }

    /// Reads a provider's error body (either format); a body that is neither gives its first
    /// 300 characters as the message.
    public init(status: Int, provider: String, body: [UInt8]) {
        if let openAI = try? OpenAI.ErrorBody(parsing: body) {
            self.init(
                status: status,
                provider: provider,
                type: openAI.type,
                code: openAI.code,
                param: openAI.param,
                message: openAI.message
            )
        } else if let anthropic = try? Anthropic.ErrorBody(parsing: body) {
            self.init(status: status, provider: provider, type: anthropic.error.type, message: anthropic.error.message)
        } else {
            let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            self.init(
                status: status,
                provider: provider,
                type: Self.anthropicType(status: status),
                message: text.isEmpty
                    ? "the provider answered \(status) with no error body" : "the provider answered \(status): \(text)"
            )
        }
    }

    public var description: String { "\(provider) answered \(status) \(type): \(message)" }

    /// The error body in the caller's format.
    public func body(_ format: APIFormat, requestID: String?) -> JSONValue {
        switch format {
        case .openAI:
            let type =
                type.hasSuffix("_error") && Self.openAITypes.contains(type) ? type : Self.openAIType(status: status)
            return OpenAI.ErrorBody(
                message: message,
                type: type,
                param: param,
                code: code ?? (type == self.type ? nil : self.type)
            ).json
        case .anthropic:
            let type = Self.anthropicTypes.contains(type) ? type : Self.anthropicType(status: status)
            return Anthropic.ErrorBody(type: type, message: message, requestID: requestID).json
        }
    }

    /// `x-should-retry: false`: the pipeline has retried what could be retried.
    public var headers: [HeaderField] { [HeaderField("x-should-retry", "false")] }

    private static let openAITypes: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "rate_limit_error",
        "server_error", "insufficient_quota",
    ]
    private static let anthropicTypes: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large",
        "rate_limit_error", "api_error", "overloaded_error", "billing_error", "timeout_error",
    ]

    static func openAIType(status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    static func anthropicType(status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 504: "timeout_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
    }
}
