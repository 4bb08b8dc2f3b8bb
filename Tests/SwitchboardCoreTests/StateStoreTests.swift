import Foundation
import SwitchboardCore
import SwitchboardTesting
import Synchronization
import Testing

struct StateStoreTests {
    struct Counter: Codable, Sendable, Equatable {
        var value: Int
    }

    @Test func theSQLiteStoreIsSharedByEveryInstanceOnTheFileAndPrivateToItsOwner() async throws {
        let path = try temporaryDirectory() + "/state.sqlite"
        let first = try SQLiteStateStore(path: path)
        let second = try SQLiteStateStore(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // Concurrent read-modify-writes from two connections lose no update.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await store.update("counter", as: Counter.self) { counter in
                        counter = Counter(value: (counter?.value ?? 0) + 1)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.values(["counter"], as: Counter.self)["counter"] == Counter(value: 100))
        // Setting nil deletes.
        try await second.update("counter", as: Counter.self) { $0 = nil }
        #expect(try await first.values(["counter"], as: Counter.self).isEmpty)
    }

    /// Processes starting together (two gateways, a CLI beside them) open one new file at the same
    /// moment: switching it to WAL takes a lock that SQLite refuses at once, without waiting, to
    /// whoever loses the race.
    @Test func openersRacingOnANewFileAllOpenIt() throws {
        let directory = try temporaryDirectory()
        for round in 0..<20 {
            let path = directory + "/state-\(round).sqlite"
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try SQLiteStateStore(path: path) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
        }
    }

    @Test func aStateStoreThatCannotBeOpenedSaysWhatToDo() throws {
        let error = #expect(throws: StateStoreError.self) {
            try SQLiteStateStore(path: "/proc/no-such-dir/state.sqlite")
        }
        #expect(error?.message.contains("set state.backend: memory") == true)
    }

    @Test func theMemoryStoreKeepsValuesByKey() async throws {
        let store = MemoryStateStore()
        let result = try await store.update("a", as: Counter.self) { counter -> Int in
            counter = Counter(value: 7)
            return 1
        }
        #expect(result == 1)
        #expect(try await store.values(["a", "b"], as: Counter.self) == ["a": Counter(value: 7)])
    }
}
