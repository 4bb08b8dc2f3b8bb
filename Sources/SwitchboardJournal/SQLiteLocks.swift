import GRDB
import SwitchboardWire

#if canImport(Glibc)
import Glibc
#endif

/// How Switchboard's processes wait for each other's locks on the SQLite files they share (the
/// journal and the state database).
public enum SQLiteLocks {
    /// Waits for another process's write lock by polling every 1–3 ms (jittered) until `limit`.
    ///
    /// SQLite's own busy timeout sleeps up to 100 ms between tries, so a process that just
    /// committed and starts its next transaction at once keeps winning the lock while the others
    /// sleep; with many writers that starves some of them past any timeout. Short jittered polls
    /// make the lock go round.
    static func busyWait(limit: Duration) -> Database.BusyCallback {
        let tries = max(1, Int(limit.millisecondsDouble / 2))
        return { numberOfTries in
            guard numberOfTries < tries else { return false }
            pause()
            return true
        }
    }

    /// Runs `operation` again, after the same 1–3 ms pauses as ``busyWait(limit:)``, for as long as
    /// SQLite refuses it as busy and `limit` has not passed.
    ///
    /// For what sets a file up: switching it to WAL, or giving a new file its page size, needs the
    /// file to itself. SQLite refuses that at once, without calling the busy handler, to a
    /// connection that finds another one reading or setting the file up too: processes starting
    /// together on a new file (two gateways, a command beside them) would otherwise fail at random.
    /// The operation must be safe to run again from its start.
    public static func retryingWhileBusy<T>(for limit: Duration, _ operation: () throws -> T) throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            do {
                return try operation()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && clock.now < deadline {
                pause()
            }
        }
    }

    private static func pause() {
        usleep(UInt32.random(in: 1_000...3_000))
    }
}
