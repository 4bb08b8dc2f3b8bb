import Foundation
import GRDB
import Logging
import SwitchboardJournal
import SwitchboardTesting

/// A fresh folder for one test's journal files.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sbj-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func journalConfiguration(_ directory: String, name: String = "journal.sqlite") -> JournalConfiguration {
    var configuration = JournalConfiguration(path: "\(directory)/\(name)")
    configuration.busyTimeout = .seconds(2)
    return configuration
}

var quietLogger: Logger {
    var logger = Logger(label: "test.journal")
    logger.logLevel = .critical
    return logger
}

/// Runs a writer for the duration of `body`, then writes what is queued and stops it.
func withWriter<T: Sendable>(
    _ journal: Journal,
    logger: Logger = quietLogger,
    _ body: @Sendable (JournalWriter) async throws -> T
) async throws -> T {
    let writer = JournalWriter(journal: journal, logger: logger, retryDelay: .milliseconds(5))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        do {
            let result = try await body(writer)
            writer.finish()
            try await group.waitForAll()
            return result
        } catch {
            writer.finish()
            try await group.waitForAll()
            throw error
        }
    }
}

/// A minimal call.
func call(_ id: String, at date: Date, outcome: CallOutcome = .ok, user: String = "alice", latency: Double = 100)
    -> CallRecord
{
    CallRecord(
        requestID: id,
        startedAt: date,
        endedAt: date.addingTimeInterval(latency / 1000),
        origin: .gateway,
        outcome: outcome,
        userID: user,
        provider: "openai",
        modelRequested: "gpt-4o-mini",
        modelUsed: "gpt-4o-mini",
        httpStatus: 200,
        latencyMilliseconds: latency,
        tokens: TokenCounts(input: 10, output: 5),
        costNanoUSD: 1_000
    )
}

/// A plain SQLite connection to a journal file, for asserting with SQL as operators would.
func sql(_ path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.readonly = true
    return try DatabaseQueue(path: path, configuration: configuration)
}

/// An instant on an hour boundary (2026-11-18 11:00 UTC).
let fixedStart = Date(timeIntervalSince1970: 1_794_999_600)
