import GRDB
import GRDBSQLite

/// Binds and steps a GRDB prepared statement through the SQLite C API.
///
/// The journal's hot loops (one call row, its attempts, its index entry and its rollups per call,
/// thousands of calls a second) spend most of their time converting arguments when they go through
/// `StatementArguments`; binding directly costs a fraction. GRDB still owns the connection, the
/// statement cache and the transactions.
struct RawStatement {
    private let statement: OpaquePointer
    private let connection: OpaquePointer?
    private var index: Int32 = 0

    /// Prepares `statement` for binding from the first parameter.
    init(_ statement: Statement, in db: Database) {
        self.statement = statement.sqliteStatement
        self.connection = db.sqliteConnection
        sqlite3_reset(self.statement)
        sqlite3_clear_bindings(self.statement)
    }

    /// Wraps `statement` with the arguments GRDB already bound.
    init(bound statement: Statement, in db: Database) {
        self.statement = statement.sqliteStatement
        self.connection = db.sqliteConnection
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private mutating func next() -> Int32 {
        index += 1
        return index
    }

    mutating func bind(_ value: Int64?) {
        let position = next()
        if let value { sqlite3_bind_int64(statement, position, value) } else { sqlite3_bind_null(statement, position) }
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    mutating func bind(_ value: Double?) {
        let position = next()
        if let value { sqlite3_bind_double(statement, position, value) } else { sqlite3_bind_null(statement, position) }
    }

    mutating func bind(_ value: String?) {
        let position = next()
        guard var value else {
            sqlite3_bind_null(statement, position)
            return
        }
        value.withUTF8 { bytes in
            guard let base = bytes.baseAddress else {
                _ = sqlite3_bind_text(statement, position, "", 0, Self.transient)
                return
            }
            _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { characters in
                sqlite3_bind_text(statement, position, characters, Int32(bytes.count), Self.transient)
            }
        }
    }

    mutating func bind(_ value: [UInt8]?) {
        let position = next()
        guard let value else {
            sqlite3_bind_null(statement, position)
            return
        }
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(statement, position, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    /// Steps through the result rows, handing each to `body` as a ``RawRow``.
    func forEachRow(_ body: (RawRow) throws -> Void) throws {
        defer { sqlite3_reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                let message = connection.map { String(cString: sqlite3_errmsg($0)) }
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
            }
            try body(RawRow(statement: statement))
        }
    }

    /// Runs the statement to completion.
    /// - Returns: the number of rows it changed.
    @discardableResult
    func execute() throws -> Int {
        let code = sqlite3_step(statement)
        defer { sqlite3_reset(statement) }
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        return connection.map { Int(sqlite3_changes($0)) } ?? 0
    }
}

/// The current row of a stepping statement, read column by column through the C API.
struct RawRow {
    let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }

    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }

    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(statement, column) != 0 }

    func string(_ column: Int32) -> String { optionalString(column) ?? "" }

    func optionalString(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(statement, column) else { return nil }
        let length = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)
    }
}
