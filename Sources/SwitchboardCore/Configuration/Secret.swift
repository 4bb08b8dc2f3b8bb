import Foundation
import SwitchboardWire

#if canImport(Glibc)
import Glibc
#endif

/// A credential from the environment or a key file. It prints as its fingerprint (`sk-…a1b2`)
/// and where it came from, never as itself.
public struct Secret: Sendable, Equatable, CustomStringConvertible {
    /// The key. Use it only to authenticate; never log, store or show it.
    public let value: String
    /// Where it came from: `$OPENAI_API_KEY`, `file:/etc/switchboard/anthropic.key`, `literal`.
    public let source: String

    public init(value: String, source: String) {
        self.value = value
        self.source = source
    }

    /// `sk-…a1b2`: what logs, the journal and the console show.
    public var fingerprint: String { SecretScanner.fingerprint(value) }

    public var description: String { "\(fingerprint) (from \(source))" }

    /// A key file's contents (trimmed), refusing files that group or others can read.
    /// - Throws: a message saying what is wrong and how to fix it.
    public static func fromFile(_ path: String) throws(SecretError) -> Secret {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("the key file \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o077 != 0 {
            throw SecretError(
                "the key file \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 600 \(path)` so only its owner can read it"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw SecretError("the key file \(path) cannot be read as text")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw SecretError("the key file \(path) is empty") }
        return Secret(value: value, source: "file:\(path)")
    }

    /// A URL with its password, if any, replaced by `****`: `redis://:****@host:6379/0`.
    public static func maskingPassword(inURL url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else {
            return url
        }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return url[..<url.index(after: colon)] + "****" + url[at...]
    }

    /// Resolves a configuration value: `${NAME}` (environment), `file:PATH` (key file), or a
    /// simulator key (`sk-sim-…`) written as is. Any other literal is refused: keys do not belong
    /// in configuration files.
    public static func resolve(
        _ text: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretError) -> Secret {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("${"), trimmed.hasSuffix("}") {
            let name = String(trimmed.dropFirst(2).dropLast())
            guard let value = environment[name], !value.isEmpty else {
                throw SecretError(
                    "the environment variable \(name) is not set; export it, or reference a key file as file:PATH"
                )
            }
            return Secret(value: value, source: "$\(name)")
        }
        if trimmed.hasPrefix("file:") { return try fromFile(String(trimmed.dropFirst(5))) }
        if trimmed.hasPrefix("sk-sim-") { return Secret(value: trimmed, source: "literal simulator key") }
        throw SecretError(
            "keys are never written in the configuration file; put it in an environment variable and write ${NAME}, "
                + "or in a file readable only by you and write file:PATH"
        )
    }
}

/// A secret reference that cannot be resolved.
public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
