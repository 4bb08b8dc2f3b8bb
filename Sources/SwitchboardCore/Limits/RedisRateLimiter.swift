import Foundation
import SwitchboardRedis
import Synchronization

/// Per-user limits decided inside Redis: the same GCRA as ``GCRA``, in a Lua script that reads
/// the server's `TIME`, so gateways on hosts with skewed clocks make the same decisions, and a
/// call's request and tokens are taken (or left) together atomically.
///
/// Decisions are batched: while one script runs, the decisions that arrive wait and go together
/// in the next (at most two scripts in flight), so under load one round trip and one script decide
/// many calls; alone, a decision goes at once.
public final class RedisRateLimiter: RateLimiting {
    let client: RedisClient
    let prefix: String

    private struct Pending {
        var key: String
        var arguments: [RedisArgument]
        var continuation: CheckedContinuation<ArraySlice<Int>, any Error>
    }

    private struct Batches {
        var waiting: [Pending] = []
        var inFlight = 0
    }

    private let batches = Mutex(Batches())
    static let maxInFlight = 2
    static let maxBatch = 512

    public init(client: RedisClient, prefix: String) {
        self.client = client
        self.prefix = prefix
    }

    /// KEYS: one per decision, each the subject's key holding `<requests TAT> <tokens TAT>`
    /// (microseconds on the server's clock; it expires when both have passed). ARGV: the period
    /// (µs), then rpm, tpm, tokens and shadow (1/0) for each key. Each decision is
    /// ``GCRA/take(_:limit:period:now:)`` for one request and then the tokens, taken together or
    /// not at all (unless shadow), in order, so two decisions for one subject see each other.
    /// Returns ten numbers per decision: {allowed, limit, remaining, reset µs, retry µs or -1}
    /// for the requests, then the same for the tokens.
    static let admitScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local period = tonumber(ARGV[1])
        local floor, max = math.floor, math.max
        local out = {}
        for i = 1, #KEYS do
          local a = 2 + (i - 1) * 4
          local rpm, tpm, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
          local shadow = ARGV[a + 3] == '1'
          local rtat, ttat = now, now
          local stored = redis.call('GET', KEYS[i])
          if stored then
            local space = string.find(stored, ' ', 1, true)
            rtat = max(tonumber(string.sub(stored, 1, space - 1)), now)
            ttat = max(tonumber(string.sub(stored, space + 1)), now)
          end
          local ri = period / max(rpm, 1)
          local rnext = rtat + ri
          local rok = rpm >= 1 and rnext - now <= period + 0.001
          local n = #out
          if rok then
            out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = 1, rpm, floor((period - (rnext - now)) / ri + 1e-9), rnext - now, -1
          else
            local retry = -1
            if rpm >= 1 then retry = rnext - now - period end
            out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = 0, rpm, floor((period - (rtat - now)) / ri + 1e-9), rtat - now, retry
          end
          local ti = period / max(tpm, 1)
          if not (rok or shadow) then cost = 0 end
          local tnext = ttat + ti * cost
          local tok = cost <= tpm and tnext - now <= period + 0.001
          if tok then
            out[n + 6], out[n + 7], out[n + 8], out[n + 9], out[n + 10] = 1, tpm, floor((period - (tnext - now)) / ti + 1e-9), tnext - now, -1
          else
            local retry = -1
            if cost <= tpm then retry = tnext - now - period end
            out[n + 6], out[n + 7], out[n + 8], out[n + 9], out[n + 10] = 0, tpm, floor((period - (ttat - now)) / ti + 1e-9), ttat - now, retry
          end
          local newR, newT = rtat, ttat
          if rok and (tok or shadow) then newR = rnext end
          if tok and (rok or shadow) then newT = tnext end
          local last = max(newR, newT)
          if last > now then
            redis.call('SET', KEYS[i], string.format('%.0f %.0f', newR, newT), 'PX', string.format('%.0f', math.ceil((last - now) / 1000) + 1000))
          elseif stored then
            redis.call('DEL', KEYS[i])
          end
        end
        return out
        """
    )

    /// KEYS: the subject's key. ARGV: tokens to give back (negative takes), tpm, period (µs).
    static let settleScript = RedisScript(
        """
        local stored = redis.call('GET', KEYS[1])
        if not stored then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local space = string.find(stored, ' ', 1, true)
        local rtat = tonumber(string.sub(stored, 1, space - 1))
        local ttat = tonumber(string.sub(stored, space + 1)) - tonumber(ARGV[3]) / math.max(tonumber(ARGV[2]), 1) * tonumber(ARGV[1])
        local last = math.max(rtat, ttat)
        if last > now then
          redis.call('SET', KEYS[1], string.format('%.0f %.0f', rtat, math.max(ttat, now)), 'PX', string.format('%.0f', math.ceil((last - now) / 1000) + 1000))
        else
          redis.call('DEL', KEYS[1])
        end
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
        let numbers = try await withCheckedThrowingContinuation { continuation in
            let start = batches.withLock { batches -> Bool in
                batches.waiting.append(
                    Pending(
                        key: "\(prefix)limit/\(subject)",
                        arguments: [
                            .text(String(limits.rpm)), .text(String(limits.tpm)), .text(String(tokens)),
                            shadow ? "1" : "0",
                        ],
                        continuation: continuation
                    )
                )
                guard batches.inFlight < Self.maxInFlight else { return false }
                batches.inFlight += 1
                return true
            }
            if start { Task { await self.sendBatches() } }
        }
        return LimitStatus(
            subjectKey: subject,
            requests: Self.decision(numbers.prefix(5)),
            tokens: Self.decision(numbers.suffix(5)),
            shadow: shadow
        )
    }

    /// Sends what waits, batch after batch, until nothing does.
    private func sendBatches() async {
        while true {
            let batch = batches.withLock { batches -> [Pending] in
                let batch = Array(batches.waiting.prefix(Self.maxBatch))
                batches.waiting.removeFirst(batch.count)
                if batch.isEmpty { batches.inFlight -= 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let reply = try await client.run(
                    Self.admitScript,
                    keys: batch.map(\.key),
                    arguments: [.text(String(Self.periodMicroseconds))] + batch.flatMap(\.arguments)
                )
                guard case .array(let values?) = reply, values.count == batch.count * 10 else {
                    throw RedisError.unexpectedReply("the limit script answered \(reply)")
                }
                let numbers = values.map { $0.int ?? 0 }
                for (index, pending) in batch.enumerated() {
                    pending.continuation.resume(returning: numbers[(index * 10)..<(index * 10 + 10)])
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
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
            keys: ["\(prefix)limit/\(subject)"],
            arguments: [
                .text(String(charged - used)), .text(String(limits.tpm)), .text(String(Self.periodMicroseconds)),
            ]
        )
    }

    private static func decision(_ numbers: ArraySlice<Int>) -> GCRA.Decision {
        let numbers = Array(numbers)
        return GCRA.Decision(
            allowed: numbers[0] == 1,
            limit: numbers[1],
            remaining: numbers[2],
            resetAfter: .microseconds(max(0, numbers[3])),
            retryAfter: numbers[4] < 0 ? nil : .microseconds(numbers[4])
        )
    }
}
