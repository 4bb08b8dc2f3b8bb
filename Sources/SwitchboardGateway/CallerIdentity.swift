import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardWire
import Synchronization
import W3CTraceContext

extension Gateway {
    /// Who is calling, from the request's headers: the virtual key (`Authorization: Bearer` or
    /// `x-api-key`, on both endpoints) gives the user, tenant, limits and budget;
    /// `x-switchboard-user` names the end user for keys allowed to; `x-switchboard-session` and
    /// `x-switchboard-step` place the call in a multi-step task; `x-switchboard-cache-control`
    /// steers the exact cache; `traceparent` is continued (or a trace started), and the call's own
    /// span returned to send back.
    func identify(_ request: Request, remoteAddress: SocketAddress?, requestID: String) throws -> (
        call: CallContext, traceparent: String
    ) {
        let headers = request.headers
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }

        var call = CallContext(requestID: requestID, origin: .gateway)
        call.clientAddress = remoteAddress?.ipAddress
        let presented = Self.presentedKey(authorization: header("authorization"), apiKey: header("x-api-key"))
        var userHeaderAllowed = configuration.trustedUserHeader
        if let presented {
            guard let key = try authenticate(presented) else {
                throw SwitchboardError(
                    .unauthenticated,
                    "the key is not a Switchboard key, or it was revoked; ask an operator for one (`switchboard keys create --user NAME`)"
                )
            }
            call.use(key, configuration: pipeline.configuration)
            userHeaderAllowed = userHeaderAllowed || key.allowUserHeader
        } else if !configuration.allowAnonymous {
            throw SwitchboardError(
                .unauthenticated,
                "no key: send your Switchboard key as `Authorization: Bearer sk-sb-…` or `x-api-key`; an operator makes one with `switchboard keys create --user NAME`"
            )
        }
        if let user = header("x-switchboard-user") {
            guard userHeaderAllowed else {
                throw SwitchboardError(
                    .permissionDenied,
                    "this key may not name end users with x-switchboard-user; use a key created with --allow-user-header, or drop the header"
                )
            }
            call.userID = try Self.identifier(user, header: "x-switchboard-user")
        }
        if let session = header("x-switchboard-session") {
            call.sessionID = try Self.identifier(session, header: "x-switchboard-session")
        }
        if let step = header("x-switchboard-step") {
            guard let number = Int(step.trimmingCharacters(in: .whitespaces)), number >= 0 else {
                throw SwitchboardError(
                    .badRequest,
                    "x-switchboard-step must be a whole number ≥ 0, not '\(step.prefix(40))'",
                    param: "x-switchboard-step"
                )
            }
            call.step = number
        }
        if let control = header("x-switchboard-cache-control") {
            guard let parsed = CacheControl(header: control) else {
                throw SwitchboardError(
                    .badRequest,
                    "x-switchboard-cache-control must be no-store, no-cache or ttl=SECONDS (or ttl=10m), not '\(control.prefix(40))'",
                    param: "x-switchboard-cache-control"
                )
            }
            call.cacheControl = parsed
        }
        let trace = Self.trace(continuing: header("traceparent"), state: header("tracestate"))
        call.traceID = trace.traceID.description
        call.spanID = trace.spanID.description
        return (call, trace.traceParentHeaderValue)
    }

    /// The key from `Authorization: Bearer KEY` (OpenAI SDK) or `x-api-key: KEY` (Anthropic SDK).
    static func presentedKey(authorization: String?, apiKey: String?) -> String? {
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let key = String(parts[1].trimmingHTTPSpace)
                if !key.isEmpty { return key }
            }
        }
        if let apiKey = apiKey.map({ String($0.trimmingHTTPSpace) }), !apiKey.isEmpty { return apiKey }
        return nil
    }

    /// The key's record, from the cache or the key table.
    func authenticate(_ secret: String) throws -> VirtualKey? {
        if let cached = keyCache.lookup(secret) { return cached }
        guard let keys else { return nil }
        let key: VirtualKey?
        do {
            key = try keys.authenticate(secret)
        } catch {
            throw SwitchboardError(
                .upstreamUnavailable,
                "the gateway cannot read its key table now (\(error.message)); retry shortly",
                retryAfter: .seconds(1)
            )
        }
        keyCache.store(secret, key)
        return key
    }

    /// A user, session or similar id from a header: 1–256 visible characters.
    static func identifier(_ value: String, header: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard (1...256).contains(trimmed.count),
            trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
            throw SwitchboardError(
                .badRequest,
                "\(header) must be 1 to 256 visible characters",
                param: header
            )
        }
        return trimmed
    }

    /// The caller's trace continued with a new span for this call, or a new sampled trace.
    static func trace(continuing traceparent: String?, state: String?) -> TraceContext {
        if let traceparent,
            let parent = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: state)
        {
            return TraceContext(traceID: parent.traceID, spanID: .random(), flags: parent.flags, state: parent.state)
        }
        return TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState())
    }
}

/// Keys recently checked, so that a request does not read the key table each time. Refusals are
/// remembered too, so a flood of wrong keys cannot keep the table busy. Bounded: cleared when full.
final class KeyCache: Sendable {
    private struct Entry {
        var key: VirtualKey?
        var expires: ContinuousClock.Instant
    }

    private let ttl: Duration
    private let entries = Mutex<[String: Entry]>([:])
    private static let capacity = 10_000

    init(ttl: Duration) {
        self.ttl = ttl
    }

    /// `nil` when unknown or expired; `.some(nil)` for a remembered refusal.
    func lookup(_ secret: String) -> VirtualKey?? {
        guard ttl > .zero else { return nil }
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[secret], entry.expires > now else { return nil }
            return .some(entry.key)
        }
    }

    func store(_ secret: String, _ key: VirtualKey?) {
        guard ttl > .zero else { return }
        let expires = ContinuousClock.now + ttl
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[secret] = Entry(key: key, expires: expires)
        }
    }
}
