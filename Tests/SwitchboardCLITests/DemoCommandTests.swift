import Foundation
import GRDB
import SwitchboardTesting
import SwitchboardWire
import Testing

/// `switchboard demo`, headless, as CI and scripts run it: the real binary for 40 seconds.
struct DemoCommandTests {
    @Test func aFortySecondHeadlessRunJournalsEveryOutcomeWithRetriesAndFallback() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = "\(directory)/demo/journal.sqlite"
        let output = "\(directory)/demo.out"
        let demo = try startSwitchboard(
            ["demo", "--no-console", "--duration", "40s", "--gateway-port", "0", "--journal", journal],
            outputFile: output
        )
        // The printed gateway and key let an outside client join the traffic.
        let (gateway, key) = try await poll(
            "the demo's gateway and key",
            timeout: .seconds(60),
            interval: .milliseconds(100)
        ) {
            () -> (String, String)? in
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            guard let gateway = Self.value(after: "gateway: ", in: text),
                let key = Self.value(after: "demo key: ", in: text)
            else { return nil }
            return (gateway, key)
        }
        let joined = try await TestHTTP.post(
            "\(gateway)/v1/chat/completions",
            json: ["model": "default", "messages": [["role": "user", "content": "Hello from outside"]]],
            headers: [("authorization", "Bearer \(key)")]
        )
        #expect(joined.status == 200, "\(String(decoding: joined.body, as: UTF8.self))")
        let requestID = try #require(joined.header("x-request-id"))

        let status = await demo.wait()
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(status == 0, "\(printed)")
        #expect(printed.contains("calls journaled in"), "no summary: \(printed)")
        #expect(printed.contains("[10s]"), "no progress lines: \(printed)")
        // The summary fits an 80-column terminal (all but the commands to look closer).
        let summary = try #require(
            printed.components(separatedBy: "calls journaled in").last?.components(separatedBy: "look closer:").first
        )
        #expect(summary.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(summary)")

        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: journal, configuration: configuration)
        try await database.read { db throws in
            let calls = try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") ?? 0
            #expect(calls >= 200)
            let outcomes = Set(try String.fetchAll(db, sql: "SELECT DISTINCT outcome FROM calls"))
            #expect(
                outcomes == ["ok", "error", "blocked", "cached", "rate_limited", "budget", "invalid_output"],
                "outcomes seen: \(outcomes.sorted())"
            )
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE attempts > 1") ?? 0 > 0)
            let retried = try Int.fetchOne(
                db,
                sql:
                    "SELECT count(DISTINCT a.request_id) FROM attempts a JOIN attempts b ON a.request_id = b.request_id AND b.number = a.number + 1 AND b.provider = a.provider AND b.model = a.model"
            )
            #expect(retried ?? 0 > 0, "no call retried the same target")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE kind = 'fallback'") ?? 0 > 0)
            #expect(
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM calls WHERE provider != 'openai' AND route IN ('default', 'bulk', 'support')"
                ) ?? 0 > 0,
                "nothing fell back to Anthropic"
            )
            // The habits: 20 users (and the outside client), both formats' providers, streams,
            // multi-step sessions, and the heavy user's limit and budget.
            #expect(try Int.fetchOne(db, sql: "SELECT count(DISTINCT user_id) FROM calls") ?? 0 >= 21)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE stream = 1") ?? 0 > 0)
            #expect(
                try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE session_id IS NOT NULL AND step >= 3") ?? 0
                    > 0
            )
            #expect(
                Set(try String.fetchAll(db, sql: "SELECT DISTINCT outcome FROM calls WHERE user_id = 'heavy-hank'"))
                    .isSuperset(of: ["rate_limited", "budget"])
            )
            #expect(
                Set(try String.fetchAll(db, sql: "SELECT DISTINCT tenant_id FROM calls WHERE tenant_id IS NOT NULL"))
                    == ["acme", "globex", "demo"]
            )
            #expect(
                try String.fetchOne(db, sql: "SELECT user_id FROM calls WHERE request_id = ?", arguments: [requestID])
                    == "guest"
            )
            // The summary's figures are the journal's.
            let ok = try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE outcome = 'ok'") ?? -1
            #expect(printed.range(of: "\nok +\(ok) ", options: .regularExpression) != nil, "\(printed)")
        }
    }

    @Test func anOccupiedGatewayPortIsNamedWithTheWayOut() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withSimulator { busy in
            let result = try await switchboard([
                "demo", "--no-console", "--duration", "5s", "--gateway-port", "\(busy.port)", "--journal",
                "\(directory)/journal.sqlite",
            ])
            #expect(result.status != 0)
            #expect(
                result.errors.contains(
                    "the demo's gateway cannot listen on 127.0.0.1:\(busy.port): another process holds the port"
                ),
                "\(result.errors)"
            )
            #expect(result.errors.contains("--gateway-port N, or 0 for a free one"))
        }
    }

    @Test func aGatewayOnAnOccupiedPortExitsSayingSo() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withSimulator { busy in
            let result = try await switchboard([
                "gateway", "--port", "\(busy.port)", "--journal", "\(directory)/j.sqlite", "--state",
                "\(directory)/s.sqlite",
            ])
            #expect(result.status == 1)
            #expect(result.errors.contains("another process holds the port"), "\(result.errors)")
        }
    }

    @Test func badFlagsAndNoTerminalAreRefusedClearly() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let few = try await switchboard(["demo", "--no-console", "--users", "3", "--journal", "\(directory)/j.sqlite"])
        #expect(few.status != 0 && few.errors.contains("--users must be between 7 and 500"))
        let duration = try await switchboard(["demo", "--duration", "soon", "--journal", "\(directory)/j.sqlite"])
        #expect(duration.status != 0 && duration.errors.contains("expected a duration such as 40s"))
        // The console needs a terminal; the test's standard output is a file.
        let headless = try await switchboard(["demo", "--gateway-port", "0", "--journal", "\(directory)/j.sqlite"])
        #expect(headless.status != 0 && headless.errors.contains("or pass --no-console"), "\(headless.errors)")
    }

    /// The rest of the line after `label`.
    static func value(after label: String, in text: String) -> String? {
        guard let range = text.range(of: label) else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.firstIndex(of: "\n") else { return nil }
        return String(rest[..<end])
    }
}
