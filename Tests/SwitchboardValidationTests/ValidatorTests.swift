import Foundation
import SwitchboardValidation
import SwitchboardWire
import Testing

/// The built-in output checks on their own: structured answers, tool inputs, code blocks (with a
/// real checker process) and grounding.
@Suite struct ValidatorTests {
    let none = ValidationContext(sources: [])

    @Test func aStructuredAnswerIsParsedFromTheTextOrItsOnlyFencedBlock() async throws {
        let schema = try JSONSchema(
            parsing: #"{"type": "object", "required": ["days"], "properties": {"days": {"type": "integer"}}}"#
        )
        let check = SchemaOutputValidator(schema: schema)
        #expect(await check.violations(in: ModelOutput(text: #"{"days": 30}"#), context: none).isEmpty)
        #expect(await check.violations(in: ModelOutput(text: "```json\n{\"days\": 30}\n```"), context: none).isEmpty)
        let wrong = await check.violations(in: ModelOutput(text: #"{"days": "thirty"}"#), context: none)
        #expect(wrong.map(\.description) == ["schema /days: expected integer, got string"])
        let prose = await check.violations(in: ModelOutput(text: "Sure! Here it is: {\"days\": 30}"), context: none)
        #expect(prose.count == 1 && prose[0].message.hasPrefix("the answer is not JSON"))
        let object = await SchemaOutputValidator.jsonObject.violations(in: ModelOutput(text: "[1, 2]"), context: none)
        #expect(object.map(\.description) == ["json: expected object, got array"])
    }

    @Test func toolInputsAreCheckedAgainstTheirOwnSchemas() async throws {
        let check = ToolInputValidator(schemas: [
            "refund": try JSONSchema(
                parsing: #"{"type": "object", "required": ["order"], "properties": {"order": {"type": "string"}}}"#
            )
        ])
        let output = ModelOutput(
            text: "",
            toolCalls: [
                .init(id: "1", name: "refund", arguments: #"{"order": 42}"#),
                .init(id: "2", name: "refund", arguments: #"{"order": "A-1"}"#),
                .init(id: "3", name: "delete_everything", arguments: "{}"),
                .init(id: "4", name: "refund", arguments: "{order:"),
            ]
        )
        let found = await check.violations(in: output, context: none).map(\.description)
        #expect(found.count == 3)
        #expect(found[0] == "tool:refund /order: expected string, got integer")
        #expect(found[1].hasPrefix("tool:delete_everything: the model called a tool the request does not declare"))
        #expect(found[2].hasPrefix("tool:refund: the arguments are not JSON"))
    }

    @Test func fencedBlocksAreFoundWithTheirLanguages() {
        let text =
            "Intro\n```python\nprint('a')\n```\ntext\n~~~yaml\na: 1\n~~~\n```\nplain\n```\n````json\n{\"a\": 1}\n````"
        let blocks = CodeBlocks.extract(text)
        #expect(blocks.map(\.language) == ["python", "yaml", "", "json"])
        #expect(blocks.map(\.code) == ["print('a')", "a: 1", "plain", "{\"a\": 1}"])
    }

    @Test func jsonAndYamlBlocksAreParseCheckedInProcess() async {
        let check = CodeBlockValidator()
        let text =
            "```json\n{\"a\": 1,}\n```\n```yaml\nkey: [unclosed\n```\n```yaml\nfine: true\n```\n```ruby\nnot checked\n```"
        let found = await check.violations(in: ModelOutput(text: text), context: none)
        #expect(found.map(\.validator) == ["code:json", "code:yaml"])
        #expect(found.map(\.location) == ["block 1", "block 2"])
    }

    @Test func otherLanguagesGoThroughTheConfiguredCommandWithoutAShell() async {
        // A generous timeout: the suites around it keep both cores busy (the timeout has its own test).
        let check = CodeBlockValidator(
            commands: ["python": ["python3", "-m", "py_compile", "{file}"]],
            timeout: .seconds(60)
        )
        let good = await check.violations(in: ModelOutput(text: "```python\nprint('ok')\n```"), context: none)
        #expect(good.isEmpty)
        let bad = await check.violations(in: ModelOutput(text: "```python\ndef broken(:\n    pass\n```"), context: none)
        #expect(bad.count == 1 && bad[0].validator == "code:python")
        #expect(bad[0].message.contains("SyntaxError"))
        #expect(!bad[0].message.contains("/tmp/"), "the temporary path leaked into the message: \(bad[0].message)")
        // `;` is an argument, not a shell separator: nothing else runs.
        let literal = CodeBlockValidator(commands: ["sh": ["echo", "{file};", "false"]])
        #expect(await literal.violations(in: ModelOutput(text: "```sh\nls\n```"), context: none).isEmpty)
    }

    @Test func aCheckerThatHangsIsStoppedAtTheTimeout() async {
        let check = CodeBlockValidator(commands: ["python": ["sleep", "30"]], timeout: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        let found = await check.violations(in: ModelOutput(text: "```python\nx = 1\n```"), context: none)
        #expect(clock.now - start < .seconds(10))
        #expect(found.count == 1 && found[0].message.contains("did not finish within"))
        let missing = CodeBlockValidator(commands: ["python": ["/nonexistent/checker"]])
        let cannot = await missing.violations(in: ModelOutput(text: "```python\nx = 1\n```"), context: none)
        #expect(cannot.count == 1 && cannot[0].message.contains("could not start"))
    }

    @Test func groundingReportsTheNumbersDatesURLsAndNamesTheContextLacks() async {
        let context = ValidationContext(sources: [
            "Refunds are accepted within 30 days. The Pro plan costs $1,200 per year and includes Acme Vault.",
            "Prices changed on March 5, 2026. Details: https://acme.example/pricing/",
        ])
        let check = GroundingValidator(entities: ["Acme Vault", "Acme Sentinel"])
        let supported = await check.violations(
            in: ModelOutput(
                text:
                    "You have 30 days. Pro is $1200 a year with Acme Vault (since 2026-03-05, see https://acme.example/pricing)."
            ),
            context: context
        )
        #expect(supported.isEmpty, "\(supported)")
        let unsupported = await check.violations(
            in: ModelOutput(
                text:
                    "You have 45 days, 3 times a year. It costs 12.5% more since April 1, 2026 (https://acme.example/old). Acme Sentinel is included."
            ),
            context: context
        )
        #expect(
            unsupported.compactMap(\.span) == [
                "45", "12.5%", "April 1, 2026", "https://acme.example/old", "Acme Sentinel",
            ]
        )
        #expect(unsupported.allSatisfy { $0.validator == "grounding" })
    }

    @Test func knowledgeFilesCountAsContext() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sbv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "The warranty lasts 24 months.".write(
            to: directory.appendingPathComponent("policy.md"),
            atomically: true,
            encoding: .utf8
        )
        try "ignored 99".write(to: directory.appendingPathComponent("image.bin"), atomically: true, encoding: .utf8)
        let check = GroundingValidator(knowledge: try GroundingValidator.knowledge(in: directory.path))
        #expect(await check.violations(in: ModelOutput(text: "It lasts 24 months."), context: none).isEmpty)
        #expect(await check.violations(in: ModelOutput(text: "It lasts 99 months."), context: none).count == 1)
    }
}
