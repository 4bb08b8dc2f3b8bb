import Foundation
import Testing

struct ConfigCommandTests {
    @Test func checkPrintsTheEffectiveConfigurationWithKeysMasked() async throws {
        let directory = try temporaryDirectory()
        let file = "\(directory)/switchboard.yaml"
        try "providers:\n  openai:\n    api_key: ${SB_TEST_KEY}\nroutes:\n  default: { targets: [gpt-4o-mini] }\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await switchboard(
            ["config", "check", file],
            environment: [
                "SB_TEST_KEY": "sk-proj-hiddenhiddenhidden9876", "SWITCHBOARD__GATEWAY__LISTEN": "0.0.0.0:9999",
            ]
        )
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("sk-…9876  # from $SB_TEST_KEY"))
        #expect(!result.output.contains("hiddenhidden"))
        #expect(result.output.contains("- openai/gpt-4o-mini"))
        #expect(result.output.contains("listen: 0.0.0.0:9999"))
        #expect(result.output.hasPrefix("# effective configuration from \(file)"))
    }

    @Test func aBadFileExitsOneNamingTheLineAndKey() async throws {
        let directory = try temporaryDirectory()
        let file = "\(directory)/bad.yaml"
        try "journal:\n  retention_days: forever\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await switchboard(["config", "check", file])
        #expect(result.status == 1)
        #expect(result.errors.contains("\(file):2:19: journal.retention_days: expected an integer, got 'forever'"))
        #expect(result.output.isEmpty)
    }
}
