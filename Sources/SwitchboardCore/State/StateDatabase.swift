import Foundation
import GRDB
import SwitchboardJournal

/// The state database file every process on a host shares (`state.sqlite_path`): the state
/// store's table, the exact cache's and the virtual keys'.
enum StateDatabase {
    /// Opens or creates the file (mode 0600) in WAL mode and creates `table` in it.
    /// - Parameters:
    ///   - synchronousOff: for soft state (headroom, circuits, cache entries), which the next answer
    ///     rebuilds: a power cut may lose the latest changes, and writes are faster.
    static func open(
        path: String,
        label: String,
        busyTimeout: Duration = .seconds(5),
        synchronousOff: Bool,
        table: String
    ) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.secondsDouble)
        configuration.label = label
        if synchronousOff {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        }
        // Processes starting together on a new file race to switch it to WAL.
        return try SQLiteLocks.retryingWhileBusy(for: busyTimeout) {
            let existed = FileManager.default.fileExists(atPath: path)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            if !existed { chmod(path, 0o600) }
            // WAL cannot be switched on inside a transaction.
            try queue.writeWithoutTransaction { db in
                if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                }
            }
            try queue.write { db in try db.execute(sql: table) }
            return queue
        }
    }
}
