import Foundation
import SwitchboardTesting

/// The `switchboard` executable built alongside the tests (`$SWITCHBOARD_BIN` overrides).
let switchboardBinary: String = {
    if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_BIN"] { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/switchboard").path
}()

struct Finished: Sendable {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs `switchboard` with `arguments` to completion, with `environment` added to this process's.
func switchboard(_ arguments: [String], environment: [String: String] = [:]) async throws -> Finished {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: switchboardBinary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    // Read on threads of their own: a blocking read on the concurrency pool's few threads would
    // starve servers that the test runs in-process (the simulator).
    let outputData = readToEnd(output.fileHandleForReading)
    let errorData = readToEnd(errors.fileHandleForReading)
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    return Finished(
        status: process.terminationStatus,
        output: String(decoding: await outputData.value, as: UTF8.self),
        errors: String(decoding: await errorData.value, as: UTF8.self)
    )
}

/// Everything `handle` delivers until its end, read on a dedicated thread.
private func readToEnd(_ handle: FileHandle) -> Task<Data, Never> {
    let (stream, continuation) = AsyncStream.makeStream(of: Data.self)
    Thread.detachNewThread {
        continuation.yield(handle.readDataToEndOfFile())
        continuation.finish()
    }
    return Task {
        var data = Data()
        for await chunk in stream { data.append(chunk) }
        return data
    }
}

/// Starts `switchboard` in the background with its standard output going to `outputFile`.
func startSwitchboard(_ arguments: [String], outputFile: String) throws -> Process {
    _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: switchboardBinary)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sbcli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
