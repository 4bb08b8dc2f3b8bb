import Foundation
import GRDB
import SwitchboardTesting
import SwitchboardWire
import Testing

@testable import SwitchboardJournal

struct JournalWriterTests {
    /// The WAL is checkpointed beside the commits while the writer runs (SQLite's own checkpoint,
    /// inside a commit, waits for 1,000 pages: twenty calls are far from it). The test drives the
    /// checkpoint loop's pauses: the loop asking for its next pause means the checkpoint before it
    /// is done.
    @Test func theWriterCheckpointsBesideItsCommits() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        func fileSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int) ?? 0 }
        let before = fileSize()
        let (pauses, paused) = AsyncStream.makeStream(of: Void.self)
        let (permits, permit) = AsyncStream.makeStream(of: Void.self)
        let writer = JournalWriter(journal: journal, logger: quietLogger) { _ in
            paused.yield()
            var next = permits.makeAsyncIterator()
            if await next.next() == nil { throw CancellationError() }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            var pausesSeen = pauses.makeAsyncIterator()
            _ = await pausesSeen.next()
            for number in 0..<20 { try await writer.write(call("req_checkpoint\(number)", at: Date())) }
            #expect(fileSize() == before, "nothing reached the database file before a checkpoint")
            permit.yield()
            _ = await pausesSeen.next()
            #expect(fileSize() > before, "the calls reached the database file while the writer ran")
            writer.finish()
            try await group.waitForAll()
        }
        let calls = try await DatabaseQueue(path: journal.path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM calls")
        }
        #expect(calls == 20)
    }

    /// Checkpoints on another connection never catch up with a writer that keeps committing: the
    /// writer finishes one between two commits once the WAL is long, and the WAL starts over. Here
    /// the checkpoints beside the commits never come (an hour apart), so only that bounds the WAL:
    /// 300 one-call commits of ~30 pages each would make it ~150 MB.
    @Test func theWALStartsOverWhileTheWriterKeepsCommitting() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        func walSize() -> Int {
            (try? FileManager.default.attributesOfItem(atPath: journal.path + "-wal")[.size] as? Int) ?? 0
        }
        let writer = JournalWriter(
            journal: journal,
            logger: quietLogger,
            checkpointInterval: .seconds(3_600),
            walRestartFrames: 50
        )
        var largest = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            for number in 0..<300 {
                try await writer.write(call("req_restart\(number)", at: Date()))
                largest = max(largest, walSize())
            }
            writer.finish()
            try await group.waitForAll()
        }
        // 50 frames, the commit that passes them and the one after: well under 4 MiB.
        #expect(largest < 4 << 20, "the WAL grew to \(largest) bytes")
        let calls = try await DatabaseQueue(path: journal.path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM calls")
        }
        #expect(calls == 300)
    }

    @Test func aDurableWriteIsVisibleToOtherConnectionsWhenItReturns() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        let reader = try JournalReader.open(path: journal.path)
        try await withWriter(journal) { writer in
            for index in 0..<20 {
                try await writer.write(call("req_\(index)", at: fixedStart))
                #expect(try reader.callCount() == index + 1)
            }
        }
    }

    @Test func concurrentCallsShareCommits() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let statistics = try await withWriter(journal) { writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<500 { group.addTask { try await writer.write(call("req_\(index)", at: fixedStart)) } }
                try await group.waitForAll()
            }
            return writer.statistics
        }
        #expect(statistics.writtenCalls == 500)
        #expect(statistics.batches < 500, "group commit should put several calls in one transaction")
    }

    @Test func aFullQueueDropsAndCountsWithTheDropPolicy() async throws {
        var configuration = journalConfiguration(try temporaryDirectory())
        configuration.queueCapacity = 2
        configuration.backpressure = .drop
        let journal = try Journal.open(configuration)
        let writer = JournalWriter(journal: journal, logger: quietLogger)
        // The writer is not running, so nothing drains the queue.
        var accepted: [Bool] = []
        for index in 0..<5 { accepted.append(await writer.submit(.call(call("req_\(index)", at: fixedStart)))) }
        #expect(accepted == [true, true, false, false, false])
        #expect(writer.statistics.dropped == 3)
    }

    @Test func aFullQueueMakesWritersWaitWithTheWaitPolicy() async throws {
        var configuration = journalConfiguration(try temporaryDirectory())
        configuration.queueCapacity = 3
        configuration.batchSize = 2
        let journal = try Journal.open(configuration)
        try await withWriter(journal) { writer in
            for index in 0..<50 { await writer.submit(.call(call("req_\(index)", at: fixedStart))) }
        }
        #expect(try JournalReader.open(path: journal.path).callCount() == 50)
    }

    @Test func aCancelledWriterWritesWhatIsQueuedAndReturns() async throws {
        // A service beside it failing cancels the group; the writer must end, not wait for work.
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let writer = JournalWriter(journal: journal, logger: quietLogger)
        for index in 0..<3 { await writer.submit(.call(call("req_\(index)", at: fixedStart))) }
        let running = Task { try await writer.run() }
        try await poll("the queued calls to be written") { writer.statistics.writtenCalls == 3 }
        running.cancel()
        try await running.value
        #expect(try JournalReader.open(path: journal.path).callCount() == 3)
    }

    @Test func anEntrySQLiteRefusesIsDroppedAloneAndDoesNotHoldUpTheJournal() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        try await withWriter(journal) { writer in try await writer.write(call("req_first", at: fixedStart)) }
        // A search entry squatting on the next call's row id: that call's insert violates it.
        try await DatabaseQueue(path: journal.path).write { db in
            try db.execute(
                sql: "INSERT INTO calls_fts (rowid, text) VALUES ((SELECT max(id) + 1 FROM calls), 'squatter')"
            )
        }
        let writer = JournalWriter(journal: journal, logger: quietLogger)
        var poisoned = call("req_poisoned", at: fixedStart)
        poisoned.searchText = "refused"
        await writer.submit(.call(poisoned))
        for index in 0..<3 { await writer.submit(.call(call("req_good_\(index)", at: fixedStart))) }
        let running = Task { try await writer.run() }
        try await poll("the good calls to be written") { writer.statistics.writtenCalls == 3 }
        writer.finish()
        try await running.value
        #expect(writer.statistics.dropped == 1)
        let ids = try await sql(journal.path).read { db in try String.fetchAll(db, sql: "SELECT request_id FROM calls")
        }
        #expect(Set(ids) == ["req_first", "req_good_0", "req_good_1", "req_good_2"])
    }

    @Test func aRequestIDIsJournaledOnceAndCountedOnce() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        try await withWriter(journal) { writer in
            try await writer.write(call("req_same", at: fixedStart))
            try await writer.write(call("req_same", at: fixedStart))
        }
        try await sql(journal.path).read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT sum(calls) FROM rollups_minute") == 1)
        }
    }

    @Test func writingAfterFinishIsRefused() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        let writer = JournalWriter(journal: journal, logger: quietLogger)
        writer.finish()
        await #expect(throws: JournalError.self) { try await writer.write(call("req_late", at: fixedStart)) }
        do {
            try await writer.write(call("req_late", at: fixedStart))
        } catch {
            #expect(error.code == .closed)
        }
    }

    @Test func attemptsEventsAndHeadroomAreRecordedWithTheCall() async throws {
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        var record = call("req_full", at: fixedStart)
        record.attempts = [
            AttemptRecord(
                number: 1,
                provider: "openai",
                model: "gpt-4o-mini",
                keyFingerprint: "sk-…a1b2",
                startedAt: fixedStart,
                httpStatus: 429,
                errorClass: "rate_limit_exceeded",
                retryAfterMilliseconds: nil,
                latencyMilliseconds: 12,
                rateLimitHeaders: [
                    "x-ratelimit-remaining-requests": "0", "retry-after-ms": "1200",
                    "Authorization": "Bearer sk-live-secret",
                ]
            ),
            AttemptRecord(
                number: 2,
                provider: "openai",
                model: "gpt-4o-mini",
                startedAt: fixedStart.addingTimeInterval(1.2),
                httpStatus: 200,
                backoffMilliseconds: 1200,
                retryAfterMilliseconds: 1200,
                latencyMilliseconds: 300
            ),
        ]
        record.events = [
            EventRecord(at: fixedStart, kind: "pacing_wait", scope: "openai/gpt-4o-mini", detail: ["waited_ms": 40])
        ]
        let recorded = record
        let headroom = HeadroomRecord(
            provider: "openai",
            keyFingerprint: "sk-…a1b2",
            model: "gpt-4o-mini",
            updatedAt: fixedStart,
            snapshot: RateLimitSnapshot(
                requests: RateLimitWindow(limit: 500, remaining: 498, resetAfter: .milliseconds(120))
            )
        )
        try await withWriter(journal) { writer in
            await writer.submit(.headroom(headroom))
            await writer.submit(
                .event(
                    EventRecord(
                        at: fixedStart,
                        kind: "breaker",
                        scope: "anthropic/claude-haiku-4-5",
                        detail: ["to": "open"]
                    )
                )
            )
            try await writer.write(recorded)
        }
        let reader = try JournalReader.open(path: journal.path)
        let detail = try #require(try reader.call(requestID: "req_full"))
        #expect(detail.attempts.map(\.httpStatus) == [429, 200])
        #expect(
            detail.attempts[0].rateLimitHeaders == ["x-ratelimit-remaining-requests": "0", "retry-after-ms": "1200"]
        )
        #expect(detail.attempts[1].backoffMilliseconds == 1200)
        #expect(detail.events.map(\.kind) == ["pacing_wait"])
        #expect(
            try reader.events(since: fixedStart.addingTimeInterval(-1), kinds: ["breaker"]).map(\.scope) == [
                "anthropic/claude-haiku-4-5"
            ]
        )
        let rows = try reader.headroom()
        #expect(rows.count == 1)
        #expect(rows[0].requests.remaining == 498)
        #expect(
            rows[0].requests.resetAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == Int64(
                fixedStart.timeIntervalSince1970 * 1000
            ) + 120
        )
        #expect(try reader.call(requestID: "req_fu")?.summary.requestID == "req_full", "a unique prefix finds the call")
    }
}

struct JournalRedactionTests {
    static let secretBody =
        #"{"messages":[{"role":"user","content":"my key is sk-proj-AbCdEfGhIjKlMnOpQrStUvWx9999 and AKIAIOSFODNN7EXAMPLE"}]}"#

    func stored(_ mode: StoredBodies) async throws -> (request: String?, error: String?) {
        var configuration = journalConfiguration(try temporaryDirectory())
        configuration.storeBodies = mode
        let journal = try Journal.open(configuration)
        var record = call("req_secret", at: fixedStart, outcome: .error)
        record.requestBody = Self.secretBody
        record.errorMessage = "upstream rejected key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx9999"
        let recorded = record
        try await withWriter(journal) { writer in try await writer.write(recorded) }
        return try await sql(journal.path).read { db throws in
            let row = try Row.fetchOne(db, sql: "SELECT request_body, error_message FROM calls")!
            return (row[0], row[1])
        }
    }

    @Test func redactedBodiesMaskEveryKeyShapedSecret() async throws {
        let (request, error) = try await stored(.redacted)
        #expect(request == #"{"messages":[{"role":"user","content":"my key is sk-…9999 and AKIA…MPLE"}]}"#)
        #expect(error == "upstream rejected key sk-…9999")
    }

    @Test func noBodiesStoresNoneButStillMasksMessages() async throws {
        let (request, error) = try await stored(.none)
        #expect(request == nil)
        #expect(error == "upstream rejected key sk-…9999")
    }

    @Test func fullBodiesAreKeptAsDelivered() async throws {
        #expect(try await stored(.full).request == Self.secretBody)
    }

    /// Calls are redacted by the task that queues them, before the writer sees them: a call
    /// waiting in the queue holds no secret anywhere, and what it stores is already masked.
    @Test func aQueuedCallHoldsNoSecret() throws {
        let secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx9999"
        let journal = try Journal.open(journalConfiguration(try temporaryDirectory()))
        var record = call("req_queued", at: fixedStart, outcome: .error)
        record.requestBody = Self.secretBody
        record.responseBody = #"{"error":{"message":"bad key \#(secret)"}}"#
        record.searchText = "my key is \(secret)"
        record.errorMessage = "upstream rejected key \(secret)"
        record.moderation = ["note": .string("saw \(secret)")]
        record.attempts = [
            AttemptRecord(
                number: 1,
                provider: "openai",
                model: "gpt-4o-mini",
                keyFingerprint: secret,
                startedAt: fixedStart,
                httpStatus: 401,
                errorClass: "invalid_api_key",
                errorMessage: "Incorrect API key provided: \(secret)",
                latencyMilliseconds: 3,
                rateLimitHeaders: ["x-ratelimit-remaining-requests": "9", "authorization": "Bearer \(secret)"]
            )
        ]
        guard case .call(let prepared) = journal.prepare(.call(record)) else {
            Issue.record("a call was prepared as something else")
            return
        }
        #expect(!String(reflecting: prepared).contains("AbCdEfGhIjKl"), "no field of the queued call keeps the key")
        #expect(prepared.requestBody == #"{"messages":[{"role":"user","content":"my key is sk-…9999 and AKIA…MPLE"}]}"#)
        #expect(prepared.responseBody == #"{"error":{"message":"bad key sk-…9999"}}"#)
        #expect(prepared.search == "my key is sk-…9999\nupstream rejected key sk-…9999")
        #expect(prepared.errorMessage == "upstream rejected key sk-…9999")
        #expect(prepared.moderation == #"{"note":"saw sk-…9999"}"#)
        #expect(prepared.attempts.first?.keyFingerprint == "sk-…9999")
        #expect(prepared.attempts.first?.errorMessage == "Incorrect API key provided: sk-…9999")
        #expect(prepared.attempts.first?.headers == #"{"x-ratelimit-remaining-requests":"9"}"#)
    }
}
