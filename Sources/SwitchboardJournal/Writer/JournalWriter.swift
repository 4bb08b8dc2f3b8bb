import DequeModule
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Writes journal entries by group commit: callers queue entries, one task writes everything
/// queued in one transaction, so many concurrent calls cost one commit.
///
/// - ``write(_:)`` is durable: it returns once the call's row is committed to the WAL, so a
///   response released after it survives `kill -9`.
/// - ``submit(_:)`` is not: it returns once the entry is queued.
///
/// The queue is bounded. When it is full, durable writes wait for room; other writes wait too, or,
/// with ``JournalConfiguration/Backpressure/drop``, are dropped, counted in ``statistics`` and
/// logged (at most once a second). If a commit fails (disk full, lock held past the busy
/// timeout), durable callers get the ``JournalError``; other entries stay queued and are retried,
/// with one log line when the outage starts and one when it ends. Lock contention between
/// processes is not an outage: a lock timeout is retried quietly and logged only when the lock
/// stays held for ``lockOutageThreshold`` (a stuck process).
///
/// Run it as a `Service` (``run()``); graceful shutdown writes what is queued, then stops.
public final class JournalWriter: Service, Sendable {
    public struct Statistics: Sendable, Equatable {
        /// Call rows committed.
        public var writtenCalls = 0
        /// Entries dropped because the queue was full.
        public var dropped = 0
        /// Transactions committed.
        public var batches = 0
        /// Transactions that failed.
        public var failedBatches = 0
    }

    private struct Pending: Sendable {
        /// Redacted and serialized by the task that queued it.
        var entry: PreparedEntry
        var completion: CommitSignal?
    }

    private struct State: Sendable {
        var queue = Deque<Pending>()
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var wakeup: CheckedContinuation<Void, Never>?
        var finishing = false
        var finished = false
        var statistics = Statistics()
        var outageStarted: Date?
        var outageLogged = false
        var lastDropLog: Date?
    }

    public let journal: Journal
    private let logger: Logger
    private let state = Mutex(State())
    private let retryDelay: Duration
    private let checkpointInterval: Duration
    private let walRestartFrames: Int
    /// Waits out the interval between checkpoints (`Task.sleep`, unless a test drives it).
    private let pause: @Sendable (Duration) async throws -> Void
    /// How long lock timeouts may go on before they are logged as an outage: 30 s.
    static let lockOutageThreshold: TimeInterval = 30

    /// - Parameters:
    ///   - retryDelay: the pause after a failed commit before the next attempt; the default is 250 ms.
    ///   - checkpointInterval: how often the WAL is checkpointed beside the commits, when there were
    ///     any; the default is 50 ms.
    ///   - walRestartFrames: the WAL's length, in frames (pages), past which the writer finishes the
    ///     checkpoint between two commits, so that the WAL starts over; the default is 4,000 (64 MiB
    ///     of journal pages). That checkpoint makes the next batch wait for its `fdatasync`s: at
    ///     1,000 frames (SQLite's own threshold) every ~30th one-call commit did, and a cache hit's
    ///     p99 was 6–18 ms; at 4,000, 4.7–5.0 ms.
    public convenience init(
        journal: Journal,
        logger: Logger,
        retryDelay: Duration = .milliseconds(250),
        checkpointInterval: Duration = .milliseconds(50),
        walRestartFrames: Int = 4_000
    ) {
        self.init(
            journal: journal,
            logger: logger,
            retryDelay: retryDelay,
            checkpointInterval: checkpointInterval,
            walRestartFrames: walRestartFrames,
            pause: { try await Task.sleep(for: $0) }
        )
    }

    /// With the wait between checkpoints given: tests drive the checkpoint loop step by step.
    init(
        journal: Journal,
        logger: Logger,
        retryDelay: Duration = .milliseconds(250),
        checkpointInterval: Duration = .milliseconds(50),
        walRestartFrames: Int = 4_000,
        pause: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.checkpointInterval = checkpointInterval
        self.walRestartFrames = walRestartFrames
        self.pause = pause
        self.journal = journal
        self.logger = logger
        self.retryDelay = retryDelay
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Records a call and returns once its row is committed.
    /// - Throws: ``JournalError`` when the journal cannot be written, or ``JournalError/Code/closed``.
    public func write(_ call: CallRecord) async throws(JournalError) {
        let committed = CommitSignal()
        await enqueue(Pending(entry: journal.prepare(.call(call)), completion: committed), durable: true)
        try await committed.wait()
    }

    /// Queues an entry without waiting for its commit.
    /// - Returns: false when the queue was full and the entry was dropped (drop policy only).
    @discardableResult
    public func submit(_ entry: JournalEntry) async -> Bool {
        await enqueue(Pending(entry: journal.prepare(entry), completion: nil), durable: false)
    }

    /// Stops taking entries, writes what is queued, and lets ``run()`` return.
    public func finish() {
        let wakeup = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finishing = true
            defer { state.wakeup = nil }
            return state.wakeup
        }
        wakeup?.resume()
    }

    @discardableResult
    private func enqueue(_ pending: Pending, durable: Bool) async -> Bool {
        enum Decision {
            case queued(CheckedContinuation<Void, Never>?)
            case dropped(log: Bool)
            case closed
            case full
        }
        while true {
            let decision = state.withLock { state -> Decision in
                if state.finishing || state.finished { return .closed }
                if state.queue.count < journal.configuration.queueCapacity {
                    state.queue.append(pending)
                    defer { state.wakeup = nil }
                    return .queued(state.wakeup)
                }
                if !durable, journal.configuration.backpressure == .drop {
                    state.statistics.dropped += 1
                    let now = Date()
                    let log = state.lastDropLog.map { now.timeIntervalSince($0) >= 1 } ?? true
                    if log { state.lastDropLog = now }
                    return .dropped(log: log)
                }
                return .full
            }
            switch decision {
            case .queued(let wakeup):
                wakeup?.resume()
                return true
            case .dropped(let log):
                if log {
                    logger.warning(
                        "journal queue full: dropping entries",
                        metadata: ["journal.path": "\(journal.path)", "journal.dropped": "\(statistics.dropped)"]
                    )
                }
                return false
            case .closed:
                pending.completion?.resolve(
                    .failure(
                        JournalError(.closed, path: journal.path, "the journal writer for \(journal.path) has stopped")
                    )
                )
                return false
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if state.queue.count < journal.configuration.queueCapacity || state.finishing { return true }
                        state.roomWaiters.append(continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    /// Writes batches until ``finish()`` (or graceful shutdown) and an empty queue.
    public func run() async throws {
        // Cancelled (a service beside it failed, or the group was cancelled), it finishes as on a
        // graceful shutdown: what is queued is written, then it returns.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await writeLoop()
            } onGracefulShutdown: {
                self.finish()
            }
        } onCancel: {
            self.finish()
        }
    }

    private func writeLoop() async {
        // Checkpoints go on beside the commits instead of inside them (below).
        let checkpointing = (try? await journal.automaticCheckpoints(false)) != nil
        await withDiscardingTaskGroup { group in
            if checkpointing { group.addTask { await self.checkpointLoop() } }
            // The WAL's length at which the writer next finishes a checkpoint itself.
            var restartAt = walRestartFrames
            while let batch = await nextBatch() {
                await commit(batch)
                guard checkpointing else { continue }
                let frames = journal.walFrames.count.load(ordering: .relaxed)
                if frames < walRestartFrames {
                    restartAt = walRestartFrames
                } else if frames >= restartAt {
                    // A reader holding on to the WAL keeps it from starting over: then not again
                    // before it has grown by as much once more.
                    restartAt = frames + walRestartFrames
                    try? await journal.checkpointBetweenCommits()
                }
            }
            group.cancelAll()
        }
        if checkpointing {
            try? await journal.checkpoint()
            try? await journal.automaticCheckpoints(true)
        }
    }

    /// Every `checkpointInterval` (50 ms) after commits, copies the WAL's pages into the database
    /// file on a connection of its own: a passive checkpoint, which never holds up a commit. Left
    /// to SQLite, the commit that grows the WAL past 1,000 pages does it, with its `fdatasync`s —
    /// about every 30 one-call commits, tens of milliseconds that every durable caller of that
    /// batch waited for (a cache hit's p99 went from 40–60 ms to about 5 ms). Should a checkpoint
    /// fail, SQLite's automatic ones come back.
    private func checkpointLoop() async {
        var checkpointed = 0
        while !Task.isCancelled {
            try? await pause(checkpointInterval)
            let batches = state.withLock { $0.statistics.batches }
            guard batches != checkpointed, !Task.isCancelled else { continue }
            checkpointed = batches
            do {
                try await journal.checkpoint()
            } catch let error as DatabaseError
                where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
            {
                // Another process's writer is checkpointing the same file: that will do.
                continue
            } catch  where Task.isCancelled {
                // The writer is stopping (GRDB interrupts the checkpoint in flight): it checkpoints
                // once more itself.
                return
            } catch {
                logger.warning(
                    "journal checkpoints failed; SQLite checkpoints inside commits again",
                    metadata: ["path": "\(journal.path)", "error": "\(error)"]
                )
                try? await journal.automaticCheckpoints(true)
                return
            }
        }
    }

    /// The next batch, waiting for entries; `nil` once finishing with nothing left.
    private func nextBatch() async -> [Pending]? {
        while true {
            enum Step {
                case batch([Pending], [CheckedContinuation<Void, Never>])
                case done([CheckedContinuation<Void, Never>])
                case wait
            }
            let step = state.withLock { state -> Step in
                if !state.queue.isEmpty {
                    let batch = Array(state.queue.prefix(journal.configuration.batchSize))
                    state.queue.removeFirst(batch.count)
                    defer { state.roomWaiters.removeAll() }
                    return .batch(batch, state.roomWaiters)
                }
                if state.finishing {
                    state.finished = true
                    defer { state.roomWaiters.removeAll() }
                    return .done(state.roomWaiters)
                }
                return .wait
            }
            switch step {
            case .batch(let batch, let waiters):
                waiters.forEach { $0.resume() }
                return batch
            case .done(let waiters):
                waiters.forEach { $0.resume() }
                return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.finishing { return true }
                        state.wakeup = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    private func commit(_ batch: [Pending]) async {
        do {
            let inserted = try await journal.insert(batch.map(\.entry))
            let recovered = state.withLock { state -> Date? in
                state.statistics.writtenCalls += inserted
                state.statistics.batches += 1
                defer {
                    state.outageStarted = nil
                    state.outageLogged = false
                }
                return state.outageLogged ? state.outageStarted : nil
            }
            if let recovered {
                logger.notice(
                    "journal writable again",
                    metadata: [
                        "journal.path": "\(journal.path)",
                        "journal.outage_seconds": "\(Int(Date().timeIntervalSince(recovered)))",
                    ]
                )
            }
            for pending in batch { pending.completion?.resolve(.success(())) }
        } catch {
            if Self.rejectsItsRows(error) {
                // A row SQLite refuses (a constraint, a value too big) would fail every batch it is
                // retried in and hold up the journal for good: entries are written one by one, and
                // only the refused one is dropped (counted and logged).
                guard batch.count == 1 else {
                    for pending in batch { await commit([pending]) }
                    return
                }
                let count = state.withLock { state -> Int in
                    state.statistics.dropped += 1
                    return state.statistics.dropped
                }
                logger.error(
                    "journal entry refused by SQLite and dropped",
                    metadata: [
                        "journal.path": "\(journal.path)", "journal.dropped": "\(count)",
                        "error": "\(JournalError.classify(error, path: journal.path, during: "write").message)",
                    ]
                )
                batch[0].completion?.resolve(
                    .failure(JournalError.classify(error, path: journal.path, during: "write"))
                )
                return
            }
            let journalError = JournalError.classify(error, path: journal.path, during: "write")
            let now = Date()
            let logNow = state.withLock { state -> Bool in
                state.statistics.failedBatches += 1
                // Entries nobody waits for go back to the front and are retried.
                for pending in batch.reversed() where pending.completion == nil { state.queue.prepend(pending) }
                if state.outageStarted == nil { state.outageStarted = now }
                let lasting = now.timeIntervalSince(state.outageStarted!) >= Self.lockOutageThreshold
                guard !state.outageLogged, journalError.code != .locked || lasting else { return false }
                state.outageLogged = true
                return true
            }
            if logNow {
                logger.error(
                    "journal write failed",
                    metadata: ["journal.path": "\(journal.path)", "error": "\(journalError.message)"]
                )
            }
            for pending in batch { pending.completion?.resolve(.failure(journalError)) }
            try? await Task.sleep(for: retryDelay)
        }
    }
}

extension JournalWriter {
    /// Whether SQLite refused the rows themselves (a constraint, a mismatched or oversized value):
    /// retrying them can never succeed, unlike a lock, a full disk or an I/O error.
    static func rejectsItsRows(_ error: any Error) -> Bool {
        guard let database = error as? DatabaseError else { return false }
        return [ResultCode.SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG].contains(database.resultCode)
    }
}

/// The outcome of one durable write, resolved once by the writer and awaited once by the caller.
final class CommitSignal: Sendable {
    private struct State {
        var result: Result<Void, JournalError>?
        var waiter: CheckedContinuation<Result<Void, JournalError>, Never>?
    }

    private let state = Mutex(State())

    func resolve(_ result: Result<Void, JournalError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<Void, JournalError>, Never>? in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    func wait() async throws(JournalError) {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, JournalError>, Never>) in
            let ready = state.withLock { state -> Result<Void, JournalError>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        try result.get()
    }
}
