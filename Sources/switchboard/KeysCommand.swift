import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard keys`: virtual keys for gateway callers, and a scan for leaked provider keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list, revoke and rotate virtual keys; scan a tree for leaked secrets.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self, Scan.self]
    )

    /// Where the keys live: `--state PATH`, else the configuration's `state.sqlite_path`.
    struct StoreOptions: ParsableArguments {
        @Option(help: "The state database (default: the configuration's state.sqlite_path).") var state: String?
        @OptionGroup var config: ConfigOptions

        func open() throws -> VirtualKeyStore {
            let path = try state ?? config.load().state.sqlitePath
            do {
                return try VirtualKeyStore(path: path)
            } catch {
                throw CommandFailure(error.message)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key for a caller; its secret is printed once and never stored."
        )

        @OptionGroup var store: StoreOptions
        @Option(help: "The user the key's calls are billed and limited as.") var user: String
        @Option(help: "The user's tenant.") var tenant: String?
        @Option(help: "Requests per minute (default: the configured user limits).") var rpm: Int?
        @Option(help: "Tokens per minute.") var tpm: Int?
        @Option(help: "Budget per billing period, in dollars.") var budget: String?
        @Option(help: "Most output tokens per request.") var maxOutputTokens: Int?
        @Flag(help: "Trust x-switchboard-user from this key (a backend serving many end users).")
        var allowUserHeader = false
        @Option(help: "A note to tell keys apart.") var label: String?
        @Flag(help: "As JSON.") var json = false

        func run() throws {
            for (name, value) in [("--rpm", rpm), ("--tpm", tpm), ("--max-output-tokens", maxOutputTokens)] {
                if let value, value <= 0 { throw ValidationError("\(name) must be positive") }
            }
            let budgetNanoUSD = try budget.map { text in
                guard let nano = SwitchboardConfiguration.Budgets.nanoUSD(text) else {
                    throw ValidationError("--budget: expected dollars such as 25 or 12.50, got '\(text)'")
                }
                return nano
            }
            let (key, secret) = try store.open().create(
                userID: user,
                tenantID: tenant,
                rpm: rpm,
                tpm: tpm,
                maxOutputTokens: maxOutputTokens,
                budgetNanoUSD: budgetNanoUSD,
                allowUserHeader: allowUserHeader,
                label: label
            )
            if json {
                var object = KeysCommand.json(key)
                object["secret"] = .string(secret)
                print(JSONValue.object(object).serialized(.prettyPrinted))
                return
            }
            print("key \(key.id) for user \(user)\(tenant.map { " (tenant \($0))" } ?? "")")
            print("secret: \(secret)")
            print("Store it now: it is shown once and Switchboard keeps only its hash.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The keys, newest first (never their secrets).")

        @OptionGroup var store: StoreOptions
        @Flag(help: "Include revoked keys.") var all = false
        @Flag(help: "As JSON lines.") var json = false

        func run() throws {
            let keys = try store.open().list(includeRevoked: all)
            if json {
                for key in keys { print(JSONValue.object(KeysCommand.json(key)).serialized()) }
                return
            }
            var table = TextTable([
                ("id", .left), ("user", .left), ("tenant", .left), ("rpm", .right), ("tpm", .right),
                ("max out", .right), ("budget", .right), ("user header", .left), ("created", .left), ("state", .left),
            ])
            for key in keys {
                table.add([
                    key.id, key.userID, key.tenantID ?? "-", key.rpm.map(String.init) ?? "-",
                    key.tpm.map(String.init) ?? "-", key.maxOutputTokens.map(String.init) ?? "-",
                    key.budgetNanoUSD.map { Format.usd($0) } ?? "-", key.allowUserHeader ? "trusted" : "-",
                    Format.timestamp(key.createdAt),
                    key.revokedAt.map { "revoked \(Format.timestamp($0))" } ?? "active",
                ])
            }
            if keys.isEmpty {
                print("no keys; `switchboard keys create --user NAME` makes one")
            } else {
                print(table.rendered, terminator: "")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a key from now on, in every process.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's id (vk_…).") var id: String

        func run() throws {
            guard let key = try store.open().revoke(id) else {
                throw CommandFailure("no key \(id); `switchboard keys list --all` shows them")
            }
            print("revoked \(key.id) (user \(key.userID))")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key with a new one of the same settings, and revoke the old one."
        )

        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's id (vk_…).") var id: String

        func run() throws {
            let (key, secret) = try store.open().rotate(id)
            print("key \(key.id) replaces \(id) (revoked) for user \(key.userID)")
            print("secret: \(secret)")
            print("Store it now: it is shown once and Switchboard keeps only its hash.")
        }
    }

    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find provider-key-shaped secrets in files; exit code 1 when there are any.",
            discussion: """
                Finds OpenAI, Anthropic, AWS, GitHub and Slack key shapes (and Switchboard's own \
                virtual keys) in text files below each PATH (default: the current folder), skipping \
                .git, .build, node_modules and .venv. Secrets are printed masked. Simulator keys \
                (sk-sim-…) are not secrets; a line containing "switchboard-scan: allow" is skipped. \
                As a pre-commit hook: `switchboard keys scan $(git diff --cached --name-only)`.
                """
        )

        @Argument(help: "Files or folders (default: .).") var paths: [String] = []

        func run() throws {
            var findings = 0
            var files = 0
            for root in paths.isEmpty ? ["."] : paths {
                for file in KeysCommand.files(below: root) {
                    files += 1
                    for finding in KeysCommand.findings(in: file) {
                        findings += 1
                        print(finding)
                    }
                }
            }
            if findings > 0 {
                FileHandle.standardError.write(
                    Data(
                        "\(findings) secret\(findings == 1 ? "" : "s") found in \(files) files; remove them and rotate the keys\n"
                            .utf8
                    )
                )
                throw ExitCode(1)
            }
            print("no secrets found in \(files) files")
        }
    }

    static func json(_ key: VirtualKey) -> JSONObject {
        [
            "id": .string(key.id), "user": .string(key.userID), "tenant": key.tenantID.map(JSONValue.string) ?? .null,
            "rpm": key.rpm.map(JSONValue.integer) ?? .null, "tpm": key.tpm.map(JSONValue.integer) ?? .null,
            "max_output_tokens": key.maxOutputTokens.map(JSONValue.integer) ?? .null,
            "budget_nano_usd": key.budgetNanoUSD.map { .integer(Int($0)) } ?? .null,
            "allow_user_header": .bool(key.allowUserHeader), "label": key.label.map(JSONValue.string) ?? .null,
            "created_at": .string(RFC3339.format(key.createdAt)),
            "revoked_at": key.revokedAt.map { .string(RFC3339.format($0)) } ?? .null,
        ]
    }

    static let skippedFolders: Set<String> = [".git", ".build", "node_modules", ".venv", ".swiftpm"]

    /// Regular files at or below `root`, skipping tool folders.
    static func files(below root: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder) else { return [] }
        guard isFolder.boolValue else { return [root] }
        var files: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            let path = root == "." ? relative : "\(root)/\(relative)"
            if skippedFolders.contains(name) || name.hasPrefix(".build-") {
                walker.skipDescendants()
                continue
            }
            var folder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &folder), !folder.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// `path:line:column: kind fingerprint` for each secret in a text file.
    static func findings(in path: String) -> [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            (attributes[.size] as? NSNumber)?.intValue ?? 0 <= 16 << 20,
            let data = FileManager.default.contents(atPath: path), !data.prefix(8192).contains(0)
        else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var findings: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard
                line.contains("sk-") || line.contains("AKIA") || line.contains("ASIA") || line.contains("gh")
                    || line.contains("xox"), !line.contains("switchboard-scan: allow")
            else { continue }
            for match in SecretScanner.matches(in: String(line)) where !match.secret.hasPrefix("sk-sim-") {
                let column = String(decoding: Array(line.utf8)[..<match.range.lowerBound], as: UTF8.self).count + 1
                findings.append("\(path):\(number + 1):\(column): \(match.kind.rawValue) key \(match.fingerprint)")
            }
        }
        return findings
    }
}
