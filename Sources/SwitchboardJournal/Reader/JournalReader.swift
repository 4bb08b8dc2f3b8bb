import Foundation
import GRDB
import SwitchboardWire

/// A call as lists show it: every column but the bodies and JSON verdicts.
public struct CallSummary: Sendable, Equatable {
    public var id: Int64
    public var requestID: String
    public var startedAt: Date
    public var endedAt: Date
    public var userID: String?
    public var tenantID: String?
    public var sessionID: String?
    public var step: Int?
    public var origin: String
    public var route: String?
    public var provider: String?
    public var modelRequested: String?
    public var modelUsed: String?
    public var stream: Bool
    public var outcome: String
    public var httpStatus: Int?
    public var errorClass: String?
    public var errorMessage: String?
    public var attempts: Int
    public var latencyMilliseconds: Double?
    public var timeToFirstTokenMilliseconds: Double?
    public var tokens: TokenCounts
    public var costNanoUSD: Int64?
    public var savedNanoUSD: Int64
    public var cache: String?
    public var pacedMilliseconds: Double
    public var fellBack: Bool

    /// The model to show: the one that answered, else the one asked for.
    public var model: String? { modelUsed ?? modelRequested }

    static let columns = """
        id, request_id, started_at, ended_at, user_id, tenant_id, session_id, step, origin, route, provider, \
        model_requested, model_used, stream, outcome, http_status, error_class, error_message, attempts, latency_ms, \
        ttft_ms, input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, \
        reasoning_tokens, cost_nano_usd, saved_nano_usd, cache, paced_ms, fell_back
        """

    init(raw row: RawRow) {
        id = row.int64(0)
        requestID = row.string(1)
        startedAt = Date(timeIntervalSince1970: Double(row.int64(2)) / 1000)
        endedAt = Date(timeIntervalSince1970: Double(row.int64(3)) / 1000)
        userID = row.optionalString(4)
        tenantID = row.optionalString(5)
        sessionID = row.optionalString(6)
        step = row.optionalInt(7)
        origin = row.string(8)
        route = row.optionalString(9)
        provider = row.optionalString(10)
        modelRequested = row.optionalString(11)
        modelUsed = row.optionalString(12)
        stream = row.bool(13)
        outcome = row.string(14)
        httpStatus = row.optionalInt(15)
        errorClass = row.optionalString(16)
        errorMessage = row.optionalString(17)
        attempts = row.int(18)
        latencyMilliseconds = row.optionalDouble(19)
        timeToFirstTokenMilliseconds = row.optionalDouble(20)
        tokens = TokenCounts(
            input: row.int(21),
            cachedInput: row.int(22),
            cacheWrite5m: row.int(23),
            cacheWrite1h: row.int(24),
            output: row.int(25),
            reasoning: row.int(26)
        )
        costNanoUSD = row.optionalInt64(27)
        savedNanoUSD = row.int64(28)
        cache = row.optionalString(29)
        pacedMilliseconds = row.double(30)
        fellBack = row.bool(31)
    }

    /// Summaries for `sql` (which selects ``columns`` first), decoded through the C API.
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments) throws -> [CallSummary] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        var summaries: [CallSummary] = []
        try RawStatement(bound: statement, in: db).forEachRow { summaries.append(CallSummary(raw: $0)) }
        return summaries
    }

    init(row: Row) {
        id = row[0]
        requestID = row[1]
        startedAt = Date(timeIntervalSince1970: Double(row[2] as Int64) / 1000)
        endedAt = Date(timeIntervalSince1970: Double(row[3] as Int64) / 1000)
        userID = row[4]
        tenantID = row[5]
        sessionID = row[6]
        step = row[7]
        origin = row[8]
        route = row[9]
        provider = row[10]
        modelRequested = row[11]
        modelUsed = row[12]
        stream = row[13]
        outcome = row[14]
        httpStatus = row[15]
        errorClass = row[16]
        errorMessage = row[17]
        attempts = row[18]
        latencyMilliseconds = row[19]
        timeToFirstTokenMilliseconds = row[20]
        tokens = TokenCounts(
            input: row[21],
            cachedInput: row[22],
            cacheWrite5m: row[23],
            cacheWrite1h: row[24],
            output: row[25],
            reasoning: row[26]
        )
        costNanoUSD = row[27]
        savedNanoUSD = row[28]
        cache = row[29]
        pacedMilliseconds = row[30]
        fellBack = row[31]
    }
}

/// Everything the journal knows about one call.
public struct CallDetail: Sendable, Equatable {
    public var summary: CallSummary
    public var moderation: JSONValue?
    public var validation: JSONValue?
    public var headroom: JSONValue?
    public var requestBody: String?
    public var responseBody: String?
    public var attempts: [AttemptRecord]
    public var events: [EventRecord]
}

/// The latest headroom of one (provider, key, model).
public struct HeadroomRow: Sendable, Equatable {
    public var provider: String
    public var keyFingerprint: String
    public var model: String
    public var updatedAt: Date
    public var requests: (limit: Int?, remaining: Int?, resetAt: Date?)
    public var tokens: (limit: Int?, remaining: Int?, resetAt: Date?)

    public static func == (a: HeadroomRow, b: HeadroomRow) -> Bool {
        a.provider == b.provider && a.keyFingerprint == b.keyFingerprint && a.model == b.model
            && a.updatedAt == b.updatedAt
            && a.requests.limit == b.requests.limit && a.requests.remaining == b.requests.remaining
            && a.tokens.limit == b.tokens.limit && a.tokens.remaining == b.tokens.remaining
    }
}

/// Which calls a list shows.
public struct CallFilter: Sendable, Equatable {
    public var userID: String?
    public var tenantID: String?
    public var model: String?
    public var route: String?
    public var provider: String?
    public var origin: String?
    /// An outcome (`error`, `blocked`, …), `ok`, an HTTP status (`429`), or a status class (`5xx`).
    public var status: String?
    /// Words to find in the stored bodies and error messages (full-text search).
    public var text: String?
    public var since: Date?
    public var until: Date?

    public init(
        userID: String? = nil,
        tenantID: String? = nil,
        model: String? = nil,
        route: String? = nil,
        provider: String? = nil,
        origin: String? = nil,
        status: String? = nil,
        text: String? = nil,
        since: Date? = nil,
        until: Date? = nil
    ) {
        self.userID = userID
        self.tenantID = tenantID
        self.model = model
        self.route = route
        self.provider = provider
        self.origin = origin
        self.status = status
        self.text = text
        self.since = since
        self.until = until
    }

    /// The SQL condition and its arguments.
    func condition() -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        func add(_ clause: String, _ value: (any DatabaseValueConvertible)?) {
            clauses.append(clause)
            arguments += [value]
        }
        if let userID { add("user_id = ?", userID) }
        if let tenantID { add("tenant_id = ?", tenantID) }
        if let model {
            add("(model_used = ? OR (model_used IS NULL AND model_requested = ?))", model)
            arguments += [model]
        }
        if let route { add("route = ?", route) }
        if let provider { add("provider = ?", provider) }
        if let origin { add("origin = ?", origin) }
        if let since { add("started_at >= ?", Journal.milliseconds(since)) }
        if let until { add("started_at < ?", Journal.milliseconds(until)) }
        if let status {
            if let code = Int(status) {
                add("http_status = ?", code)
            } else if status.count == 3, status.hasSuffix("xx"), let hundreds = Int(status.prefix(1)) {
                add("http_status BETWEEN ? AND ?", hundreds * 100)
                arguments += [hundreds * 100 + 99]
            } else if status == "errors" || status == "failed" {
                clauses.append("outcome NOT IN ('ok', 'cached')")
            } else {
                add("outcome = ?", status)
            }
        }
        if let text {
            let query = Self.ftsQuery(text)
            if !query.isEmpty { add("id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)", query) }
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments)
    }

    /// Plain words as an FTS5 query: split into tokens the way the index's tokenizer splits them
    /// (letters and digits), each quoted, all required. No query syntax reaches FTS5.
    static func ftsQuery(_ text: String) -> String {
        text.unicodeScalars.split { !CharacterSet.alphanumerics.contains($0) }
            .map { "\"" + String(String.UnicodeScalarView($0)) + "\"" }
            .joined(separator: " ")
    }
}

/// Reads a journal that other processes write: lists, details, search, tailing and aggregates.
///
/// It holds one read-only connection, so `PRAGMA data_version` tells cheaply whether anything was
/// committed since the last look.
public final class JournalReader: Sendable {
    public let path: String
    let queue: DatabaseQueue

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens an existing journal for reading.
    /// - Throws: ``JournalError``: missing, corrupt, from a newer or an unmigrated schema, unreadable.
    public static func open(path: String) throws(JournalError) -> JournalReader {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError(
                .missing,
                path: path,
                "the journal \(path) does not exist; start the gateway or `switchboard demo` to create it, or pass --journal PATH"
            )
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(2)
        configuration.label = "switchboard.journal.reader"
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let migrator = JournalSchema.migrator
            try queue.read { db in
                guard try db.tableExists("grdb_migrations"), try db.tableExists("calls") else {
                    throw JournalError(
                        .corrupt,
                        path: path,
                        "\(path) is a SQLite file but not a Switchboard journal; pass the journal's path with --journal"
                    )
                }
                if try migrator.hasBeenSuperseded(db) {
                    throw JournalError(
                        .newerSchema,
                        path: path,
                        "the journal \(path) was written by a newer Switchboard (schema newer than version \(JournalSchema.version)); upgrade this switchboard to read it"
                    )
                }
                if try !migrator.hasCompletedMigrations(db) {
                    throw JournalError(
                        .newerSchema,
                        path: path,
                        "the journal \(path) has an older schema; start a gateway (any writer) once to upgrade it, then read it again"
                    )
                }
            }
            return JournalReader(path: path, queue: queue)
        } catch {
            throw JournalError.classify(error, path: path, during: "read")
        }
    }

    func read<T: Sendable>(_ action: String, _ body: @Sendable (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw JournalError.classify(error, path: path, during: action)
        }
    }

    // MARK: - Tail

    /// A number that changes whenever any process commits to the journal (`PRAGMA data_version`).
    public func dataVersion() throws(JournalError) -> Int {
        try read("check") { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    /// The highest call row id.
    public func lastCallID() throws(JournalError) -> Int64 {
        try read("read") { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM calls") ?? 0 }
    }

    /// How many calls were journaled after the row `id` (a range of the row ids: cheap).
    public func callCount(after id: Int64) throws(JournalError) -> Int {
        try read("read") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE id > ?", arguments: [id]) ?? 0
        }
    }

    /// Calls committed after row `id`, oldest first.
    public func calls(after id: Int64, limit: Int = 1000) throws(JournalError) -> [CallSummary] {
        try read("tail") { db in
            try CallSummary.fetchAll(
                db,
                sql: "SELECT \(CallSummary.columns) FROM calls WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [id, limit]
            )
        }
    }

    // MARK: - Lists and details

    /// The newest calls matching `filter`, newest first, optionally before row `id` (to page back).
    public func calls(matching filter: CallFilter = CallFilter(), before id: Int64? = nil, limit: Int = 100)
        throws(JournalError)
        -> [CallSummary]
    {
        let (condition, arguments) = filter.condition()
        var allArguments = arguments
        var sql = "SELECT \(CallSummary.columns) FROM calls WHERE \(condition)"
        if let id {
            sql += " AND id < ?"
            allArguments += [id]
        }
        sql += " ORDER BY id DESC LIMIT ?"
        allArguments += [limit]
        let (finalSQL, finalArguments) = (sql, allArguments)
        return try read("search") { db in
            try CallSummary.fetchAll(db, sql: finalSQL, arguments: finalArguments)
        }
    }

    /// Calls matching `filter` committed after row `id`, oldest first: a filtered tail.
    public func calls(matching filter: CallFilter, after id: Int64, limit: Int = 1000) throws(JournalError)
        -> [CallSummary]
    {
        let (condition, arguments) = filter.condition()
        var allArguments = arguments
        allArguments += [id, limit]
        let finalArguments = allArguments
        return try read("tail") { db in
            try CallSummary.fetchAll(
                db,
                sql: "SELECT \(CallSummary.columns) FROM calls WHERE \(condition) AND id > ? ORDER BY id LIMIT ?",
                arguments: finalArguments
            )
        }
    }

    /// Every call that started in `[since, until)`, oldest first, with its bodies when asked: for
    /// exports. `body` is called once per call, in order.
    public func forEachCall(
        since: Date?,
        until: Date?,
        withBodies: Bool,
        _ body: @Sendable (CallSummary, _ requestBody: String?, _ responseBody: String?) throws -> Void
    ) throws(JournalError) {
        let filter = CallFilter(since: since, until: until)
        let (condition, arguments) = filter.condition()
        let columns = CallSummary.columns + (withBodies ? ", request_body, response_body" : "")
        try read("export") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT \(columns) FROM calls WHERE \(condition) ORDER BY id",
                arguments: arguments
            )
            while let row = try rows.next() {
                try body(CallSummary(row: row), withBodies ? row[32] : nil, withBodies ? row[33] : nil)
            }
        }
    }

    /// The newest calls that did not end ok or cached: the error stream.
    public func recentFailures(limit: Int = 50) throws(JournalError) -> [CallSummary] {
        try read("read") { db in
            try CallSummary.fetchAll(
                db,
                sql:
                    "SELECT \(CallSummary.columns) FROM calls WHERE outcome <> 'ok' AND outcome <> 'cached' ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            )
        }
    }

    /// The calls of a session in step order.
    public func session(_ sessionID: String) throws(JournalError) -> [CallSummary] {
        try read("read") { db in
            try CallSummary.fetchAll(
                db,
                sql: "SELECT \(CallSummary.columns) FROM calls WHERE session_id = ? ORDER BY step, id",
                arguments: [sessionID]
            )
        }
    }

    /// Everything about one call, by request id (or a unique prefix of it); `nil` when unknown.
    public func call(requestID: String) throws(JournalError) -> CallDetail? {
        try read("read") { db in
            var row = try Row.fetchOne(
                db,
                sql:
                    "SELECT \(CallSummary.columns), moderation, validation, headroom, request_body, response_body FROM calls WHERE request_id = ?",
                arguments: [requestID]
            )
            if row == nil {
                let matches = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT \(CallSummary.columns), moderation, validation, headroom, request_body, response_body FROM calls WHERE request_id LIKE ? ESCAPE '\\' LIMIT 2",
                    arguments: [
                        requestID.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                            + "%"
                    ]
                )
                if matches.count == 1 { row = matches[0] }
            }
            guard let row else { return nil }
            let summary = CallSummary(row: row)
            func json(_ index: Int) -> JSONValue? { (row[index] as String?).flatMap { try? JSONValue.parse($0) } }
            let attempts = try Row.fetchAll(
                db,
                sql: """
                    SELECT number, provider, model, key_fingerprint, started_at, http_status, error_class, error_message,
                        backoff_ms, retry_after_ms, latency_ms, ratelimit FROM attempts WHERE request_id = ? ORDER BY number
                    """,
                arguments: [summary.requestID]
            ).map { attempt in
                AttemptRecord(
                    number: attempt[0],
                    provider: attempt[1],
                    model: attempt[2],
                    keyFingerprint: attempt[3],
                    startedAt: Date(timeIntervalSince1970: Double(attempt[4] as Int64) / 1000),
                    httpStatus: attempt[5],
                    errorClass: attempt[6],
                    errorMessage: attempt[7],
                    backoffMilliseconds: attempt[8],
                    retryAfterMilliseconds: attempt[9],
                    latencyMilliseconds: attempt[10],
                    rateLimitHeaders: (attempt[11] as String?).flatMap { try? JSONValue.parse($0).objectValue }
                        .map {
                            Dictionary(
                                uniqueKeysWithValues: $0.compactMap { key, value in value.stringValue.map { (key, $0) }
                                }
                            )
                        } ?? [:]
                )
            }
            let events = try Self.events(
                db,
                sql: "SELECT at, request_id, kind, scope, detail FROM events WHERE request_id = ? ORDER BY at, id",
                [summary.requestID]
            )
            return CallDetail(
                summary: summary,
                moderation: json(32),
                validation: json(33),
                headroom: json(34),
                requestBody: row[35],
                responseBody: row[36],
                attempts: attempts,
                events: events
            )
        }
    }

    /// Events since `date`, newest first, optionally of some kinds only.
    public func events(since date: Date, kinds: [String]? = nil, limit: Int = 200) throws(JournalError) -> [EventRecord]
    {
        try read("read") { db in
            var sql = "SELECT at, request_id, kind, scope, detail FROM events WHERE at >= ?"
            var arguments: StatementArguments = [Journal.milliseconds(date)]
            if let kinds, !kinds.isEmpty {
                sql += " AND kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(kinds)
            }
            sql += " ORDER BY at DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try Self.events(db, sql: sql, arguments)
        }
    }

    private static func events(_ db: Database, sql: String, _ arguments: StatementArguments) throws -> [EventRecord] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            EventRecord(
                at: Date(timeIntervalSince1970: Double(row[0] as Int64) / 1000),
                requestID: row[1],
                kind: row[2],
                scope: row[3],
                detail: (row[4] as String?).flatMap { try? JSONValue.parse($0) }
            )
        }
    }

    /// The latest headroom of every (provider, key, model).
    public func headroom() throws(JournalError) -> [HeadroomRow] {
        try read("read") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT provider, key_fingerprint, model, updated_at, requests_limit, requests_remaining, requests_reset_at,
                        tokens_limit, tokens_remaining, tokens_reset_at FROM headroom ORDER BY provider, model, key_fingerprint
                    """
            ).map { row in
                func date(_ index: Int) -> Date? {
                    (row[index] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) }
                }
                return HeadroomRow(
                    provider: row[0],
                    keyFingerprint: row[1],
                    model: row[2],
                    updatedAt: date(3)!,
                    requests: (row[4], row[5], date(6)),
                    tokens: (row[7], row[8], date(9))
                )
            }
        }
    }

    /// Number of call rows.
    public func callCount() throws(JournalError) -> Int {
        try read("count") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") ?? 0 }
    }
}
