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

extension Journal {
    /// Writes a batch in one transaction: the call rows with their attempts and events, the
    /// headroom rows, and the rollups they add to — so rollups always equal the raw rows.
    ///
    /// A call whose `request_id` is already journaled is skipped (and not counted twice).
    /// - Returns: the number of call rows inserted.
    @discardableResult
    func insert(_ entries: [JournalEntry]) async throws -> Int {
        try await pool.writeWithoutTransaction { db in
            var inserted = 0
            try db.inTransaction(.immediate) {
                var rollups: [RollupResolution: [RollupKey: RollupCounters]] = [:]
                for entry in entries {
                    switch entry {
                    case .call(let call):
                        guard try insertCall(call, db) else { continue }
                        inserted += 1
                        let started = Self.milliseconds(call.startedAt)
                        for resolution in RollupResolution.allCases {
                            rollups[resolution, default: [:]][
                                RollupKey(bucketStart: resolution.bucketStart(started), call: call),
                                default: RollupCounters()
                            ]
                            .add(call)
                        }
                    case .event(let event):
                        try insertEvent(event, db)
                    case .headroom(let headroom):
                        try upsertHeadroom(headroom, db)
                    }
                }
                for (resolution, deltas) in rollups {
                    for (key, delta) in deltas { try addRollup(delta, key: key, resolution: resolution, db) }
                }
                return .commit
            }
            return inserted
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

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

    private func insertCall(_ call: CallRecord, _ db: Database) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
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
        )
        let values: [(any DatabaseValueConvertible)?] = [
            call.requestID, Self.milliseconds(call.startedAt), Self.milliseconds(call.endedAt), call.userID,
            call.tenantID,
            call.keyID, call.sessionID, call.step, call.traceID, call.spanID, call.origin.rawValue, call.route,
            call.provider,
            call.modelRequested, call.modelUsed, call.stream, call.outcome.rawValue, call.httpStatus, call.errorClass,
            redacted(call.errorMessage), call.attempts.count, call.latencyMilliseconds,
            call.timeToFirstTokenMilliseconds,
            call.tokens.input, call.tokens.cachedInput, call.tokens.cacheWrite5m, call.tokens.cacheWrite1h,
            call.tokens.output,
            call.tokens.reasoning, call.costNanoUSD, call.savedNanoUSD, call.cache?.rawValue, call.pacedMilliseconds,
            call.fellBack, redactedJSON(call.moderation), redactedJSON(call.validation), call.headroom?.serialized(),
            body(call.requestBody), body(call.responseBody),
        ]
        try statement.execute(arguments: StatementArguments(values))
        guard db.changesCount > 0 else { return false }
        for attempt in call.attempts { try insertAttempt(attempt, requestID: call.requestID, db) }
        for event in call.events {
            var event = event
            event.requestID = event.requestID ?? call.requestID
            try insertEvent(event, db)
        }
        return true
    }

    /// The response headers an attempt row may keep: rate-limit and retry families and request
    /// ids. Anything else — `authorization`, `x-api-key`, cookies — is never stored.
    static func storableHeader(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.hasPrefix("x-ratelimit-") || name.hasPrefix("anthropic-ratelimit-") || name.hasPrefix("ratelimit-")
            || name == "retry-after" || name == "retry-after-ms" || name == "x-should-retry" || name == "x-request-id"
            || name == "request-id"
    }

    private func insertAttempt(_ attempt: AttemptRecord, requestID: String, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO attempts (request_id, number, provider, model, key_fingerprint, started_at, http_status,
                    error_class, error_message, backoff_ms, retry_after_ms, latency_ms, ratelimit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let headers = attempt.rateLimitHeaders.filter { Self.storableHeader($0.key) }
        let headersJSON: String? =
            headers.isEmpty
            ? nil
            : JSONValue.object(
                JSONObject(
                    uniqueKeysWithValues: headers.sorted { $0.key < $1.key }.map {
                        ($0.key.lowercased(), .string($0.value))
                    }
                )
            )
            .serialized()
        let values: [(any DatabaseValueConvertible)?] = [
            requestID, attempt.number, attempt.provider, attempt.model,
            attempt.keyFingerprint.map(SecretScanner.redact),
            Self.milliseconds(attempt.startedAt), attempt.httpStatus, attempt.errorClass,
            redacted(attempt.errorMessage),
            attempt.backoffMilliseconds, attempt.retryAfterMilliseconds, attempt.latencyMilliseconds, headersJSON,
        ]
        try statement.execute(arguments: StatementArguments(values))
    }

    private func insertEvent(_ event: EventRecord, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO events (at, request_id, kind, scope, detail) VALUES (?, ?, ?, ?, ?)"
        )
        try statement.execute(
            arguments: [
                Self.milliseconds(event.at), event.requestID, event.kind, event.scope, redactedJSON(event.detail),
            ])
    }

    private func upsertHeadroom(_ headroom: HeadroomRecord, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO headroom (provider, key_fingerprint, model, updated_at,
                    requests_limit, requests_remaining, requests_reset_at, tokens_limit, tokens_remaining, tokens_reset_at,
                    input_tokens_limit, input_tokens_remaining, input_tokens_reset_at,
                    output_tokens_limit, output_tokens_remaining, output_tokens_reset_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let updated = Self.milliseconds(headroom.updatedAt)
        var values: [(any DatabaseValueConvertible)?] = [
            headroom.provider, SecretScanner.redact(headroom.keyFingerprint), headroom.model, updated,
        ]
        let snapshot = headroom.snapshot
        for window in [snapshot.requests, snapshot.tokens, snapshot.inputTokens, snapshot.outputTokens] {
            values.append(window?.limit)
            values.append(window?.remaining)
            values.append(window?.resetAfter.map { updated + Int64($0.millisecondsDouble.rounded(.up)) })
        }
        try statement.execute(arguments: StatementArguments(values))
    }

    /// Adds a batch's counters to one rollup row: counters by SQL arithmetic, the error-class
    /// map and the histograms by the merge functions registered on every writer connection.
    private func addRollup(_ delta: RollupCounters, key: RollupKey, resolution: RollupResolution, _ db: Database) throws
    {
        let statement = try db.cachedStatement(sql: Self.rollupUpsert[resolution]!)
        var arguments: StatementArguments = [
            key.bucketStart, key.userID, key.tenantID, key.route, key.provider, key.model, key.origin,
        ]
        arguments += Self.arguments(delta)
        try statement.execute(arguments: arguments)
    }

    static let rollupUpsert: [RollupResolution: String] = Dictionary(
        uniqueKeysWithValues: RollupResolution.allCases.map { resolution in
            let columns = rollupColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let updates = columns.map { column -> String in
                switch column {
                case "error_classes":
                    "error_classes = \(MergeFunctions.counts.name)(error_classes, excluded.error_classes)"
                case "latency_hist", "ttft_hist":
                    "\(column) = \(MergeFunctions.histograms.name)(\(column), excluded.\(column))"
                default: "\(column) = \(column) + excluded.\(column)"
                }
            }
            let sql = """
                INSERT INTO \(resolution.table) (bucket_start, user_id, tenant_id, route, provider, model, origin, \(rollupColumns))
                VALUES (\(Array(repeating: "?", count: 7 + columns.count).joined(separator: ", ")))
                ON CONFLICT (bucket_start, user_id, tenant_id, route, provider, model, origin) DO UPDATE SET
                \(updates.joined(separator: ", "))
                """
            return (resolution, sql)
        }
    )

    static let rollupColumns = """
        calls, ok, errors, blocked, cached, rate_limited, budget, invalid_output, error_classes, cache_hits, cache_joined, \
        retried, fell_back, paced, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, \
        cost_nano_usd, cost_unknown, saved_nano_usd, latency_ms_sum, latency_hist, ttft_hist
        """

    static func arguments(_ counters: RollupCounters) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            counters.calls, counters.ok, counters.errors, counters.blocked, counters.cached, counters.rateLimited,
            counters.budget, counters.invalidOutput, counters.errorClassesJSON, counters.cacheHits,
            counters.cacheJoined,
            counters.retried, counters.fellBack, counters.paced, counters.inputTokens, counters.cachedInputTokens,
            counters.cacheWriteTokens, counters.outputTokens, counters.reasoningTokens, counters.costNanoUSD,
            counters.costUnknown, counters.savedNanoUSD, counters.latencySumMilliseconds,
            counters.latency.isEmpty ? nil : Data(counters.latency.encoded),
            counters.timeToFirstToken.isEmpty ? nil : Data(counters.timeToFirstToken.encoded),
        ]
        return StatementArguments(values)
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
