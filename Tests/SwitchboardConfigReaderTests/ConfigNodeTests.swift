import SwitchboardConfigReader
import Testing

struct ConfigNodeTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("1m30s", .seconds(90)), ("1h", .seconds(3600)),
        ("2.5", .seconds(2.5)),
    ])
    func durationsReadInGoSyntaxOrSeconds(text: String, duration: Duration) throws {
        #expect(try ConfigNode.parse(yaml: "d: \(text)").member("d")?.duration() == duration)
    }

    @Test(arguments: [
        ("4MB", 4 << 20), ("64MiB", 64 << 20), ("512KB", 512 << 10), ("1GB", 1 << 30), ("1000", 1000),
        ("1.5MB", 1_572_864),
    ])
    func sizesReadWithBinaryUnits(text: String, bytes: Int) throws {
        #expect(try ConfigNode.parse(yaml: "s: \(text)").member("s")?.byteSize() == bytes)
    }

    @Test func scalarsQuotedOrNotAndNullsRead() throws {
        let root = try ConfigNode.parse(yaml: "a: \"60\"\nb: 60\nc: ~\nd:\ne: yes\n")
        #expect(try root.member("a")?.string() == "60")
        #expect(try root.member("b")?.int() == 60)
        #expect(try root.member("c") == nil)
        #expect(try root.member("d") == nil)
        #expect(try root.member("e")?.bool() == true)
    }

    @Test func unknownKeysSuggestTheClosestKnownOne() throws {
        let root = try ConfigNode.parse(yaml: "journal:\n  pth: x\n", file: "switchboard.yaml")
        let journal = try #require(try root.member("journal"))
        #expect(
            throws: ConfigError(
                location: .init(file: "switchboard.yaml", line: 2, column: 3),
                keyPath: "journal.pth",
                message: "unknown key 'pth'; did you mean 'path'?"
            )
        ) {
            try journal.requireKnownKeys(["path", "store_bodies", "durable"])
        }
        let far = try ConfigNode.parse(yaml: "zzz: 1\n")
        #expect(
            throws: ConfigError(
                location: .init(file: nil, line: 1, column: 1),
                keyPath: "zzz",
                message: "unknown key 'zzz'; expected one of: path, durable"
            )
        ) {
            try far.requireKnownKeys(["path", "durable"])
        }
    }

    @Test func duplicateKeysAreRefused() {
        #expect(throws: ConfigError.self) { try ConfigNode.parse(yaml: "a: 1\nb: 2\na: 3\n", file: "x.yaml") }
    }

    @Test func invalidYAMLReportsWhere() {
        do {
            _ = try ConfigNode.parse(yaml: "a: [1, 2\nb: 3\n", file: "bad.yaml")
            Issue.record("invalid YAML accepted")
        } catch {
            #expect(error.location?.file == "bad.yaml")
            #expect(error.location?.line == 2)
            #expect(error.message.hasPrefix("not valid YAML: "))
        }
    }

    @Test func aMissingFileSaysSo() {
        #expect(
            throws: ConfigError(
                location: nil,
                keyPath: "",
                message: "cannot read configuration file /nonexistent/sb.yaml: no such file"
            )
        ) {
            try ConfigNode.load(path: "/nonexistent/sb.yaml")
        }
    }

    @Test func typeMismatchesQuoteWhatWasFound() throws {
        let root = try ConfigNode.parse(yaml: "n: fast\nl: [1]\n", file: "c.yaml")
        #expect(
            throws: ConfigError(
                location: .init(file: "c.yaml", line: 1, column: 4),
                keyPath: "n",
                message: "expected an integer, got 'fast'"
            )
        ) {
            try root.member("n")?.int()
        }
        #expect(
            throws: ConfigError(
                location: .init(file: "c.yaml", line: 2, column: 4),
                keyPath: "l",
                message: "expected a text value, got a list"
            )
        ) {
            try root.member("l")?.string()
        }
    }

    @Test func environmentOverridesSetNestedKeysAndCreateMappings() throws {
        let root = try ConfigNode.parse(yaml: "journal:\n  path: a.sqlite\n  durable: true\n", file: "f.yaml")
            .applyingEnvironmentOverrides(
                ["SB__JOURNAL__PATH": "b.sqlite", "SB__STATE__BACKEND": "memory", "OTHER__JOURNAL__PATH": "c"],
                prefix: "SB__"
            )
        let journal = try #require(try root.member("journal"))
        #expect(try journal.member("path")?.string() == "b.sqlite")
        #expect(try journal.member("path")?.location == .environment("SB__JOURNAL__PATH"))
        #expect(try journal.member("durable")?.bool() == true)
        #expect(try root.member("state")?.member("backend")?.string() == "memory")
        #expect(try root.member("state")?.member("backend")?.keyPath == "state.backend")
    }

    @Test func environmentOverrideErrorsNameTheVariable() throws {
        let root = try ConfigNode.parse(yaml: "journal: here\n")
        #expect(throws: ConfigError.self) {
            try root.applyingEnvironmentOverrides(["SB__JOURNAL__PATH": "x"], prefix: "SB__")
        }
        do {
            _ = try root.applyingEnvironmentOverrides(["SB__JOURNAL__PATH": "x"], prefix: "SB__")
        } catch {
            #expect(error.description.hasPrefix("$SB__JOURNAL__PATH: journal: "))
        }
        let value = try ConfigNode.parse(yaml: "").applyingEnvironmentOverrides(["SB__RETENTION": "x"], prefix: "SB__")
        #expect(
            throws: ConfigError(
                location: .environment("SB__RETENTION"),
                keyPath: "retention",
                message: "expected an integer, got 'x'"
            )
        ) {
            try value.member("retention")?.int()
        }
    }
}
