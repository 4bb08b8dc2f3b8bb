import Foundation
import Testing

/// `switchboard bench` (all benchmarks, one table): run for real on the cheapest benchmarks.
struct BenchCommandTests {
    /// The rows of a `--format json` report.
    static func rows(_ output: String) throws -> (header: [String], rows: [[String: Any]]) {
        let parsed = try JSONSerialization.jsonObject(with: Data(output.utf8))
        let object = try #require(parsed as? [String: Any])
        return (try #require(object["header"] as? [String]), try #require(object["rows"] as? [[String: Any]]))
    }

    /// Microseconds from a figure such as `201.6 µs` or `1.09 ms` after `label` in `text`.
    static func microseconds(after label: String, in text: String) throws -> Double {
        let pattern = try Regex("\(label) ([0-9.]+) (ns|µs|ms)")
        let match = try #require(text.firstMatch(of: pattern))
        let figure = try #require(match.output[1].substring)
        let value = try #require(Double(figure))
        switch match.output[2].substring {
        case "ns": return value / 1000
        case "ms": return value * 1000
        default: return value
        }
    }

    @Test func eachBenchmarkRunsInItsOwnProcessAndTheirHeadlinesFillOneTable() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await switchboard([
            "bench", "--quick", "--only", "budget,validation", "--format", "json", "--output", directory,
        ])
        #expect(result.status == 0, "\(result.errors)")
        let (header, rows) = try Self.rows(result.output)
        #expect(header.first?.hasPrefix("machine: ") == true && header.first?.contains("cores") == true)
        #expect(header.contains { $0.hasPrefix("switchboard bench --quick") && $0.contains("2 benchmarks in") })
        // In the order of the whole run (validation first), whatever the order asked.
        #expect(
            rows.map { $0["area"] as? String } == ["validation", "validation", "moderation", "budget", "budget"]
        )

        // The goal is judged from the figure measured: p50 under 20 µs.
        let validation = try #require(rows.first { $0["benchmark"] as? String == "validate a valid answer" })
        let p50 = try Self.microseconds(after: "p50", in: try #require(validation["result"] as? String))
        #expect(validation["goal"] as? String == "p50 < 20 µs")
        #expect(validation["met"] as? Bool == (p50 < 20))
        #expect((validation["features"] as? String)?.contains("compiled schema") == true)
        let moderation = try #require(rows.first { $0["area"] as? String == "moderation" })
        #expect(moderation["benchmark"] as? String == "local moderation of a prompt" && moderation["met"] == nil)
        #expect((moderation["result"] as? String)?.hasPrefix("p50 ") == true)
        let stores = rows.filter { $0["area"] as? String == "budget" }.compactMap { $0["benchmark"] as? String }
        #expect(stores == ["reserve + settle, memory state store", "reserve + settle, sqlite state store"])
        #expect(rows.filter { $0["area"] as? String == "budget" }.allSatisfy { $0["met"] == nil })

        // Each benchmark's own full table is kept where asked; progress went to standard error.
        let own = try String(contentsOfFile: "\(directory)/validation.txt", encoding: .utf8)
        #expect(
            own.contains("compile the schema") && own.contains("parse + validate") && own.contains("local moderation")
        )
        #expect(try String(contentsOfFile: "\(directory)/budget.txt", encoding: .utf8).contains("50 users"))
        #expect(result.errors.contains("validation: 3 rows in") && result.errors.contains("budget: 2 rows in"))
    }

    @Test func aBenchmarkThatFailsIsNamedWithItsErrorAndTheRunFails() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = "\(directory)/corrupt.sqlite"
        try Data(repeating: 0x5A, count: 64 << 10).write(to: URL(fileURLWithPath: journal))
        let result = try await switchboard(["bench", "--quick", "--only", "console", "--journal", journal])
        #expect(result.status == 1)
        #expect(result.output.contains("console: failed after"))
        #expect(result.output.contains(journal), "the console benchmark's own error names the journal")
        let row = try #require(result.output.firstMatch(of: #/console +\(every row\) +failed \(exit 1\); see (\S+)/#))
        let errors = String(row.output.1)
        defer { try? FileManager.default.removeItem(atPath: (errors as NSString).deletingLastPathComponent) }
        #expect(try String(contentsOfFile: errors, encoding: .utf8).contains("not a readable Switchboard journal"))
        #expect(result.output.contains("goals met: 0 of 0"))
    }

    @Test func aBenchmarkWithoutItsProgramIsListedAsNotRun() async throws {
        let result = try await switchboard(["bench", "--only", "redis"], environment: ["PATH": "/nonexistent"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("redis: not run (redis-server is not on PATH)"))
        #expect(
            result.output.range(
                of: #"redis +\(every row\) +not run: redis-server is not on PATH"#,
                options: .regularExpression
            ) != nil
        )
    }

    @Test func anUnknownBenchmarkIsRefusedWithTheNames() async throws {
        let result = try await switchboard(["bench", "--only", "journal,speed"])
        #expect(result.status == 64)
        #expect(
            result.errors.contains(
                "no benchmark named 'speed'; pick from validation, cache, budget, redis, pipeline, gateway, journal, console"
            )
        )
    }
}
