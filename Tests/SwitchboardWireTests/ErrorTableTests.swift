import Foundation
import Testing

@testable import SwitchboardWire

/// The error table promises how the official SDKs behave; these tests hold it to the SDKs' rules
/// as quoted in the wire facts (§1.6, §3.6, §7.4).
struct ErrorTableTests {
    /// `BaseClient._should_retry`, identical in both SDKs: `x-should-retry` first, then 408, 409,
    /// 429 and 5xx.
    static func sdkWouldRetry(status: Int, headers: [HeaderField]) -> Bool {
        switch headers.first(where: { $0.name == "x-should-retry" })?.value {
        case "true": return true
        case "false": return false
        default: return [408, 409, 429].contains(status) || status >= 500
        }
    }

    /// `OpenAI._make_status_error`.
    static func openAIClass(_ status: Int) -> String {
        [
            400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
            409: "ConflictError", 422: "UnprocessableEntityError", 429: "RateLimitError",
        ][status]
            ?? (status >= 500 ? "InternalServerError" : "APIStatusError")
    }

    /// `Anthropic._make_status_error`.
    static func anthropicClass(_ status: Int) -> String {
        [
            400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
            409: "ConflictError", 413: "RequestTooLargeError", 422: "UnprocessableEntityError", 429: "RateLimitError",
            529: "OverloadedError",
        ][status] ?? (status >= 500 ? "InternalServerError" : "APIStatusError")
    }

    /// What clears by waiting, decided independently of the table.
    static let clearsByWaiting: Set<String> = [
        "rate_limited", "token_limited", "upstream_unavailable", "journal_unavailable", "state_unavailable",
        "shutting_down",
    ]

    @Test func everyCodeHasExactlyOneRow() {
        #expect(ErrorTable.entries.map(\.code) == SwitchboardError.Code.allCases)
    }

    @Test(arguments: SwitchboardError.Code.allCases)
    func sdksRetryExactlyWhatClearsByWaiting(code: SwitchboardError.Code) {
        let error = SwitchboardError(code, "test", retryAfter: .seconds(3))
        for format in APIFormat.allCases {
            let retried = Self.sdkWouldRetry(status: error.httpStatus, headers: error.headers(format))
            #expect(retried == Self.clearsByWaiting.contains(code.name), "\(code) in \(format)")
        }
    }

    @Test(arguments: SwitchboardError.Code.allCases)
    func theTableNamesTheExceptionTheSDKsRaise(code: SwitchboardError.Code) {
        let entry = ErrorTable.entry(for: code)
        #expect(entry.sdkErrors.openAI == Self.openAIClass(entry.httpStatus))
        #expect(entry.sdkErrors.anthropic == Self.anthropicClass(entry.httpStatus))
    }

    @Test func retryAfterIsSentOnlyWhenRetryingHelps() {
        for code in SwitchboardError.Code.allCases {
            let headers = SwitchboardError(code, "x", retryAfter: .milliseconds(1_500)).headers(.openAI)
            let names = headers.map(\.name)
            if ErrorTable.entry(for: code).shouldRetry {
                #expect(names == ["x-should-retry", "retry-after", "retry-after-ms"], "\(code)")
                #expect(headers[1].value == "2")
            } else {
                #expect(names == ["x-should-retry"], "\(code)")
            }
        }
        #expect(
            SwitchboardError(.rateLimited, "x", retryAfter: .seconds(1)).headers(.anthropic).map(\.name) == [
                "x-should-retry", "retry-after",
            ]
        )
    }

    @Test func budgetErrorsLookLikeAQuotaErrorThatIsNeverRetried() {
        let error = SwitchboardError(.budgetExceeded, "user carol has spent her $50.00 budget for 2026-11")
        #expect(
            error.openAIBody.serialized()
                == #"{"error":{"message":"user carol has spent her $50.00 budget for 2026-11","type":"insufficient_quota","param":null,"code":"budget_exceeded"}}"#
        )
        #expect(error.headers(.openAI) == [HeaderField("x-should-retry", "false")])
    }

    @Test func bodiesCarryDetailsWithoutDisturbingTheProviderShape() {
        let error = SwitchboardError(
            .moderationBlocked,
            "blocked: violence/graphic 0.91",
            details: ["categories": ["violence/graphic"]]
        )
        let anthropic = error.anthropicBody(requestID: "req_1")
        #expect(
            anthropic.serialized()
                == #"{"type":"error","error":{"type":"invalid_request_error","message":"blocked: violence/graphic 0.91","switchboard":{"categories":["violence/graphic"]}},"request_id":"req_1"}"#
        )
        #expect(error.openAIBody.json["error"]?["switchboard"]?["categories"] == ["violence/graphic"])
    }

    @Test func theReadmeShowsTheTableAsItIs() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains(ErrorTable.markdown()), "README.md is out of date: paste `switchboard errors --markdown`")
    }
}

extension SwitchboardError.Code: CustomTestStringConvertible {
    public var testDescription: String { name }
}
