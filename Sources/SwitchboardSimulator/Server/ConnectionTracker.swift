import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sent down a connection's pipeline before the simulator closes it on purpose (`reset`, the end
/// of a `stall`), so that the close is not counted as the client going away.
struct ServerInitiatedClose: Sendable {}

/// Counts connections and notices clients that leave with a request unanswered, so
/// `GET /sim/stats` can show what reached the provider and what was cancelled.
///
/// Hummingbird allows remote half-closure, so a client that goes away arrives as `inputClosed`,
/// not as a closed channel. With a request still unanswered that means the client has given up:
/// the connection is closed, as a provider stops generating when its caller leaves, which ends a
/// stalled or streaming handler at once.
final class ConnectionTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let stats: SimulatorStats
    /// One entry per request on this connection not yet answered, in order (HTTP/1.1 answers in
    /// order): whether it is a provider request rather than a `/sim/` or `/healthz` call.
    private var unanswered: [Bool] = []
    private var closingOnPurpose = false
    private var cancellationCounted = false

    init(stats: SimulatorStats) {
        self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        stats.update {
            $0.openConnections += 1
            $0.totalConnections += 1
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let abandoned = unanswered.filter { $0 }.count
        let onPurpose = closingOnPurpose
        stats.update {
            $0.openConnections -= 1
            $0.inFlight -= abandoned
            if abandoned > 0, !onPurpose, !cancellationCounted { $0.cancelledConnections += 1 }
        }
        unanswered.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            let path = head.path ?? ""
            let isProviderRequest = path.hasPrefix("/v1/")
            unanswered.append(isProviderRequest)
            if isProviderRequest { stats.update { $0.inFlight += 1 } }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, unanswered.contains(true), !closingOnPurpose {
            cancellationCounted = true
            stats.update { $0.cancelledConnections += 1 }
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), !unanswered.isEmpty, unanswered.removeFirst() {
            stats.update { $0.inFlight -= 1 }
        }
        context.write(data, promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is ServerInitiatedClose {
            closingOnPurpose = true
            promise?.succeed()
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }
}
