import Foundation
import SwitchboardCore
import Synchronization

/// A wall clock that moves only when a test says so.
///
/// Pass it wherever a component takes a ``WallClock`` (or `now: @Sendable () -> Date`). Sleepers
/// wake when ``advance(by:)`` moves the clock past their deadline; ``sleepers(atLeast:)`` waits,
/// without polling, until the code under test is asleep, so a test can advance at the right moment.
public final class ManualClock: WallClock, Sendable {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        var id: UInt64
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var watchers: [Watcher] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// - Parameter start: the initial time; the default is a fixed instant in November 2026.
    public init(start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        state = Mutex(State(now: start))
    }

    /// The current time.
    public func now() -> Date { state.withLock { $0.now } }

    /// Moves the clock forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.addingTimeInterval(duration.secondsDouble)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to the earliest sleeper's deadline (if it is later than now) and wakes it.
    /// - Returns: how far the clock moved.
    @discardableResult
    public func advanceToNextSleeper() -> Duration {
        let step = state.withLock { state -> Duration in
            guard let earliest = state.sleepers.map(\.deadline).min() else { return .zero }
            return .seconds(max(0, earliest.timeIntervalSince(state.now)))
        }
        advance(by: step)
        return step
    }

    /// How many tasks are asleep on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The deadlines of the tasks asleep on this clock, earliest first.
    public var sleeperDeadlines: [Date] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    /// Returns once at least `count` tasks are asleep on this clock, or the calling task is cancelled.
    public func sleepers(atLeast count: Int) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.sleepers.count >= count || Task.isCancelled { return true }
                    state.watchers.append(Watcher(id: id, count: count, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let watcher = state.withLock { state -> Watcher? in
                guard let index = state.watchers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.watchers.remove(at: index)
            }
            watcher?.continuation.resume()
        }
    }

    /// Runs `body` while time jumps to the next sleeper's deadline whenever something sleeps on
    /// this clock: backoff and pacing waits take no real time, in their true order. Work that is
    /// not asleep (an HTTP exchange) runs in real time while the clock stands still.
    public func autoAdvancing<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        let driver = Task {
            while !Task.isCancelled {
                await sleepers(atLeast: 1)
                if Task.isCancelled { break }
                advanceToNextSleeper()
                await Task.yield()
            }
        }
        defer { driver.cancel() }
        return try await body()
    }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome {
                    case wake, cancelled
                    case sleep([CheckedContinuation<Void, Never>])
                }
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= state.now { return .wake }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    let count = state.sleepers.count
                    let ready = state.watchers.filter { $0.count <= count }.map(\.continuation)
                    state.watchers.removeAll { $0.count <= count }
                    return .sleep(ready)
                }
                switch outcome {
                case .wake: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .sleep(let watchers): for watcher in watchers { watcher.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
