import Foundation
import GRDB
import SwitchboardJournal
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Opening, permissions, migrations, and every kind of bad journal.
struct JournalFileTests {
    func mode(_ path: String) -> Int {
        var info = stat()
        stat(path, &info)
        return Int(info.st_mode & 0o777)
    }

    @Test func aNewJournalIsPrivateWALWithTheCurrentSchema() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        try await withWriter(journal) { writer in try await writer.write(call("req_1", at: fixedStart)) }
        #expect(mode(journal.path) == 0o600)
        #expect(mode(journal.path + "-wal") == 0o600)
        #expect(mode(journal.path + "-shm") == 0o600)
        try await sql(journal.path).read { db throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == JournalSchema.version)
            #expect(try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") == 1)
        }
    }

    @Test func aGroupJournalIsReadableByThatGroup() throws {
        let directory = try temporaryDirectory()
        let group = String(cString: getgrgid(getgid())!.pointee.gr_name)
        var configuration = journalConfiguration(directory)
        configuration.group = group
        let journal = try Journal.open(configuration)
        #expect(mode(journal.path) == 0o640)
        var info = stat()
        stat(journal.path, &info)
        #expect(info.st_gid == getgid())
    }

    @Test func anUnknownGroupIsRefusedByName() throws {
        var configuration = journalConfiguration(try temporaryDirectory())
        configuration.group = "no-such-group-here"
        #expect(throws: JournalError.self) { try Journal.open(configuration) }
        do { _ = try Journal.open(configuration) } catch { #expect(error.message.contains("no such group")) }
    }

    @Test func reopeningKeepsRowsAndDoesNotMigrateTwice() async throws {
        let directory = try temporaryDirectory()
        let first = try Journal.open(journalConfiguration(directory))
        try await withWriter(first) { writer in try await writer.write(call("req_a", at: fixedStart)) }
        let second = try Journal.open(journalConfiguration(directory))
        try await withWriter(second) { writer in try await writer.write(call("req_b", at: fixedStart)) }
        try await sql(second.path).read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") == 2)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") == 1)
        }
    }

    /// Writers starting together create the file, give it its page size, switch it to WAL and
    /// migrate it at the same moment: SQLite refuses the first two at once, without waiting, to
    /// whoever loses the race, and the later migrators find the tables already made.
    @Test func writersRacingOnANewJournalAllOpenIt() throws {
        let directory = try temporaryDirectory()
        for round in 0..<20 {
            let configuration = journalConfiguration(directory, name: "journal-\(round).sqlite")
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try Journal.open(configuration) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            try sql(configuration.path).read { db throws in
                #expect(try Int.fetchOne(db, sql: "PRAGMA page_size") == Journal.pageSize)
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") == 1)
            }
        }
    }

    @Test func aJournalFromANewerSwitchboardIsRefusedForWritingAndReading() async throws {
        let directory = try temporaryDirectory()
        let journal = try Journal.open(journalConfiguration(directory))
        try await withWriter(journal) { writer in try await writer.write(call("req_1", at: fixedStart)) }
        try await DatabaseQueue(path: journal.path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        do {
            _ = try Journal.open(journalConfiguration(directory))
            Issue.record("a newer journal was opened for writing")
        } catch {
            #expect(error.code == .newerSchema)
            #expect(error.message.contains(journal.path))
            #expect(error.message.contains("upgrade"))
        }
        #expect(throws: JournalError.self) { try JournalReader.open(path: journal.path) }
        // Nothing was lost.
        let remaining = try await sql(journal.path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM calls")
        }
        #expect(remaining == 1)
    }

    @Test func aMissingJournalTellsReadersHowToGetOne() {
        do {
            _ = try JournalReader.open(path: "/tmp/definitely-not-here-\(UUID()).sqlite")
            Issue.record("opened a missing journal")
        } catch {
            #expect(error.code == .missing)
            #expect(error.message.contains("--journal"))
        }
    }

    @Test func aCorruptFileIsNamedAndLeftAlone() throws {
        let directory = try temporaryDirectory()
        let path = "\(directory)/journal.sqlite"
        let garbage = Data(repeating: 0x5A, count: 8192)
        _ = FileManager.default.createFile(atPath: path, contents: garbage)
        for attempt in 0..<2 {
            do {
                if attempt == 0 {
                    _ = try Journal.open(journalConfiguration(directory))
                } else {
                    _ = try JournalReader.open(path: path)
                }
                Issue.record("a corrupt file was opened")
            } catch {
                #expect(error.code == .corrupt)
                #expect(error.message.contains(path))
                #expect(error.message.contains("move it aside"))
            }
        }
        #expect(FileManager.default.contents(atPath: path) == garbage)
    }

    @Test func aJournalLockedTooLongFailsDurableWritesThenRecovers() async throws {
        let directory = try temporaryDirectory()
        var configuration = journalConfiguration(directory)
        configuration.busyTimeout = .milliseconds(100)
        let journal = try Journal.open(configuration)
        var holdsLocks = Configuration()
        holdsLocks.allowsUnsafeTransactions = true
        let blocker = try DatabaseQueue(path: journal.path, configuration: holdsLocks)
        try await withWriter(journal) { writer in
            try await blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
            do {
                try await writer.write(call("req_locked", at: fixedStart))
                Issue.record("wrote through an exclusive lock")
            } catch let error as JournalError {
                #expect(error.code == .locked)
                #expect(error.message.contains("fuser"))
            }
            try await blocker.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            try await writer.write(call("req_after", at: fixedStart))
        }
        let ids = try await sql(journal.path).read { db in try String.fetchAll(db, sql: "SELECT request_id FROM calls")
        }
        #expect(ids == ["req_after"])
    }

    @Test func aFullDiskRefusesNewRowsKeepsOldOnesAndRecovers() async throws {
        let directory = try temporaryDirectory()
        var configuration = journalConfiguration(directory)
        configuration.maximumPageCount = 60
        let journal = try Journal.open(configuration)
        let (written, failure) = try await withWriter(journal) { writer -> (Int, JournalError?) in
            for index in 0..<2000 {
                var record = call("req_\(index)", at: fixedStart)
                record.requestBody = String(repeating: "x", count: 2000)
                do {
                    try await writer.write(record)
                } catch let error as JournalError {
                    return (index, error)
                }
            }
            return (2000, nil)
        }
        let error = try #require(failure)
        #expect(error.code == .diskFull)
        #expect(error.message.contains("nothing already written is lost"))
        #expect(written > 0)
        try await sql(journal.path).read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") == written)
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
        }
        // Space returns: a writer without the cap carries on.
        let roomy = try Journal.open(journalConfiguration(directory))
        try await withWriter(roomy) { writer in try await writer.write(call("req_more", at: fixedStart)) }
        let count = try await sql(journal.path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM calls") }
        #expect(count == written + 1)
    }

    @Test func aMissingFolderIsNamed() {
        let configuration = JournalConfiguration(path: "/tmp/no-such-folder-\(UUID())/journal.sqlite")
        do {
            _ = try Journal.open(configuration)
            Issue.record("opened a journal in a missing folder")
        } catch {
            #expect(error.message.contains("does not exist"))
        }
    }
}
