import Logging
import Synchronization

/// A log handler that keeps every line (message and metadata, as text) for a test to search.
public struct RecordingLogHandler: LogHandler {
    /// The lines logged through every handler made from one recorder.
    public final class Recorder: Sendable {
        private let lines = Mutex<[String]>([])
        public init() {}
        public var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }

        /// A logger at `level` that records here.
        public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
            var logger = Logger(label: label) { _ in RecordingLogHandler(recorder: self) }
            logger.logLevel = level
            return logger
        }
    }

    let recorder: Recorder
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        recorder.append(
            "\(event.level) \(event.message) \(merged.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))"
        )
    }
}
