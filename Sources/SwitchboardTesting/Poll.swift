/// A condition that did not hold before its deadline.
public struct PollTimeout: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Waits until `condition` returns a value, checking every `interval` until `timeout`: the one
/// place tests wait for another process or connection, instead of sleeping a guessed time.
///
/// - Parameters:
///   - what: described in the timeout error.
///   - timeout: the deadline; the default is 10 s.
///   - interval: time between checks; the default is 10 ms.
/// - Returns: the first non-nil value of `condition`.
public func poll<T>(
    _ what: String,
    timeout: Duration = .seconds(10),
    interval: Duration = .milliseconds(10),
    until condition: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if let value = try await condition() { return value }
        guard clock.now < deadline else { throw PollTimeout(what: what, timeout: timeout) }
        try await clock.sleep(for: interval)
    }
}

/// Waits until `condition` is true; see ``poll(_:timeout:interval:until:)``.
public func poll(
    _ what: String,
    timeout: Duration = .seconds(10),
    interval: Duration = .milliseconds(10),
    until condition: () async throws -> Bool
) async throws {
    let _: Bool = try await poll(what, timeout: timeout, interval: interval) { try await condition() ? true : nil }
}
