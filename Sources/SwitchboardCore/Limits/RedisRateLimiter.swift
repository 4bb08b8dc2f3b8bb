import Foundation
import SwitchboardRedis

/// Per-user limits decided inside Redis: the same GCRA as ``GCRA``, in one Lua script per call
/// that reads the server's `TIME`, so gateways on hosts with skewed clocks make the same
/// decisions, and the request and token limits are taken (or left) together atomically.
public final class RedisRateLimiter: RateLimiting {
    let client: RedisClient
    let prefix: String

    public init(client: RedisClient, prefix: String) {
        self.client = client
        self.prefix = prefix
    }

    /// The GCRA helpers shared by both scripts. Times are microseconds on the server's clock; a
    /// key holds its theoretical arrival time and expires when that has passed.
    private static let gcra = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local function store(key, tat)
          if tat > now then
            redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
          else
            redis.call('DEL', key)
          end
        end
        local function remaining(base, period, interval)
          return math.max(0, math.floor((period - (base - now)) / interval + 1e-9))
        end
        local function take(key, cost, limit, period, commit)
          local interval = period / math.max(limit, 1)
          local base = math.max(tonumber(redis.call('GET', key) or '0'), now)
          local nxt = base + interval * cost
          local ahead = nxt - now
          if cost > limit or ahead > period + 0.001 then
            local retry = -1
            if cost <= limit then retry = ahead - period end
            return {0, limit, remaining(base, period, interval), base - now, retry}
          end
          if commit then store(key, nxt) end
          return {1, limit, remaining(nxt, period, interval), ahead, -1}
        end
        local function adjust(key, cost, limit, period)
          local tat = redis.call('GET', key)
          if not tat then return end
          store(key, tonumber(tat) - period / math.max(limit, 1) * cost)
        end
        """

    /// KEYS: requests, tokens. ARGV: rpm, tpm, tokens, period (µs), shadow (1/0). Returns both
    /// decisions as {allowed, limit, remaining, reset µs, retry µs or -1}.
    static let admitScript = RedisScript(
        gcra + "\n" + """
            local rpm, tpm, tokens, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
            local shadow = ARGV[5] == '1'
            local requests = take(KEYS[1], 1, rpm, period, true)
            local tokenDecision
            if requests[1] == 1 or shadow then
              tokenDecision = take(KEYS[2], tokens, tpm, period, true)
            else
              tokenDecision = take(KEYS[2], 0, tpm, period, false)
            end
            if requests[1] == 1 and tokenDecision[1] == 0 and not shadow then
              adjust(KEYS[1], 1, rpm, period)
            end
            return {requests, tokenDecision}
            """
    )

    /// KEYS: tokens. ARGV: units to give back (negative takes), tpm, period (µs).
    static let settleScript = RedisScript(
        gcra + "\n" + """
            adjust(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
            return 1
            """
    )

    static var periodMicroseconds: Int { Int(RateLimiter.period.components.seconds) * 1_000_000 }

    public func admit(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        tokens: Int,
        shadow: Bool,
        now: Date
    ) async throws -> LimitStatus {
        let reply = try await client.run(
            Self.admitScript,
            keys: ["\(prefix)limit/\(subject)/requests", "\(prefix)limit/\(subject)/tokens"],
            arguments: [
                .text(String(limits.rpm)), .text(String(limits.tpm)), .text(String(tokens)),
                .text(String(Self.periodMicroseconds)), shadow ? "1" : "0",
            ]
        )
        guard case .array(let decisions?) = reply, decisions.count == 2,
            let requests = Self.decision(decisions[0]), let tokenDecision = Self.decision(decisions[1])
        else {
            throw RedisError.unexpectedReply("the limit script answered \(reply)")
        }
        return LimitStatus(
            subject: subject.replacingOccurrences(of: ":", with: " "),
            requests: requests,
            tokens: tokenDecision,
            shadow: shadow
        )
    }

    public func settle(
        subject: String,
        limits: SwitchboardConfiguration.Limits.UserLimits,
        charged: Int,
        used: Int,
        now: Date
    ) async throws {
        guard charged != used else { return }
        _ = try await client.run(
            Self.settleScript,
            keys: ["\(prefix)limit/\(subject)/tokens"],
            arguments: [
                .text(String(charged - used)), .text(String(limits.tpm)), .text(String(Self.periodMicroseconds)),
            ]
        )
    }

    private static func decision(_ value: RESPValue) -> GCRA.Decision? {
        guard case .array(let fields?) = value, fields.count == 5 else { return nil }
        let numbers = fields.compactMap(\.int)
        guard numbers.count == 5 else { return nil }
        return GCRA.Decision(
            allowed: numbers[0] == 1,
            limit: numbers[1],
            remaining: numbers[2],
            resetAfter: .microseconds(max(0, numbers[3])),
            retryAfter: numbers[4] < 0 ? nil : .microseconds(numbers[4])
        )
    }
}
