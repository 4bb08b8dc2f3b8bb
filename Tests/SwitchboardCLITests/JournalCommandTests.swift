import Foundation
import SwitchboardJournal
import SwitchboardWire
import Testing

/// The `switchboard journal` commands as a person or a script uses them.
struct JournalCommandTests {
    func journalWithCalls(_ count: Int = 40) async throws -> String {
        let path = "\(try temporaryDirectory())/journal.sqlite"
        let result = try await switchboard([
            "journal", "generate", "--journal", path, "--count", "\(count)", "--bodies", "--span", "30m",
        ])
        #expect(result.status == 0, "\(result.errors)")
        return path
    }

    @Test func tailPrintsTheLatestCallsOldestFirst() async throws {
        let path = try await journalWithCalls()
        let result = try await switchboard(["journal", "tail", "--journal", path, "-n", "3"])
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].contains("req_syn_37_"))
        #expect(lines[2].contains("req_syn_39_"))
        let json = try await switchboard(["journal", "tail", "--journal", path, "-n", "2", "--json"])
        let objects = try json.output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(objects.map { $0.objectValue?.keys.elements ?? [] } == [CallSummary.jsonKeys, CallSummary.jsonKeys])
    }

    @Test func showPrintsACallsAttemptsAndBodies() async throws {
        let path = try await journalWithCalls()
        let reader = try JournalReader.open(path: path)
        let call = try #require(try reader.calls(matching: CallFilter(status: "ok"), limit: 1).first)
        let result = try await switchboard(["journal", "show", call.requestID, "--journal", path])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("call \(call.requestID)  ok 200"))
        #expect(result.output.contains("attempts\n  #1"))
        let providerID = try #require(try reader.call(requestID: call.requestID)?.attempts.first?.providerRequestID)
        #expect(result.output.contains("provider id \(providerID)"))
        #expect(result.output.contains("refund window"))
        let json = try JSONValue.parse(
            try await switchboard(["journal", "show", call.requestID, "--json", "--journal", path]).output
        )
        #expect(json["request_id"]?.stringValue == call.requestID)
        #expect(json["attempts_detail"]?[0]?["provider_request_id"]?.stringValue == providerID)
        let missing = try await switchboard(["journal", "show", "req_nope", "--journal", path])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("no call req_nope"))
    }

    @Test func statsSumsTheWindowByADimension() async throws {
        let path = try await journalWithCalls(200)
        let result = try await switchboard([
            "journal", "stats", "--journal", path, "--window", "2h", "--by", "model", "--json",
        ])
        let rows = try #require(try JSONValue.parse(result.output).arrayValue)
        #expect(rows.reduce(0) { $0 + ($1["calls"]?.intValue ?? 0) } == 200)
        #expect(rows.allSatisfy { $0["latency_p99_ms"]?.doubleValue != nil })
        let table = try await switchboard(["journal", "stats", "--journal", path, "--window", "2h"])
        #expect(table.output.contains("calls"))
        #expect(table.output.contains("200"))
        let bad = try await switchboard(["journal", "stats", "--journal", path, "--by", "planet"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("--by: expected one of user, tenant, route, provider, model, origin"))
    }

    @Test func exportWritesCSVWithAHeaderAndJSONLines() async throws {
        let path = try await journalWithCalls(25)
        let csv = try await switchboard(["journal", "export", "--journal", path, "--format", "csv"])
        let lines = csv.output.split(separator: "\n")
        #expect(lines.count == 26)
        #expect(lines[0] == Substring(CallSummary.jsonKeys.joined(separator: ",")))
        let jsonl = try await switchboard(["journal", "export", "--journal", path, "--bodies"])
        let first = try JSONValue.parse(String(jsonl.output.split(separator: "\n")[0]))
        #expect(first["request_body"]?.stringValue?.contains("refund") == true)
    }

    @Test func searchFindsCallsByTheirText() async throws {
        let path = try await journalWithCalls(30)
        let result = try await switchboard(["journal", "search", "--journal", path, "Question", "7", "from"])
        #expect(result.output.split(separator: "\n").count == 1)
        #expect(result.output.contains("req_syn_7_"))
    }

    @Test func schemaDocumentsEveryTable() async throws {
        let result = try await switchboard(["journal", "schema"])
        for table in ["calls", "attempts", "events", "headroom", "rollups_minute", "rollups_hour"] {
            #expect(result.output.contains("CREATE TABLE \(table) ("))
        }
        #expect(result.output.contains("cost_nano_usd INTEGER,           -- cost in nano-USD"))
    }

    @Test func aMissingJournalIsExplained() async throws {
        let result = try await switchboard(["journal", "tail", "--journal", "/tmp/none-\(UUID()).sqlite"])
        #expect(result.status != 0)
        #expect(result.errors.contains("does not exist; start the gateway or `switchboard demo` to create it"))
    }
}
