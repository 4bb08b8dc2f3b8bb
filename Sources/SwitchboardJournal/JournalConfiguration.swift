/// How much of a call's request and response bodies the journal keeps.
public enum StoredBodies: String, Sendable, CaseIterable {
    /// As delivered (authorization headers are never stored in any mode).
    case full
    /// With key-shaped secrets masked. The default.
    case redacted
    /// No bodies.
    case none
}

/// Settings of a journal file and its writer. Every value has a default.
public struct JournalConfiguration: Sendable {
    /// The default is `./switchboard.journal.sqlite`.
    public var path: String
    /// The default is ``StoredBodies/redacted``.
    public var storeBodies: StoredBodies = .redacted
    /// Commit a call's row before its response is released. The default is true.
    public var durable = true
    /// Keep raw rows this many days (rollups are kept). The default is 30.
    public var retentionDays = 30
    /// A group that may read the journal: the file is then mode 0640 and owned by that group
    /// (operators run the console over SSH as another user). The default is none: mode 0600.
    public var group: String?
    /// How long a write waits for another process's lock before failing. The default is 5 s.
    public var busyTimeout: Duration = .seconds(5)
    /// Records waiting to be written, at most. The default is 10,000.
    public var queueCapacity = 10_000
    /// Records per transaction, at most. The default is 1,000.
    public var batchSize = 1_000
    /// What a full queue does to non-durable writes. The default is ``Backpressure/wait``.
    public var backpressure: Backpressure = .wait

    /// A hard cap on the file's size in pages (``Journal/pageSize`` bytes each): past it SQLite reports the disk full.
    /// For quotas and for testing a full disk. The default is none.
    public var maximumPageCount: Int?

    public enum Backpressure: String, Sendable {
        /// The caller waits for room.
        case wait
        /// The record is dropped, counted and logged.
        case drop
    }

    public init(path: String = "./switchboard.journal.sqlite") {
        self.path = path
    }
}
