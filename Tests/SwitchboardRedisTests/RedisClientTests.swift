import Foundation
import SwitchboardRedis
import SwitchboardTesting
import Testing

/// The client against a real `redis-server`.
struct RedisClientTests {
    func client(_ url: String? = nil, logger: RecordingLogHandler.Recorder? = nil) async throws -> RedisClient {
        let url = if let url { url } else { try await RedisServer.sharedURL() }
        return RedisClient(
            url: try RedisURL(url),
            // Generous: other suites keep both cores busy (the timeout test sets its own).
            connectTimeout: .seconds(10),
            commandTimeout: .seconds(10),
            reconnectBackoff: .milliseconds(10),
            logger: logger?.logger() ?? quietLogger
        )
    }

    @Test func commandsRoundTripAndErrorRepliesAreThrown() async throws {
        let redis = try await client()
        let key = RedisServer.uniquePrefix() + "greeting"
        #expect(try await redis.send("SET", .text(key), .bytes([0, 255, 13, 10])).string == "OK")
        #expect(try await redis.send("GET", .text(key)) == .bulkString([0, 255, 13, 10]))
        #expect(try await redis.send("GET", .text(key + ":missing")).isNull)
        await #expect(throws: RedisError.server("ERR value is not an integer or out of range")) {
            try await redis.send("INCR", .text(key))
        }
        // The connection is still in step after an error reply.
        #expect(try await redis.send("EXISTS", .text(key)).int == 1)
        await redis.close()
    }

    @Test func aThousandConcurrentCommandsArePipelinedAndEachGetsItsOwnReply() async throws {
        let redis = try await client()
        let key = RedisServer.uniquePrefix() + "counter"
        let replies = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 { group.addTask { try await redis.send("INCR", .text(key)).int ?? -1 } }
            var replies: [Int] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
        #expect(Set(replies) == Set(1...1_000), "every INCR saw its own value")
        await redis.close()
    }

    @Test func scriptsAreLoadedOnceAndAgainAfterTheServerForgetsThem() async throws {
        let redis = try await client()
        let script = RedisScript("return tonumber(ARGV[1]) * 2 + #KEYS")
        #expect(try await redis.run(script, keys: ["a", "b"], arguments: ["20"]).int == 42)
        try await redis.send("SCRIPT", "FLUSH")
        #expect(try await redis.run(script, keys: [], arguments: ["5"]).int == 10)
        await redis.close()
    }

    @Test func aPasswordAndADatabaseAreUsedAndAWrongPasswordIsNeverEchoed() async throws {
        let server = try await RedisServer.start(password: "correct-horse")
        defer { Task { await server.stop() } }
        let redis = try await client(server.url.replacingOccurrences(of: "/0", with: "/2"))
        try await redis.send("SET", "where", "two")
        #expect(try await redis.send("GET", "where").string == "two")
        let zero = try await client(server.url)
        #expect(try await zero.send("GET", "where").isNull, "database 0 is another keyspace")
        let wrong = try await client("redis://:battery-staple@127.0.0.1:\(server.port)/0")
        do {
            try await wrong.send("PING")
            Issue.record("a wrong password was accepted")
        } catch {
            #expect("\(error)".contains("WRONGPASS") || "\(error)".contains("invalid"))
            #expect(!"\(error)".contains("battery-staple"))
        }
        for client in [redis, zero, wrong] { await client.close() }
    }

    @Test func aCommandWithoutAReplyInTimeFailsAndTheNextOneReconnects() async throws {
        let server = try await RedisServer.start()
        let patient = try await client(server.url)
        let hasty = RedisClient(
            url: try RedisURL(server.url),
            connections: 1,
            commandTimeout: .milliseconds(100),
            logger: quietLogger
        )
        try await patient.send("SET", "k", "v")
        // Connected before the pause (a connection under way would be another kind of failure).
        try await poll("the hasty client to connect") { (try? await hasty.send("PING"))?.string == "PONG" }
        // The server answers no other client for 700 ms.
        try await patient.send("CLIENT", "PAUSE", "700", "ALL")
        await #expect(throws: RedisError.timedOut(command: "GET")) { try await hasty.send("GET", "k") }
        try await poll("the pause to end and the client to reconnect") {
            (try? await hasty.send("GET", "k"))?.string == "v"
        }
        for client in [patient, hasty] { await client.close() }
        await server.stop()
    }

    @Test func anOutageFailsFastIsLoggedOnceAndEndsWhenTheServerIsBack() async throws {
        let server = try await RedisServer.start()
        let log = RecordingLogHandler.Recorder()
        let redis = try await client(server.url, logger: log)
        try await redis.send("SET", "k", "v")
        await server.stop()
        var failures = 0
        for _ in 0..<50 {
            do {
                try await redis.send("GET", "k")
            } catch {
                #expect(error.isOutage)
                failures += 1
            }
        }
        #expect(failures == 50)
        #expect(redis.health.up == false && redis.health.outages == 1)
        #expect(log.all.filter { $0.contains("unreachable") }.count == 1, "one line per outage: \(log.all)")

        try await server.run()
        try await poll("the client to reconnect") { (try? await redis.send("PING"))?.string == "PONG" }
        #expect(redis.health.up && redis.health.outages == 1)
        #expect(log.all.contains { $0.contains("answers again") })
        #expect(try await redis.send("GET", "k").isNull, "the restarted server kept nothing")
        await redis.close()
        await server.stop()
    }
}
