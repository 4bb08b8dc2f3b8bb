import Foundation
import GRDB
import SwitchboardTesting
import SwitchboardWire
import Testing

/// Several OS processes share one journal file: four write while a fifth tails.
struct JournalProcessesTests {
    @Test func fourWritingProcessesLoseNothingAndATailerSeesEveryCall() async throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/shared.sqlite"
        let perWriter = 20_000
        let created = try await switchboard(["journal", "generate", "--journal", path, "--count", "0"])
        #expect(created.status == 0, "\(created.errors)")

        let tailFile = "\(directory)/tail.jsonl"
        let tailer = try startSwitchboard(
            ["journal", "tail", "-f", "-n", "0", "--journal", path],
            outputFile: tailFile
        )
        defer { tailer.signal(SIGTERM) }

        let results = try await withThrowingTaskGroup(of: Finished.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    try await switchboard([
                        "journal", "generate", "--journal", path, "--count", "\(perWriter)", "--seed", "\(writer + 1)",
                        "--id-prefix", "w\(writer)", "--span", "2h",
                    ])
                }
            }
            var results: [Finished] = []
            for try await result in group { results.append(result) }
            return results
        }
        for result in results {
            #expect(result.status == 0, "a writer failed: \(result.errors)")
            #expect(!result.errors.contains("journal write failed"), "a writer surfaced a busy error: \(result.errors)")
            #expect(result.output.contains("wrote \(perWriter) calls"))
        }

        let total = 4 * perWriter
        try await poll("the tailer to print every call", timeout: .seconds(120), interval: .milliseconds(200)) {
            let lines = (try? String(contentsOfFile: tailFile, encoding: .utf8))?.split(separator: "\n").count ?? 0
            return lines >= total
        }
        tailer.signal(SIGTERM)
        _ = await tailer.wait()
        let tailed = try String(contentsOfFile: tailFile, encoding: .utf8).split(separator: "\n")
        // Lines are `date time  request_id  user  …`.
        let tailedIDs = Set(tailed.map { line in String(line.components(separatedBy: "  ")[1]) })
        #expect(tailed.count == total, "the tailer printed a call twice")

        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try await database.read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") == total)
            #expect(try Int.fetchOne(db, sql: "SELECT count(DISTINCT request_id) FROM calls") == total)
            let ids = Set(try String.fetchAll(db, sql: "SELECT request_id FROM calls"))
            #expect(ids == tailedIDs)
            for table in ["rollups_minute", "rollups_hour"] {
                let sums = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT sum(calls), sum(input_tokens), sum(output_tokens), sum(cost_nano_usd), sum(ok) FROM \(table)"
                )!
                let raw = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(coalesce(cost_nano_usd, 0)), sum(outcome = 'ok') FROM calls"
                )!
                for column in 0..<5 {
                    #expect(sums[column] as Int64 == raw[column] as Int64, "\(table) column \(column)")
                }
            }
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
        }
    }
}
