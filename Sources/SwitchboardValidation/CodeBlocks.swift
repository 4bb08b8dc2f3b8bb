import Foundation
import SwitchboardWire
import Synchronization
import Yams

/// Fenced code blocks (```` ```lang ```` or `~~~lang`) in a Markdown answer.
public enum CodeBlocks {
    public struct Block: Sendable, Equatable {
        /// The info string's first word, lowercased (`python`, `json`); empty when none.
        public var language: String
        public var code: String
        /// 1-based, in order of appearance.
        public var number: Int
    }

    public static func extract(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var fence: (marker: String, language: String, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if var open = fence {
                if trimmed.hasPrefix(open.marker)
                    && trimmed.dropFirst(open.marker.count).allSatisfy({ $0 == " " || $0 == "\r" })
                {
                    blocks.append(
                        Block(
                            language: open.language,
                            code: open.lines.joined(separator: "\n"),
                            number: blocks.count + 1
                        )
                    )
                    fence = nil
                } else {
                    open.lines.append(line)
                    fence = open
                }
            } else if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                let character = trimmed.first!
                let marker = String(trimmed.prefix { $0 == character })
                guard marker.count >= 3 else { continue }
                let info = trimmed.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
                let language = info.split(separator: " ").first.map { $0.lowercased() } ?? ""
                fence = (marker, language, [])
            }
        }
        return blocks
    }
}

/// Parse-checks the code blocks of an answer: JSON and YAML built in, any other language through a
/// configured command (run without a shell, with a timeout, its output bounded). Blocks in
/// languages with no check are passed over.
public struct CodeBlockValidator: OutputValidator {
    public let name = "code"
    /// Language → the command's arguments; `{file}` is replaced by a file holding the block.
    public let commands: [String: [String]]
    public let timeout: Duration

    public init(commands: [String: [String]] = [:], timeout: Duration = .seconds(5)) {
        self.commands = commands
        self.timeout = timeout
    }

    public func violations(in output: ModelOutput, context: ValidationContext) async -> [Violation] {
        var found: [Violation] = []
        for block in CodeBlocks.extract(output.text) {
            let location = "block \(block.number)"
            switch block.language {
            case "json":
                do {
                    _ = try JSONValue.parse(Array(block.code.utf8))
                } catch {
                    found.append(Violation(validator: "code:json", location: location, message: "\(error)"))
                }
            case "yaml", "yml":
                do {
                    let parser = try Parser(yaml: block.code)
                    while try parser.nextRoot() != nil {}
                } catch {
                    let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
                    found.append(Violation(validator: "code:yaml", location: location, message: reason))
                }
            default:
                guard let command = commands[block.language] else { continue }
                if let problem = await CommandCheck.run(
                    command,
                    code: block.code,
                    language: block.language,
                    timeout: timeout
                ) {
                    found.append(Violation(validator: "code:\(block.language)", location: location, message: problem))
                }
            }
        }
        return found
    }
}

/// One run of a configured checker on a code block.
enum CommandCheck {
    static let outputLimit = 2_048

    /// `nil` when the command accepted the code; otherwise what it said (bounded), or why it
    /// could not run.
    static func run(_ command: [String], code: String, language: String, timeout: Duration) async -> String? {
        guard let executable = command.first else { return "the check for \(language) has no command" }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-check-\(UUID().uuidString)"
        )
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            return "could not prepare the check: \(error.localizedDescription)"
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("block.\(fileExtension(language))")
        do {
            try Data(code.utf8).write(to: file)
        } catch {
            return "could not prepare the check: \(error.localizedDescription)"
        }
        let arguments = command.map { $0.replacingOccurrences(of: "{file}", with: file.path) }
        // One pipe for both streams; both ends close on exec (the child gets copies as 1 and 2).
        guard let pipe = ChildProcess.pipe() else { return "could not prepare the check: no pipe" }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                arguments,
                directory: directory.path,
                output: .descriptor(pipe.write),
                errors: .descriptor(pipe.write)
            )
        } catch {
            close(pipe.read)
            close(pipe.write)
            return "the \(language) check could not start: \(executable) was not found or cannot run"
        }
        close(pipe.write)
        let collected = BoundedOutput(limit: outputLimit)
        let drained = collected.drain(pipe.read)
        let killer = Task { () -> Bool in
            do { try await Task.sleep(for: timeout) } catch { return false }
            child.signal(SIGKILL, group: true)
            return true
        }
        let status = await child.wait()
        killer.cancel()
        let timedOut = await killer.value
        await drained.value
        let said = collected.text.replacingOccurrences(of: file.path, with: "block").trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        if timedOut {
            return "the \(language) check (\(executable)) did not finish within \(timeout); counted as failed"
        }
        if status == 0 { return nil }
        return said.isEmpty ? "the \(language) check failed (exit \(status))" : said
    }

    static func fileExtension(_ language: String) -> String {
        switch language {
        case "python", "py": "py"
        case "javascript", "js": "js"
        case "typescript", "ts": "ts"
        case "bash", "sh", "shell": "sh"
        case "ruby", "rb": "rb"
        case "swift": "swift"
        case "sql": "sql"
        default: language.isEmpty ? "txt" : language
        }
    }
}

/// A process's output up to a limit; the rest is read and dropped so the process never blocks.
final class BoundedOutput: Sendable {
    private let state = Mutex<(bytes: [UInt8], dropped: Bool)>(([], false))
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func append(_ data: Data) {
        state.withLock { state in
            let room = limit - state.bytes.count
            if data.count <= room {
                state.bytes += data
            } else {
                state.bytes += data.prefix(max(0, room))
                state.dropped = true
            }
        }
    }

    /// Reads `descriptor` to its end on a thread of its own, then closes it.
    func drain(_ descriptor: Int32) -> Task<Void, Never> {
        let (ended, continuation) = AsyncStream.makeStream(of: Void.self)
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    self.append(Data(buffer[0..<count]))
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            close(descriptor)
            continuation.finish()
        }
        return Task { for await _ in ended {} }
    }

    var text: String {
        state.withLock { String(decoding: $0.bytes, as: UTF8.self) + ($0.dropped ? " …" : "") }
    }
}
