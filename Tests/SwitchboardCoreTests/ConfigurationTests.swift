import Foundation
import SwitchboardCore
import SwitchboardTesting
import Testing

struct ConfigurationTests {
    private static let designExample = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/design/switchboard.example.yaml").standardized.path

    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError)
        -> SwitchboardConfiguration
    {
        try SwitchboardConfiguration(
            yaml: try ConfigNode.parse(yaml: yaml, file: "switchboard.yaml"),
            environment: environment
        )
    }

    @Test func anEmptyFileRunsOnTheDocumentedDefaults() throws {
        let configuration = try load("")
        #expect(configuration.journal.path == "./switchboard.journal.sqlite")
        #expect(configuration.journal.storeBodies == .redacted)
        #expect(configuration.state.backend == .sqlite)
        #expect(configuration.resilience.retry.maxAttempts == 4)
        #expect(configuration.resilience.retry.base == .milliseconds(500))
        #expect(configuration.resilience.retryBudget.ratio == 0.1)
        #expect(configuration.resilience.timeouts.total == .seconds(120))
        #expect(configuration.providers.keys.sorted() == ["anthropic", "openai"])
        #expect(configuration.providers["openai"]?.apiKeys == [])
        #expect(configuration.budgets.defaultUser.hardNanoUSD == 50_000_000_000)
        #expect(configuration.console.user == "operator")
        #expect(configuration.routes.isEmpty)
    }

    @Test func theDesignExampleReadsWithItsKeysInTheEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("anthropic.key").path
        try "sk-ant-api03-filekey0000000000wxyz\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        let text = try String(contentsOfFile: Self.designExample, encoding: .utf8)
            .replacingOccurrences(of: "/etc/switchboard/anthropic.key", with: keyFile)
        let configuration = try load(
            text,
            environment: ["OPENAI_API_KEY": "sk-proj-envkey000000000000abcd", "USER": "ada"]
        )

        #expect(configuration.providers["openai"]?.apiKeys.map(\.source) == ["$OPENAI_API_KEY"])
        #expect(configuration.providers["anthropic"]?.apiKeys.map(\.value) == ["sk-ant-api03-filekey0000000000wxyz"])
        #expect(
            configuration.routes["default"]?.targets
                == [
                    .init(provider: "openai", model: "gpt-4o-mini"),
                    .init(provider: "anthropic", model: "claude-haiku-4-5"),
                ]
        )
        #expect(configuration.routes["premium"]?.cacheTTL == .seconds(600))
        #expect(configuration.routes["premium"]?.validation?.maxRepairs == 2)
        #expect(configuration.cache.exact.maxMemory == 64 << 20)
        #expect(configuration.console.user == "ada")
        #expect(configuration.moderation.block.count == 4)
    }

    @Test func keyFilesReadableByOthersAreRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sb-key-\(UUID().uuidString)").path
        try "sk-proj-0000000000000000abcd".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o644)
        do {
            _ = try load("providers:\n  openai:\n    api_key: file:\(path)\n")
            Issue.record("a world-readable key file was accepted")
        } catch {
            #expect(error.location == ConfigLocation(file: "switchboard.yaml", line: 3, column: 14))
            #expect(error.message.contains("chmod 600 \(path)"))
        }
    }

    @Test func keysWrittenInTheFileAreRefusedWithoutEchoingThem() throws {
        do {
            _ = try load("providers:\n  openai:\n    api_key: sk-proj-0123456789abcdefghij\n")
            Issue.record("a literal key was accepted")
        } catch {
            #expect(error.keyPath == "providers.openai.api_key")
            #expect(!error.description.contains("0123456789abcdefghij"))
            #expect(error.message.contains("${NAME}"))
        }
    }

    @Test(arguments: [
        (
            "resilience:\n  retry:\n    max_atempts: 3\n", 3, "resilience.retry.max_atempts",
            "did you mean 'max_attempts'?"
        ),
        ("journal:\n  store_bodies: some\n", 2, "journal.store_bodies", "expected one of 'full', 'redacted', 'none'"),
        (
            "routes:\n  default:\n    targets: [mistral-large]\n", 3, "routes.default.targets[0]",
            "write it as provider/model"
        ),
        ("budgets:\n  default_user: { hard: 10, soft: 20 }\n", 2, "budgets.default_user", "must not exceed"),
        ("budgets:\n  tenants:\n    acme: { soft: 20 }\n", 3, "budgets.tenants.acme", "needs a hard limit"),
        ("resilience:\n  timeouts: { total: 0s }\n", 2, "resilience.timeouts.total", "longer than zero"),
        ("providers:\n  mistral:\n    base_url: https://api.mistral.ai\n", 3, "providers.mistral", "kind: openai"),
        ("state:\n  redis_url: rediss://cache:6380\n", 2, "state.redis_url", "TLS"),
        ("state:\n  on_redis_down: { cache: closed }\n", 2, "state.on_redis_down.cache", "always fails open"),
        ("state:\n  redis_url: redis://:pw@cache/zero\n", 2, "state.redis_url", "database must be a number"),
        ("cache:\n  prompt: { affinity_floor: 1.5 }\n", 2, "cache.prompt.affinity_floor", "between 0 and 1"),
        ("cache:\n  prompt: { ttl: 2h }\n", 2, "cache.prompt.ttl", "'5m', '1h', 'auto'"),
    ])
    func errorsNameTheLineTheKeyAndTheFix(yaml: String, line: Int, keyPath: String, fix: String) throws {
        do {
            _ = try load(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.location?.line == line)
            #expect(error.keyPath == keyPath)
            #expect(error.message.contains(fix), "\(error)")
        }
    }

    @Test func environmentOverridesWinOverTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sb-\(UUID().uuidString).yaml").path
        try "journal:\n  path: file.sqlite\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try SwitchboardConfiguration.load(
            path: path,
            environment: [
                "SWITCHBOARD__JOURNAL__PATH": "env.sqlite", "SWITCHBOARD__RESILIENCE__PACING__ENABLED": "false",
            ]
        )
        #expect(configuration.journal.path == "env.sqlite")
        #expect(configuration.resilience.pacing.enabled == false)
        #expect(configuration.source == path)
    }

    @Test func bareModelsFindTheirProviderByName() throws {
        let configuration = try load("")
        #expect(configuration.target("gpt-4o-mini") == .init(provider: "openai", model: "gpt-4o-mini"))
        #expect(configuration.target("o3-mini") == .init(provider: "openai", model: "o3-mini"))
        #expect(configuration.target("claude-haiku-4-5") == .init(provider: "anthropic", model: "claude-haiku-4-5"))
        #expect(configuration.target("anthropic/claude-x") == .init(provider: "anthropic", model: "claude-x"))
        #expect(configuration.target("nobody/model") == nil)
        #expect(configuration.target("mistral-large") == nil)
    }

    @Test func theRenderedConfigurationReadsBackTheSameAndMasksKeys() throws {
        let yaml = """
            providers:
              sim:
                kind: anthropic
                base_url: http://127.0.0.1:9/
                api_keys: [sk-sim-alpha-000000000000wxyz, "${KEY}"]
            routes:
              default: { targets: [openai/gpt-4o-mini, sim/claude-haiku-4-5], cache: { ttl: 10m } }
            resilience:
              retry: { max_attempts: 6, base: 250ms, cap: 4s }
              pacing: { enabled: false }
            budgets:
              default_user: { hard: 12.345, soft: 1 }
              users: { ada: { hard: 100 } }
              tenants: { acme: { hard: 1000, soft: 900 } }
            cache:
              exact: { max_memory: 3MB, replay_pacing: true }
              prompt: { ttl: auto, key_affinity: false, affinity_floor: 0.35 }
            limits:
              users: { ada: { rpm: 5 } }
              routes: { default: { tpm: 500 } }
              over_output_cap: refuse
            console:
              user: "yes"
            """
        let environment = ["KEY": "sk-proj-secretvalue00000000klmn"]
        let original = try load(yaml, environment: environment)
        let rendered = original.renderedYAML
        #expect(!rendered.contains("secretvalue"))
        #expect(rendered.contains("sk-…klmn  # from $KEY"))
        #expect(!rendered.contains("alpha-000000000000"))

        // Keys print as fingerprints, which do not read back: compare the rest.
        func withoutKeys(_ text: String) -> String {
            text.split(separator: "\n").filter { !$0.contains("# from") && !$0.contains("api_keys") }.joined(
                separator: "\n"
            )
        }
        let unmasked = withoutKeys(rendered)
        let reread = try load(unmasked, environment: environment)
        #expect(withoutKeys(reread.renderedYAML) == unmasked)
        #expect(reread.resilience.retry.maxAttempts == 6)
        #expect(reread.resilience.retry.base == .milliseconds(250))
        #expect(reread.resilience.pacing.enabled == false)
        #expect(reread.budgets.defaultUser.hardNanoUSD == 12_345_000_000)
        #expect(reread.budgets.defaultUser.softNanoUSD == 1_000_000_000)
        #expect(reread.budgets.users["ada"] == .init(hardNanoUSD: 100_000_000_000, softNanoUSD: 80_000_000_000))
        #expect(reread.budgets.tenants["acme"]?.softNanoUSD == 900_000_000_000)
        #expect(reread.cache.exact.maxMemory == 3 << 20)
        #expect(reread.cache.exact.replayPacing)
        #expect(reread.cache.prompt.ttlAuto && !reread.cache.prompt.keyAffinity)
        #expect(reread.cache.prompt.affinityFloor == 0.35)
        #expect(reread.limits.users["ada"] == .init(rpm: 5, tpm: 100_000, maxOutputTokens: 4096))
        #expect(reread.limits.routes["default"]?.tpm == 500)
        #expect(reread.limits.overOutputCap == .refuse)
        #expect(reread.console.user == "yes")
        #expect(reread.routes["default"]?.cacheTTL == .seconds(600))
        #expect(reread.providers["sim"]?.baseURL == "http://127.0.0.1:9")
    }
}
