import Foundation

/// `redis://[[user]:password@]host[:port][/database]`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        user: String? = nil,
        password: String? = nil,
        database: Int = 0
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// - Throws: ``RedisURLError`` saying what is wrong, never echoing a password.
    public init(_ text: String) throws(RedisURLError) {
        guard let components = URLComponents(string: text), components.scheme == "redis" else {
            throw RedisURLError(
                "state.redis_url must look like redis://[:password@]host[:port][/database]; `rediss` (TLS) and other schemes are not supported"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisURLError("state.redis_url names no host: write redis://HOST:PORT/DATABASE")
        }
        self.host = host
        self.port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw RedisURLError("state.redis_url's port \(port) is out of range") }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        self.password = components.password.flatMap { $0.removingPercentEncoding ?? $0 }
        // `redis://secret@host` (no colon) is a password alone, as redis-cli reads it.
        if password == nil, let user {
            self.password = user
            self.user = nil
        } else {
            self.user = user
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.isEmpty {
            database = 0
        } else {
            guard let database = Int(path), database >= 0 else {
                throw RedisURLError(
                    "state.redis_url's database must be a number after the slash, as in redis://host:6379/0"
                )
            }
            self.database = database
        }
    }

    /// The URL with its password hidden: what logs and errors show.
    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):•••@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}

public struct RedisURLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
