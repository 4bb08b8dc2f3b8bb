import Foundation
import SwitchboardValidation
import SwitchboardWire
import Testing

/// The official JSON Schema Test Suite for draft 2020-12 (`../shared/conformance/json-schema-2020-12`),
/// file by file. Every case must pass except those that need documents from the network (the
/// suite's `localhost:1234` remotes): `refRemote.json`, and the groups listed in `needsRemotes`.
@Suite(.serialized) struct ConformanceTests {
    /// Where the suite is: `$SWITCHBOARD_CONFORMANCE`, else `../shared/conformance` beside the clone.
    static let directory: String = {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_CONFORMANCE"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/conformance/json-schema-2020-12").path
    }()

    /// Files skipped whole, and why.
    static let skippedFiles: [String: String] = [
        "refRemote.json": "every case references the suite's remote documents (http://localhost:1234/…)"
    ]

    /// Groups whose schemas reference the suite's remote documents (`http://localhost:1234/…`).
    static let needsRemotes: Set<String> = [
        "schema that uses custom metaschema with with no validation vocabulary",
        "strict-tree schema, guards against misspelled properties",
        "tests for implementation dynamic anchor and reference link",
        "$ref and $dynamicAnchor are independent of order - $defs first",
        "$ref and $dynamicAnchor are independent of order - $ref first",
        "$ref to $dynamicRef finds detached $dynamicAnchor",
    ]

    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && skippedFiles[$0] == nil }.sorted()
    }

    @Test func theSuiteIsThere() {
        #expect(Self.files.count >= 40, "the conformance suite was not found at \(Self.directory)")
    }

    @Test(arguments: ConformanceTests.files)
    func everyCaseOfTheFilePasses(_ file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/\(file)"))
        let groups = try #require(try JSONValue.parse(Array(data)).arrayValue)
        var passed = 0
        var total = 0
        var failures: [String] = []
        for group in groups {
            let description = group["description"]?.stringValue ?? "?"
            guard !Self.needsRemotes.contains(description) else { continue }
            let schema: JSONSchema
            do {
                schema = try JSONSchema(group["schema"] ?? .null)
            } catch {
                let count = group["tests"]?.arrayValue?.count ?? 0
                total += count
                failures.append("\(description): the schema did not compile: \(error)")
                continue
            }
            for test in group["tests"]?.arrayValue ?? [] {
                total += 1
                let instance = test["data"] ?? .null
                let expected = test["valid"]?.boolValue ?? false
                let quick = schema.isValid(instance)
                let violations = schema.validate(instance)
                if quick == expected && violations.isEmpty == expected {
                    passed += 1
                } else {
                    failures.append(
                        "\(description) / \(test["description"]?.stringValue ?? "?"): expected \(expected ? "valid" : "invalid"), "
                            + "isValid \(quick), \(violations.count) violations \(violations.prefix(2))"
                    )
                }
            }
        }
        print("conformance \(file): \(passed)/\(total)")
        #expect(failures.isEmpty, "\(file): \(passed)/\(total)\n\(failures.joined(separator: "\n"))")
        #expect(total > 0)
    }
}
