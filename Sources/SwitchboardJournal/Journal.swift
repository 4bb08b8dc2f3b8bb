import Foundation
import GRDB
import GRDBSQLite
import SwitchboardWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The call journal: one SQLite file in WAL mode, written by any number of processes (each through
/// a ``JournalWriter``) and read by any number of consoles (each through a ``JournalReader``).
///
/// Durable means committed to the WAL with `synchronous=NORMAL`: a commit survives `kill -9` of any
/// process, not a power cut.
public final class Journal: Sendable {
    public let configuration: JournalConfiguration
    public var path: String { configuration.path }
    let pool: DatabasePool
    /// The connection checkpoints run on, beside the pool's writer: opened by the first.
    private let checkpointer = Mutex<DatabaseQueue?>(nil)
    /// The frames in the WAL after the writer connection's last commit, while SQLite's automatic
    /// checkpoints are off (SQLite's WAL hook counts them).
    let walFrames = WALFrames()

    final class WALFrames: Sendable {
        let count = Atomic<Int>(0)
    }

    private init(configuration: JournalConfiguration, pool: DatabasePool) {
        self.configuration = configuration
        self.pool = pool
    }

    /// Copies the pages committed to the WAL into the database file as far as readers allow (a
    /// passive checkpoint), on a connection of its own, so that commits go on meanwhile.
    func checkpoint() async throws {
        let queue = try checkpointer.withLock { queue in
            if let queue { return queue }
            var database = Configuration()
            database.busyMode = .callback(SQLiteLocks.busyWait(limit: configuration.busyTimeout))
            database.label = "switchboard.journal.checkpoint"
            let opened = try DatabaseQueue(path: path, configuration: database)
            queue = opened
            return opened
        }
        try await queue.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    /// A passive checkpoint on the writer connection, between its commits: it copies what the
    /// checkpoints beside the commits have not yet (no commit adds frames meanwhile), so that the
    /// next commit can start the WAL over from its beginning. Checkpoints on another connection
    /// alone never catch up with a writer that keeps committing, and the WAL would grow without
    /// end.
    func checkpointBetweenCommits() async throws {
        try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    /// Turns SQLite's own checkpoints (inside the commit that grows the WAL past 1,000 pages) off
    /// while a writer checkpoints beside its commits — counting the WAL's frames in ``walFrames``
    /// instead — and on again after.
    func automaticCheckpoints(_ on: Bool) async throws {
        let walFrames = walFrames
        try await pool.writeWithoutTransaction { db in
            // Setting it (to any value) replaces the WAL hook with SQLite's own.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(on ? 1_000 : 0)")
            guard !on else { return }
            // The counter lives as long as this journal, which owns the connection.
            sqlite3_wal_hook(
                db.sqliteConnection,
                { context, _, _, frames in
                    guard let context else { return SQLITE_OK }
                    Unmanaged<WALFrames>.fromOpaque(context).takeUnretainedValue().count.store(
                        Int(frames),
                        ordering: .relaxed
                    )
                    return SQLITE_OK
                },
                Unmanaged.passUnretained(walFrames).toOpaque()
            )
        }
    }

    /// Opens the journal for writing, creating it (mode 0600, or 0640 with a group) and migrating
    /// its schema as needed.
    /// - Throws: ``JournalError``: a newer schema, a corrupt file, a locked or unwritable one.
    public static func open(_ configuration: JournalConfiguration) throws(JournalError) -> Journal {
        let path = configuration.path
        try createIfMissing(path: path, group: configuration.group)
        var database = Configuration()
        database.busyMode = .callback(SQLiteLocks.busyWait(limit: configuration.busyTimeout))
        database.label = "switchboard.journal"
        let maximumPageCount = configuration.maximumPageCount
        database.prepareDatabase { db in
            db.add(function: MergeFunctions.counts)
            db.add(function: MergeFunctions.histograms)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -16000")
            // A WAL started over is cut back to this size (it keeps its largest size otherwise).
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
            if let maximumPageCount { try db.execute(sql: "PRAGMA max_page_count = \(maximumPageCount)") }
        }
        let pool: DatabasePool
        do {
            // Writers starting together on a new file race to set it up.
            pool = try SQLiteLocks.retryingWhileBusy(for: configuration.busyTimeout) {
                try prepareNewFile(path: path)
                let pool = try DatabasePool(path: path, configuration: database)
                let migrator = JournalSchema.migrator
                if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                    throw JournalError(
                        .newerSchema,
                        path: path,
                        "the journal \(path) was written by a newer Switchboard (its schema is newer than version "
                            + "\(JournalSchema.version)); upgrade this switchboard, or point journal.path at another file"
                    )
                }
                do {
                    try migrator.migrate(pool)
                } catch {
                    // GRDB reads which migrations are applied before it takes the write lock, so
                    // of two processes migrating a new file at once, the second fails on tables the
                    // first has just made: the file is migrated all the same.
                    guard try pool.read(migrator.hasCompletedMigrations) else { throw error }
                }
                return pool
            }
        } catch {
            throw JournalError.classify(error, path: path, during: "open")
        }
        return Journal(configuration: configuration, pool: pool)
    }

    /// Gives a new, empty file its page size and incremental vacuum, which can only be chosen before
    /// the first table and before WAL mode.
    private static func prepareNewFile(path: String) throws {
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 else { return }
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "VACUUM")
        }
        try queue.close()
    }

    /// 16 KiB pages: a call row with bodies fits in one page and a batch's commit writes a quarter of
    /// the WAL frames (and system calls) that 4 KiB pages would.
    /// The page size of journal files, in bytes.
    public static let pageSize = 16_384

    /// What a WAL file is cut back to when it starts over: 64 MiB.
    static let walSizeLimit = 64 << 20

    /// Creates the file with the journal's permissions before SQLite opens it: SQLite gives the
    /// `-wal` and `-shm` files the database file's mode, so they are protected the same way.
    private static func createIfMissing(path: String, group: String?) throws(JournalError) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw JournalError(
                .permissionDenied,
                path: path,
                "cannot create the journal \(path): the folder \(directory) does not exist; create it or change journal.path"
            )
        }
        let mode: mode_t = group == nil ? 0o600 : 0o640
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        if descriptor < 0 {
            if errno == EEXIST { return }
            throw JournalError(
                .permissionDenied,
                path: path,
                "cannot create the journal \(path): \(String(cString: strerror(errno)))"
            )
        }
        defer { close(descriptor) }
        // The umask may have narrowed the mode; set it exactly.
        fchmod(descriptor, mode)
        if let group {
            guard let entry = getgrnam(group) else {
                throw JournalError(
                    .permissionDenied,
                    path: path,
                    "cannot give the journal \(path) to group '\(group)': no such group"
                )
            }
            if fchown(descriptor, uid_t.max, entry.pointee.gr_gid) != 0 {
                throw JournalError(
                    .permissionDenied,
                    path: path,
                    "cannot give the journal \(path) to group '\(group)': \(String(cString: strerror(errno))); "
                        + "the writing user must be a member of the group"
                )
            }
        }
    }

    /// The schema as created, with its column documentation (`switchboard journal schema`).
    public func schemaSQL() throws(JournalError) -> String {
        do {
            return try pool.read { db in
                try String.fetchAll(
                    db,
                    sql:
                        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'calls_fts_%' ORDER BY rowid"
                )
                .joined(separator: ";\n\n") + ";\n"
            }
        } catch {
            throw JournalError.classify(error, path: path, during: "read the schema of")
        }
    }
}
