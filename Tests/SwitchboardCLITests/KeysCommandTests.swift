import Foundation
import SwitchboardCore
import SwitchboardTesting
import Testing

/// `switchboard keys`: virtual keys kept as hashes, revocation seen by every process, leak scans.
struct KeysCommandTests {
    func secret(in output: String) throws -> String {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("secret: ") })
        return String(line.dropFirst("secret: ".count))
    }

    @Test func aKeyIsStoredOnlyAsAHashAndARevocationIsSeenByEveryProcess() async throws {
        let directory = try temporaryDirectory()
        let state = "\(directory)/state.sqlite"
        let created = try await switchboard([
            "keys", "create", "--user", "alice", "--tenant", "acme", "--rpm", "30", "--budget", "12.50",
            "--allow-user-header", "--state", state,
        ])
        #expect(created.status == 0, "\(created.errors)")
        let secret = try secret(in: created.output)
        #expect(secret.hasPrefix("sk-sb-") && secret.count == 59)

        // The secret is nowhere in the database or its WAL.
        for file in [state, state + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
            #expect(bytes.range(of: Data(secret.suffix(40).utf8)) == nil)
        }

        let store = try VirtualKeyStore(path: state)
        let key = try #require(try store.authenticate(secret))
        #expect(key.userID == "alice" && key.tenantID == "acme" && key.rpm == 30)
        #expect(key.budgetNanoUSD == 12_500_000_000 && key.allowUserHeader)
        let tampered = String(secret.dropLast()) + (secret.hasSuffix("0") ? "1" : "0")
        #expect(try store.authenticate(tampered) == nil)
        #expect(try store.authenticate("sk-sb-000000000000-" + String(repeating: "a", count: 40)) == nil)

        let revoked = try await switchboard(["keys", "revoke", key.id, "--state", state])
        #expect(revoked.output == "revoked \(key.id) (user alice)\n")
        #expect(try store.authenticate(secret) == nil, "another process's revocation holds at once")

        let list = try await switchboard(["keys", "list", "--state", state])
        #expect(list.output.contains("no keys"))
        let all = try await switchboard(["keys", "list", "--all", "--json", "--state", state])
        let row = try JSONValue.parse(String(all.output.split(separator: "\n")[0]))
        #expect(row["id"]?.stringValue == key.id)
        #expect(row["revoked_at"]?.stringValue != nil)
        #expect(!all.output.contains(secret))
    }

    @Test func rotatingGivesANewSecretOfTheSameSettingsAndRetiresTheOld() async throws {
        let state = "\(try temporaryDirectory())/state.sqlite"
        let created = try await switchboard(["keys", "create", "--user", "bo", "--tpm", "5000", "--state", state])
        let old = try secret(in: created.output)
        let store = try VirtualKeyStore(path: state)
        let id = try #require(try store.authenticate(old)?.id)
        let rotated = try await switchboard(["keys", "rotate", id, "--state", state])
        #expect(rotated.status == 0, "\(rotated.errors)")
        let new = try secret(in: rotated.output)
        #expect(try store.authenticate(old) == nil)
        #expect(try store.authenticate(new)?.tpm == 5_000)
        let again = try await switchboard(["keys", "rotate", id, "--state", state])
        #expect(again.status != 0 && again.errors.contains("is revoked; create a new one instead"))
        let missing = try await switchboard(["keys", "revoke", "vk_nope", "--state", state])
        #expect(missing.status != 0 && missing.errors.contains("no key vk_nope"))
        let bad = try await switchboard(["keys", "create", "--user", "x", "--rpm", "0", "--state", state])
        #expect(bad.status != 0 && bad.errors.contains("--rpm must be positive"))
    }

    @Test func aScanFindsLeakedKeysMaskedAndFailsLikeAPreCommitHook() async throws {
        let tree = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(tree)/src", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(tree)/.git", withIntermediateDirectories: true)
        let openAI = "sk-proj-" + String(repeating: "Ab3", count: 12) + "wxyz"
        let aws = "AKIA" + "IOSFODNN7EXAMPLE"
        try "let key = \"\(openAI)\"\nlet fine = \"sk-sim-demo-key\"\n".write(
            toFile: "\(tree)/src/app.swift",
            atomically: true,
            encoding: .utf8
        )
        try "aws_access_key_id = \(aws)\nfixture = \(openAI)  # switchboard-scan: allow\n".write(
            toFile: "\(tree)/config.ini",
            atomically: true,
            encoding: .utf8
        )
        try "token = \(openAI)\n".write(toFile: "\(tree)/.git/config", atomically: true, encoding: .utf8)
        let scan = try await switchboard(["keys", "scan", tree])
        #expect(scan.status == 1)
        let lines = scan.output.split(separator: "\n")
        #expect(
            lines == ["\(tree)/config.ini:1:21: aws key AKIA…MPLE", "\(tree)/src/app.swift:1:12: openai key sk-…wxyz"]
        )
        #expect(!scan.output.contains(openAI) && !scan.output.contains(aws))
        #expect(scan.errors.contains("2 secrets found"))

        let clean = try temporaryDirectory()
        try "print(\"hello\")\n".write(toFile: "\(clean)/main.py", atomically: true, encoding: .utf8)
        let none = try await switchboard(["keys", "scan", clean])
        #expect(none.status == 0)
        #expect(none.output == "no secrets found in 1 files\n")
    }
}
