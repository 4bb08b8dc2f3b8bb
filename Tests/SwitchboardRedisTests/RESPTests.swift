import NIOCore
import Testing

@testable import SwitchboardRedis

struct RESPTests {
    func parse(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        return try RESPDecoder.parse(&buffer, depth: 0)
    }

    @Test func everyReplyTypeIsRead() throws {
        #expect(try parse("+OK\r\n") == .simpleString("OK"))
        #expect(try parse("-ERR wrong\r\n") == .error("ERR wrong"))
        #expect(try parse(":-42\r\n") == .integer(-42))
        #expect(try parse("$5\r\nhe\r\no\r\n") == .bulkString(Array("he\r\no".utf8)), "a bulk string may hold CRLF")
        #expect(try parse("$-1\r\n") == .bulkString(nil))
        #expect(try parse("*-1\r\n") == .array(nil))
        #expect(
            try parse("*3\r\n:1\r\n*1\r\n$0\r\n\r\n+x\r\n")
                == .array([.integer(1), .array([.bulkString([])]), .simpleString("x")])
        )
    }

    @Test func aReplyCutAnywhereWaitsForTheRestAndConsumesNothing() throws {
        let whole = "*2\r\n$3\r\nabc\r\n:7\r\n"
        for cut in 0..<whole.utf8.count {
            var buffer = ByteBuffer(bytes: Array(whole.utf8.prefix(cut)))
            #expect(try RESPDecoder.parse(&buffer, depth: 0) == nil, "cut at \(cut)")
            #expect(buffer.readerIndex == 0)
        }
        var buffer = ByteBuffer(string: whole + "+next\r\n")
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == .array([.bulkString(Array("abc".utf8)), .integer(7)]))
        #expect(try RESPDecoder.parse(&buffer, depth: 0) == .simpleString("next"))
    }

    @Test(arguments: ["?what\r\n", "$-5\r\n", "$99999999999\r\n", ":12x\r\n", "$3\r\nabcXY", "+OK\rX"])
    func garbageIsRefused(text: String) {
        #expect(throws: RESPError.self) { try parse(text) }
    }

    @Test func nestingPastTheDepthIsRefused() {
        let deep = String(repeating: "*1\r\n", count: RESPDecoder.maxDepth + 2) + ":1\r\n"
        #expect(throws: RESPError.self) { try parse(deep) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.write(["SET", "ключ", .bytes([0, 13, 10]), 42], into: &buffer)
        #expect(
            buffer.readString(length: buffer.readableBytes)
                == "*4\r\n$3\r\nSET\r\n$8\r\nключ\r\n$3\r\n\0\r\n\r\n$2\r\n42\r\n"
        )
    }

    @Test func urlsCarryPasswordDatabaseAndHideThePassword() throws {
        let full = try RedisURL("redis://ops:s3cr%40t@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 3)
        #expect(full.user == "ops" && full.password == "s3cr@t")
        #expect(full.description == "redis://ops:•••@cache.internal:6380/3")
        let passwordOnly = try RedisURL("redis://:hunter2@127.0.0.1")
        #expect(passwordOnly.user == nil && passwordOnly.password == "hunter2" && passwordOnly.port == 6379)
        #expect(!passwordOnly.description.contains("hunter2"))
        for bad in ["rediss://host", "http://host", "redis://host/x", "redis://:6379"] {
            #expect(throws: RedisURLError.self, "\(bad)") { try RedisURL(bad) }
        }
    }
}
