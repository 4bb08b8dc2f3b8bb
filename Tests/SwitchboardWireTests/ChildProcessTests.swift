import Foundation
import SwitchboardWire
import Testing

struct ChildProcessTests {
    @Test func aChildStartedFromAThreadThatBlocksSIGTERMStillHearsIt() async throws {
        // The spawning thread blocks and ignores signals, as server threads may; the child must
        // start with neither, or a server it starts cannot be stopped.
        let spawned = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<ChildProcess, any Error>) in
            Thread.detachNewThread {
                var blocked = sigset_t()
                sigemptyset(&blocked)
                sigaddset(&blocked, SIGTERM)
                pthread_sigmask(SIG_BLOCK, &blocked, nil)
                let previous = signal(SIGHUP, SIG_IGN)
                defer { signal(SIGHUP, previous) }
                continuation.resume(with: Result { try ChildProcess.spawn(["sleep", "60"]) })
            }
        }
        // The standard signals (1-31); glibc keeps real-time ones of its own above them.
        let masks = try String(contentsOfFile: "/proc/\(spawned.pid)/status", encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("SigBlk:") || $0.hasPrefix("SigIgn:") }
        let standard = masks.compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }.map {
            $0 & 0x7FFF_FFFF
        }
        #expect(standard == [0, 0], "\(masks)")
        spawned.signal(SIGTERM)
        #expect(await spawned.wait() == 128 + SIGTERM)
    }

    @Test func runGivesTheStatusAndOutput() async throws {
        let result = try await ChildProcess.run(["sh", "-c", "echo hello; exit 3"])
        #expect(result.status == 3)
        #expect(result.output == "hello\n")
    }
}
