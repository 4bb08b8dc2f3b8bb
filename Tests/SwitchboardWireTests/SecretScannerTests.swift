import Testing

@testable import SwitchboardWire

struct SecretScannerTests {
    @Test(arguments: [
        ("key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234 here", SecretScanner.Kind.openAI, "sk-…1234"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-9f3c", .anthropic, "sk-ant-…9f3c"),
        ("aws AKIAIOSFODNN7EXAMPLE.", .aws, "AKIA…MPLE"),
        ("token=ghp_abcdefghijklmnopqrstuvwxyz0123456789", .github, "ghp_…6789"),
        ("github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz012345", .github, "github_pat_…2345"),
        ("\"xoxb-123456789012-abcdefghij\"", .slack, "xoxb-…ghij"),
    ])
    func keyShapedSecretsAreFoundAndFingerprinted(text: String, kind: SecretScanner.Kind, fingerprint: String) throws {
        let match = try #require(SecretScanner.matches(in: text).first)
        #expect(match.kind == kind)
        #expect(match.fingerprint == fingerprint)
        #expect(!SecretScanner.redact(text).contains(match.secret))
        #expect(SecretScanner.redact(text).contains(fingerprint))
    }

    @Test(arguments: [
        "ask-me anything", "sk-short", "risk-assessment-for-the-quarterly-report", "AKIA too short",
        "XAKIAIOSFODNN7EXAMPLE",
        "ghp_tooshort", "the task-sk-proj-notakey", "xoxb-1",
    ])
    func lookalikesAreLeftAlone(text: String) {
        #expect(SecretScanner.matches(in: text).isEmpty)
        #expect(SecretScanner.redact(text) == text)
    }

    @Test func everySecretInATextIsMaskedAndTheRestKept() {
        let text = "use sk-aaaaaaaaaaaaaaaaaaaaaaaa1111 or sk-ant-bbbbbbbbbbbbbbbbbbbbbb2222, café ☕"
        #expect(SecretScanner.redact(text) == "use sk-…1111 or sk-ant-…2222, café ☕")
    }
}
