import Foundation
import GRDB
import SwitchboardWire

/// One thing to record.
public enum JournalEntry: Sendable, Equatable {
    case call(CallRecord)
    /// An event that belongs to no call (a breaker transition, a retry-budget warning).
    case event(EventRecord)
    case headroom(HeadroomRecord)
}

/// A call made ready for the writer's transaction: its texts redacted and its JSON serialized by
/// the task that queues it (``Journal/prepare(_:)``), so that the one writer thread spends its time
/// in SQLite, many callers redact at once, and a call waiting in the queue holds no secret.
struct PreparedCall: Sendable {
    /// What an attempt stores of its texts (the attempt itself, stripped of them, is in
    /// `record.attempts`, in the same order).
    struct Attempt: Sendable {
        var keyFingerprint: String?
        var errorMessage: String?
        /// The storable rate-limit headers as a JSON object, names lower-cased.
        var headers: String?
    }

    /// The call without its bodies, texts, verdicts and events: the columns and rollups it feeds.
    var record: CallRecord
    var errorMessage: String?
    var moderation: String?
    var validation: String?
    var headroom: String?
    var requestBody: String?
    var responseBody: String?
    /// What the full-text index gets: the search text and the error message.
    var search: String?
    var attempts: [Attempt]
    var events: [PreparedEvent]
}

/// An event with its detail redacted and serialized.
struct PreparedEvent: Sendable {
    /// The event without its detail.
    var record: EventRecord
    var detail: String?
}

/// A ``JournalEntry`` ready for the writer's transaction.
enum PreparedEntry: Sendable {
    case call(PreparedCall)
    case event(PreparedEvent)
    /// With its key fingerprint redacted.
    case headroom(HeadroomRecord)
}

extension Journal {
    /// Redacts and serializes what an entry stores, under this journal's `store_bodies`.
    func prepare(_ entry: JournalEntry) -> PreparedEntry {
        switch entry {
        case .event(let event): return .event(prepare(event))
        case .headroom(var headroom):
            headroom.keyFingerprint = SecretScanner.redact(headroom.keyFingerprint)
            return .headroom(headroom)
        case .call(let call):
            let errorMessage = redacted(call.errorMessage)
            let search = [configuration.storeBodies == .none ? nil : redacted(call.searchText), errorMessage]
                .compactMap { $0 }
            var record = call
            record.requestBody = nil
            record.responseBody = nil
            record.searchText = nil
            record.errorMessage = nil
            record.moderation = nil
            record.validation = nil
            record.headroom = nil
            record.attempts = call.attempts.map(Self.stripped)
            record.events = []
            return .call(
                PreparedCall(
                    record: record,
                    errorMessage: errorMessage,
                    moderation: redactedJSON(call.moderation),
                    validation: redactedJSON(call.validation),
                    headroom: call.headroom?.serialized(),
                    requestBody: body(call.requestBody),
                    responseBody: body(call.responseBody),
                    search: search.isEmpty ? nil : search.joined(separator: "\n"),
                    attempts: call.attempts.map(prepare),
                    events: call.events.map { event in
                        var event = event
                        event.requestID = event.requestID ?? call.requestID
                        return prepare(event)
                    }
                )
            )
        }
    }

    private func prepare(_ event: EventRecord) -> PreparedEvent {
        var record = event
        record.detail = nil
        return PreparedEvent(record: record, detail: redactedJSON(event.detail))
    }

    /// An attempt without its texts, rate-limit headers and key fingerprint.
    private static func stripped(_ attempt: AttemptRecord) -> AttemptRecord {
        var attempt = attempt
        attempt.keyFingerprint = nil
        attempt.errorMessage = nil
        attempt.rateLimitHeaders = [:]
        return attempt
    }

    private func prepare(_ attempt: AttemptRecord) -> PreparedCall.Attempt {
        let headers = attempt.rateLimitHeaders.filter { HeaderField.keptWithAttempt($0.key) }
        return PreparedCall.Attempt(
            keyFingerprint: attempt.keyFingerprint.map(SecretScanner.redact),
            errorMessage: redacted(attempt.errorMessage),
            headers: headers.isEmpty
                ? nil
                : JSONValue.object(
                    JSONObject(
                        uniqueKeysWithValues: headers.sorted { $0.key < $1.key }.map {
                            ($0.key.lowercased(), .string($0.value))
                        }
                    )
                ).serialized()
        )
    }

    /// Writes a batch of prepared entries in one transaction: the call rows with their attempts,
    /// events and search entries, the headroom rows, and the rollups they add to — so rollups
    /// always equal the raw rows.
    ///
    /// A call whose `request_id` is already journaled is skipped (and not counted twice).
    /// - Returns: the number of call rows inserted.
    @discardableResult
    func insert(_ entries: [PreparedEntry]) async throws -> Int {
        try await pool.writeWithoutTransaction { db in
            var inserted = 0
            try db.inTransaction(.immediate) {
                var rollups: [RollupTable: [RollupKey: RollupCounters]] = [:]
                for entry in entries {
                    switch entry {
                    case .call(let prepared):
                        guard try insertCall(prepared, db) else { continue }
                        inserted += 1
                        let call = prepared.record
                        let started = Self.milliseconds(call.startedAt)
                        for table in RollupTable.allCases {
                            let key = RollupKey(
                                bucketStart: table.resolution.bucketStart(started),
                                call: call,
                                scope: table.scope
                            )
                            rollups[table, default: [:]][key, default: RollupCounters()].add(call)
                        }
                    case .event(let event):
                        try insertEvent(event, db)
                    case .headroom(let headroom):
                        try upsertHeadroom(headroom, db)
                    }
                }
                for (table, deltas) in rollups {
                    let statement = try db.cachedStatement(sql: Self.rollupUpsert[table]!)
                    for (key, delta) in deltas { try Self.addRollup(delta, key: key, table: table, statement, db) }
                }
                return .commit
            }
            return inserted
        }
    }

    /// How the journal stores a time: milliseconds since 1970, UTC.
    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    private func body(_ text: String?) -> String? {
        guard let text else { return nil }
        switch configuration.storeBodies {
        case .full: return text
        case .redacted: return SecretScanner.redact(text)
        case .none: return nil
        }
    }

    private func redacted(_ text: String?) -> String? { text.map(SecretScanner.redact) }

    private func redactedJSON(_ value: JSONValue?) -> String? { value.map { SecretScanner.redact($0.serialized()) } }

    private static let insertCallSQL = """
        INSERT INTO calls (request_id, started_at, ended_at, user_id, tenant_id, key_id, session_id, step,
            trace_id, span_id, origin, route, provider, model_requested, model_used, stream, outcome,
            http_status, error_class, error_message, attempts, latency_ms, ttft_ms, input_tokens,
            cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
            cost_nano_usd, saved_nano_usd, cache, paced_ms, fell_back, moderation, validation, headroom,
            request_body, response_body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
            ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(request_id) DO NOTHING
        """

    private func insertCall(_ prepared: PreparedCall, _ db: Database) throws -> Bool {
        var row = RawStatement(try db.cachedStatement(sql: Self.insertCallSQL), in: db)
        let call = prepared.record
        row.bind(call.requestID)
        row.bind(Self.milliseconds(call.startedAt))
        row.bind(Self.milliseconds(call.endedAt))
        row.bind(call.userID)
        row.bind(call.tenantID)
        row.bind(call.keyID)
        row.bind(call.sessionID)
        row.bind(call.step)
        row.bind(call.traceID)
        row.bind(call.spanID)
        row.bind(call.origin.rawValue)
        row.bind(call.route)
        row.bind(call.provider)
        row.bind(call.modelRequested)
        row.bind(call.modelUsed)
        row.bind(call.stream)
        row.bind(call.outcome.rawValue)
        row.bind(call.httpStatus)
        row.bind(call.errorClass)
        row.bind(prepared.errorMessage)
        row.bind(call.attempts.count)
        row.bind(call.latencyMilliseconds)
        row.bind(call.timeToFirstTokenMilliseconds)
        row.bind(call.tokens.input)
        row.bind(call.tokens.cachedInput)
        row.bind(call.tokens.cacheWrite5m)
        row.bind(call.tokens.cacheWrite1h)
        row.bind(call.tokens.output)
        row.bind(call.tokens.reasoning)
        row.bind(call.costNanoUSD)
        row.bind(call.savedNanoUSD)
        row.bind(call.cache?.rawValue)
        row.bind(call.pacedMilliseconds)
        row.bind(call.fellBack)
        row.bind(prepared.moderation)
        row.bind(prepared.validation)
        row.bind(prepared.headroom)
        row.bind(prepared.requestBody)
        row.bind(prepared.responseBody)
        guard try row.execute() > 0 else { return false }
        let id = db.lastInsertedRowID
        if let searchable = prepared.search {
            var search = RawStatement(
                try db.cachedStatement(sql: "INSERT INTO calls_fts (rowid, text) VALUES (?, ?)"),
                in: db
            )
            search.bind(id)
            search.bind(searchable)
            try search.execute()
        }
        for (attempt, texts) in zip(call.attempts, prepared.attempts) {
            try insertAttempt(attempt, texts, requestID: call.requestID, db)
        }
        for event in prepared.events { try insertEvent(event, db) }
        return true
    }

    private func insertAttempt(
        _ attempt: AttemptRecord,
        _ prepared: PreparedCall.Attempt,
        requestID: String,
        _ db: Database
    ) throws {
        var row = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO attempts (request_id, number, provider, model, key_fingerprint, started_at, http_status,
                        error_class, error_message, backoff_ms, retry_after_ms, latency_ms, ratelimit)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ),
            in: db
        )
        row.bind(requestID)
        row.bind(attempt.number)
        row.bind(attempt.provider)
        row.bind(attempt.model)
        row.bind(prepared.keyFingerprint)
        row.bind(Self.milliseconds(attempt.startedAt))
        row.bind(attempt.httpStatus)
        row.bind(attempt.errorClass)
        row.bind(prepared.errorMessage)
        row.bind(attempt.backoffMilliseconds)
        row.bind(attempt.retryAfterMilliseconds)
        row.bind(attempt.latencyMilliseconds)
        row.bind(prepared.headers)
        try row.execute()
    }

    private func insertEvent(_ prepared: PreparedEvent, _ db: Database) throws {
        var row = RawStatement(
            try db.cachedStatement(
                sql: "INSERT INTO events (at, request_id, kind, scope, detail) VALUES (?, ?, ?, ?, ?)"
            ),
            in: db
        )
        let event = prepared.record
        row.bind(Self.milliseconds(event.at))
        row.bind(event.requestID)
        row.bind(event.kind)
        row.bind(event.scope)
        row.bind(prepared.detail)
        try row.execute()
    }

    private func upsertHeadroom(_ headroom: HeadroomRecord, _ db: Database) throws {
        var row = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO headroom (provider, key_fingerprint, model, updated_at,
                        requests_limit, requests_remaining, requests_reset_at, tokens_limit, tokens_remaining, tokens_reset_at,
                        input_tokens_limit, input_tokens_remaining, input_tokens_reset_at,
                        output_tokens_limit, output_tokens_remaining, output_tokens_reset_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ),
            in: db
        )
        let updated = Self.milliseconds(headroom.updatedAt)
        row.bind(headroom.provider)
        row.bind(headroom.keyFingerprint)
        row.bind(headroom.model)
        row.bind(updated)
        let snapshot = headroom.snapshot
        for window in [snapshot.requests, snapshot.tokens, snapshot.inputTokens, snapshot.outputTokens] {
            row.bind(window?.limit)
            row.bind(window?.remaining)
            row.bind(window?.resetAfter.map { updated + Int64($0.millisecondsDouble.rounded(.up)) })
        }
        try row.execute()
    }

    // MARK: - Rollups

    static let rollupColumns = """
        calls, ok, errors, blocked, cached, rate_limited, budget, invalid_output, error_classes, cache_hits, cache_joined, \
        retried, fell_back, paced, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, \
        cost_nano_usd, cost_unknown, saved_nano_usd, latency_ms_sum, latency_hist, ttft_hist
        """

    static let rollupColumnList = rollupColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }

    /// One `INSERT … ON CONFLICT DO UPDATE` per table: counters add up in SQL, the error-class map
    /// and the histograms merge through the functions registered on every writer connection.
    static let rollupUpsert: [RollupTable: String] = Dictionary(
        uniqueKeysWithValues: RollupTable.allCases.map { table in
            let updates = rollupColumnList.map { column -> String in
                switch column {
                case "error_classes":
                    "error_classes = \(MergeFunctions.counts.name)(error_classes, excluded.error_classes)"
                case "latency_hist", "ttft_hist":
                    "\(column) = \(MergeFunctions.histograms.name)(\(column), excluded.\(column))"
                default: "\(column) = \(column) + excluded.\(column)"
                }
            }
            let keys = table.keyColumns.joined(separator: ", ")
            let placeholders = Array(repeating: "?", count: table.keyColumns.count + rollupColumnList.count).joined(
                separator: ", "
            )
            let sql = """
                INSERT INTO \(table.name) (\(keys), \(rollupColumns)) VALUES (\(placeholders))
                ON CONFLICT (\(keys)) DO UPDATE SET \(updates.joined(separator: ", "))
                """
            return (table, sql)
        }
    )

    private static func addRollup(
        _ counters: RollupCounters,
        key: RollupKey,
        table: RollupTable,
        _ statement: Statement,
        _ db: Database
    ) throws {
        var row = RawStatement(statement, in: db)
        row.bind(key.bucketStart)
        for value in key.values(for: table.scope) { row.bind(value) }
        row.bind(counters.calls)
        row.bind(counters.ok)
        row.bind(counters.errors)
        row.bind(counters.blocked)
        row.bind(counters.cached)
        row.bind(counters.rateLimited)
        row.bind(counters.budget)
        row.bind(counters.invalidOutput)
        row.bind(counters.errorClasses.isEmpty ? "{}" : counters.errorClassesJSON)
        row.bind(counters.cacheHits)
        row.bind(counters.cacheJoined)
        row.bind(counters.retried)
        row.bind(counters.fellBack)
        row.bind(counters.paced)
        row.bind(counters.inputTokens)
        row.bind(counters.cachedInputTokens)
        row.bind(counters.cacheWriteTokens)
        row.bind(counters.outputTokens)
        row.bind(counters.reasoningTokens)
        row.bind(counters.costNanoUSD)
        row.bind(counters.costUnknown)
        row.bind(counters.savedNanoUSD)
        row.bind(counters.latencySumMilliseconds)
        row.bind(counters.latency.isEmpty ? nil : counters.latency.encoded)
        row.bind(counters.timeToFirstToken.isEmpty ? nil : counters.timeToFirstToken.encoded)
        try row.execute()
    }

    /// Reads the rollup columns (in ``rollupColumns`` order, from column `offset`) of a row.
    static func counters(from row: Row, offset: Int = 0) -> RollupCounters {
        var counters = RollupCounters()
        counters.calls = row[offset + 0]
        counters.ok = row[offset + 1]
        counters.errors = row[offset + 2]
        counters.blocked = row[offset + 3]
        counters.cached = row[offset + 4]
        counters.rateLimited = row[offset + 5]
        counters.budget = row[offset + 6]
        counters.invalidOutput = row[offset + 7]
        counters.errorClasses = RollupCounters.errorClasses(fromJSON: row[offset + 8] ?? "{}")
        counters.cacheHits = row[offset + 9]
        counters.cacheJoined = row[offset + 10]
        counters.retried = row[offset + 11]
        counters.fellBack = row[offset + 12]
        counters.paced = row[offset + 13]
        counters.inputTokens = row[offset + 14]
        counters.cachedInputTokens = row[offset + 15]
        counters.cacheWriteTokens = row[offset + 16]
        counters.outputTokens = row[offset + 17]
        counters.reasoningTokens = row[offset + 18]
        counters.costNanoUSD = row[offset + 19]
        counters.costUnknown = row[offset + 20]
        counters.savedNanoUSD = row[offset + 21]
        counters.latencySumMilliseconds = row[offset + 22]
        if let data: Data = row[offset + 23], let histogram = LogHistogram(encoded: Array(data)) {
            counters.latency = histogram
        }
        if let data: Data = row[offset + 24], let histogram = LogHistogram(encoded: Array(data)) {
            counters.timeToFirstToken = histogram
        }
        return counters
    }
}
