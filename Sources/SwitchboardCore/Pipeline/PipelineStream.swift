import Synchronization

/// A streamed call's events, in the caller's format.
///
/// Bounded: when ``StreamDemand/limit`` events wait unread, the call stops reading its upstream
/// until the consumer catches up, so a slow client slows the provider's connection (TCP flow
/// control) instead of filling memory. Stopping the iteration (or dropping the iterator) cancels
/// the call upstream.
public struct PipelineStream<Event: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Event

    let base: AsyncThrowingStream<Event, any Error>
    let demand: StreamDemand

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Event, any Error>.AsyncIterator
        let demand: StreamDemand

        public mutating func next() async throws -> Event? {
            let event = try await base.next()
            if event != nil { demand.consumed() }
            return event
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), demand: demand)
    }

    /// Events produced and not yet read.
    public var unread: Int { demand.unread }
    /// The producer is waiting for the consumer.
    public var isProducerWaiting: Bool { demand.isWaiting }
}

/// How far a stream's producer is ahead of its consumer, and the producer's wait for room.
final class StreamDemand: Sendable {
    /// Unread events past which the producer waits; it resumes when half of them are read.
    static let limit = 64

    private struct State {
        var unread = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var unread: Int { state.withLock { $0.unread } }
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    func produced(_ count: Int) {
        state.withLock { $0.unread += count }
    }

    func consumed() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.unread -= 1
            guard state.unread <= Self.limit / 2 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns when fewer than ``limit`` events wait unread, or when the task is cancelled.
    func waitForRoom() async {
        guard unread >= Self.limit else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wait = state.withLock { state -> Bool in
                    guard !Task.isCancelled, state.unread >= Self.limit else { return false }
                    state.waiter = continuation
                    return true
                }
                if !wait { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
