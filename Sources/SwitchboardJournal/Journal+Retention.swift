import Foundation
import GRDB

extension Journal {
    /// Deletes calls (with their attempts, events and search entries) that started before
    /// `cutoff`, in chunks so other writers are not held up, keeps every rollup, then returns the
    /// freed pages to the file system (incremental vacuum). The newest call is always kept: row ids
    /// then never go back, so readers tailing from a row id see every call written afterwards (and
    /// a new call never takes the row id of a deleted one).
    /// - Returns: the number of calls deleted.
    @discardableResult
    public func prune(before cutoff: Date, chunk: Int = 5_000) async throws(JournalError) -> Int {
        let limit = Self.milliseconds(cutoff)
        var total = 0
        do {
            while true {
                let deleted = try await pool.write { db -> Int in
                    let ids = try String.fetchAll(
                        db,
                        sql: """
                            SELECT request_id FROM calls
                            WHERE started_at < ? AND id < (SELECT max(id) FROM calls) ORDER BY id LIMIT ?
                            """,
                        arguments: [limit, chunk]
                    )
                    guard !ids.isEmpty else { return 0 }
                    let placeholders = ids.map { _ in "?" }.joined(separator: ",")
                    try db.execute(
                        sql: "DELETE FROM attempts WHERE request_id IN (\(placeholders))",
                        arguments: StatementArguments(ids)
                    )
                    try db.execute(
                        sql: "DELETE FROM events WHERE request_id IN (\(placeholders))",
                        arguments: StatementArguments(ids)
                    )
                    try db.execute(
                        sql:
                            "DELETE FROM calls_fts WHERE rowid IN (SELECT id FROM calls WHERE request_id IN (\(placeholders)))",
                        arguments: StatementArguments(ids)
                    )
                    try db.execute(
                        sql: "DELETE FROM calls WHERE request_id IN (\(placeholders))",
                        arguments: StatementArguments(ids)
                    )
                    return ids.count
                }
                total += deleted
                if deleted < chunk { break }
            }
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM events WHERE request_id IS NULL AND at < ?", arguments: [limit])
            }
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        } catch {
            throw JournalError.classify(error, path: path, during: "prune")
        }
        return total
    }
}
