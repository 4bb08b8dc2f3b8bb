import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn` and reaped with a blocking `waitpid` on a thread of
/// its own.
///
/// Foundation's `Process` on Linux can miss a child's exit when several processes are started
/// from different threads at once (the child stays a zombie and `waitUntilExit` spins for ever);
/// this never leaves the waiting to anyone else, and never blocks the concurrency pool.
public struct ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// This process's own.
        case inherit
        /// A file, created or truncated.
        case file(String)
        /// An open descriptor of this process (a pipe's end).
        case descriptor(Int32)
    }

    public let pid: pid_t

    /// Starts `arguments[0]` (looked up in `PATH` unless it contains a `/`).
    /// - Parameter environment: the child's whole environment; `nil` inherits this process's.
    /// - Throws: ``ChildProcessError`` when it cannot start.
    public static func spawn(
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: Stream = .null,
        output: Stream = .inherit,
        errors: Stream = .inherit
    ) throws(ChildProcessError) -> ChildProcess {
        guard let executable = arguments.first else { throw ChildProcessError(command: "", code: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (stream, target) in [(input, Int32(0)), (output, 1), (errors, 2)] {
            switch stream {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .descriptor(let descriptor):
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        if let directory {
            guard let addChdir = addChdir else { throw ChildProcessError(command: executable, code: ENOSYS) }
            _ = addChdir(&actions, directory)
        }
        // The child starts in a process group of its own, so a signal sent to the test run's group
        // (Ctrl-C) is not delivered twice and `signal(_:group:)` can stop what it started.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // It starts with no signal blocked and every signal at its default action, whatever the
        // spawning thread had: a thread of this process may block or ignore signals (SIGTERM
        // blocked there would leave a server deaf to it, SIGPIPE ignored changes how tools end).
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )
        posix_spawnattr_setpgroup(&attributes, 0)

        let environment = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                executable.contains("/")
                    ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
                    : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard status == 0 else { throw ChildProcessError(command: executable, code: status) }
        return ChildProcess(pid: pid)
    }

    /// Waits for the child to end; its exit status, or 128 + the signal that ended it.
    public func wait() async -> Int32 {
        let pid = pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 {
                    guard errno == EINTR else {
                        continuation.resume(returning: -1)
                        return
                    }
                }
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    /// Sends `signal` to the child (and with `group`, to every process it started).
    public func signal(_ signal: Int32, group: Bool = false) {
        kill(group ? -pid : pid, signal)
    }

    /// A pipe whose ends close on exec (a child gets the end it is given as a copy): `nil` when
    /// the process is out of descriptors.
    public static func pipe() -> (read: Int32, write: Int32)? {
        var ends: [Int32] = [0, 0]
        guard Glibc.pipe(&ends) == 0 else { return nil }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// Runs `arguments` to its end with its output in a file; its status and that output.
    public static func run(
        _ arguments: [String],
        environment: [String: String]? = nil
    ) async throws(ChildProcessError) -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-out-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let child = try spawn(arguments, environment: environment, output: .file(file), errors: .null)
        let status = await child.wait()
        return (status, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }
}

/// A child process could not start.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var command: String
    public var code: Int32

    public var description: String {
        "could not start \(command): \(String(cString: strerror(code)))"
    }
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later), which its Swift module does not
/// export.
private let addChdir:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            return nil
        }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self
        )
    }()

/// `strings` as a NULL-terminated C array for the length of `body`.
private func withCStrings<Result>(
    _ strings: [String],
    _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
