import Foundation
import SwitchboardTesting
import SwitchboardWire

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
    // Files, not pipes: nothing to read on the concurrency pool's few threads while it runs (a
    // blocking read there would starve servers the test runs in-process, such as the simulator).
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let child = try ChildProcess.spawn(
        [switchboardBinary] + arguments,
        environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
        output: .file("\(directory)/out"),
        errors: .file("\(directory)/err")
    )
    let status = await child.wait()
    return Finished(
        status: status,
        output: (try? String(contentsOfFile: "\(directory)/out", encoding: .utf8)) ?? "",
        errors: (try? String(contentsOfFile: "\(directory)/err", encoding: .utf8)) ?? ""
    )
}

/// Starts `switchboard` in the background with its standard output going to `outputFile`.
func startSwitchboard(_ arguments: [String], outputFile: String) throws -> ChildProcess {
    try ChildProcess.spawn([switchboardBinary] + arguments, output: .file(outputFile), errors: .null)
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sbcli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
