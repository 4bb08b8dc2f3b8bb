import GRDB

/// A journal that cannot be used as asked, with the file and what to do about it.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable {
            case missing, locked, corrupt
            case newerSchema = "newer_schema"
            case diskFull = "disk_full"
            case permissionDenied = "permission_denied"
            case queueFull = "queue_full"
            case closed, io
        }
        fileprivate let base: Base
        public var description: String { base.rawValue }

        /// The file does not exist (readers only; writers create it).
        public static let missing = Code(base: .missing)
        /// Another process held the write lock longer than the busy timeout.
        public static let locked = Code(base: .locked)
        /// The file is not a SQLite database, or is damaged.
        public static let corrupt = Code(base: .corrupt)
        /// The file was written by a newer Switchboard.
        public static let newerSchema = Code(base: .newerSchema)
        /// The disk (or the file-size limit) is full.
        public static let diskFull = Code(base: .diskFull)
        /// The file or its folder cannot be read or written by this user.
        public static let permissionDenied = Code(base: .permissionDenied)
        /// The writer's queue is full and the backpressure policy is to drop.
        public static let queueFull = Code(base: .queueFull)
        /// The writer has stopped.
        public static let closed = Code(base: .closed)
        /// Any other I/O or SQLite failure.
        public static let io = Code(base: .io)
    }

    public var code: Code
    public var path: String
    /// What happened and what to do, naming the file.
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, path: String, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Classifies a SQLite failure on the journal at `path` into a message a person can act on.
    static func classify(_ error: any Error, path: String, during action: String) -> JournalError {
        if let journalError = error as? JournalError { return journalError }
        guard let database = error as? DatabaseError else {
            return JournalError(.io, path: path, "cannot \(action) the journal \(path): \(error)")
        }
        switch database.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return JournalError(
                .locked,
                path: path,
                "the journal \(path) stayed locked by another process past the busy timeout while trying to \(action); "
                    + "retry, or find a stuck writer with `fuser \(path)`",
                cause: database
            )
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return JournalError(
                .corrupt,
                path: path,
                "the journal \(path) is not a readable Switchboard journal (corrupt or not SQLite); move it aside and a new one "
                    + "is created on the next start (`sqlite3 \(path) .recover` may salvage its rows)",
                cause: database
            )
        case .SQLITE_FULL:
            return JournalError(
                .diskFull,
                path: path,
                "the disk holding the journal \(path) is full (or its size limit is reached); free space: calls that must be "
                    + "journaled are refused until then, and nothing already written is lost",
                cause: database
            )
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return JournalError(
                .permissionDenied,
                path: path,
                "cannot \(action) the journal \(path): \(database.message ?? "permission denied"); check that the file and "
                    + "its folder exist and are writable by this user (or readable, for the console)",
                cause: database
            )
        default:
            return JournalError(
                .io,
                path: path,
                "cannot \(action) the journal \(path): \(database.message ?? "\(database)")",
                cause: database
            )
        }
    }
}
