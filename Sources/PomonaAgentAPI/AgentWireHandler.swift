import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers osquery's requests straight from the decrypted bytes, in front of the HTTP server.
///
/// Why: an idle `distributed/read` or a `config` is answered from memory in microseconds, so
/// what a check-in cost was almost all HTTP machinery: the HTTP/1 parser and its header
/// collections, the conversion to HTTPTypes, Hummingbird's two thread hops, async sequences and
/// router, and a response encoded in two TLS records. Here a request of the one shape osqueryd
/// sends (``AgentWireRequest``) to one of the ``AgentEndpointTable``'s paths is answered with one
/// pre-encoded buffer: `.immediate` endpoints on the event loop that read it; `.suspending` ones
/// (enroll, distributed/write, carves) in a task, and `/log` when the spool has synced it, with
/// the answer written back on the loop.
///
/// The first request that is anything else (another path or method, chunked, `Connection:
/// close`, a head that is not strictly well-formed) hands the connection over for good: its
/// bytes and everything after go unchanged to Hummingbird behind this handler. This only
/// happens while no answer of ours is outstanding, so responses always leave in request order.
/// Hummingbird's handlers are added only then (``Handover``): osqueryd's connections never need
/// them, and adding them to every connection cost 7 KB each (an idle TLS connection measured 34 KB with
/// them from the start, 27 KB without), with about three connections per host.
/// While a task answers, the channel stops reading (back-pressure for a client that pipelines).
///
/// A request must arrive within its ``RequestDeadlines`` once its first byte is here (a
/// ``RequestClock`` decides, a timer is armed only while a request is incomplete), and a body
/// is charged to the shared ``BodyBudget`` as it is buffered unless a NodeKey header
/// authenticates it; over the budget the request is answered `unavailable` (osquery retries).
///
/// A connection that sends nothing for ``AgentWireChannel/idleTimeout`` is closed (an
/// `IdleStateHandler` in front reports it), unless an answer of ours is outstanding. Every
/// connection holds TLS and channel state (27 KB idle, about 35 KB under load) and osqueryd
/// keeps one per thread, so connections of laptops that went to sleep or of clients that stall
/// mid-request would otherwise pile up until TCP keepalive (two hours) notices. osqueryd
/// reconnects and resends transparently when it finds its idle connection closed (spec §6.4).
final class AgentWireHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode {
        /// Reading requests to answer here.
        case agent
        /// A `.suspending` endpoint's task is running; bytes wait in `unread`.
        case answering
        /// Discarding the rest of a body already refused as too large.
        case skipping(remaining: Int)
        /// The HTTP server's handlers are being added; bytes wait in `unread`.
        case handingOver
        /// Everything goes to the HTTP server behind.
        case handedOver
    }

    /// Puts the HTTP server behind this handler, when a connection turns out to need it.
    struct Handover {
        /// Adds the HTTP server's handlers after this one; bytes are passed on once it completes.
        var setUp: (any Channel) -> EventLoopFuture<Void>
        /// Called once when the connection ends without having been handed over.
        var abandon: () -> Void
    }

    private let endpoints: AgentEndpointTable
    private let handover: Handover
    private var handoverStarted = false
    private var mode = Mode.agent
    /// Bytes read and not yet consumed.
    private var unread: ByteBuffer?
    /// A read the channel asked for while a task was answering; issued once it is done.
    private var readHeld = false
    /// A quiesce (graceful shutdown) that arrived while a task was answering; acted on after.
    private var quiesceHeld = false
    /// The peer closed its side while an answer was outstanding (or the handover was under way):
    /// the connection closes once that answer is written (or Hummingbird gets the event).
    private var inputClosedHeld = false
    private var channelOpen = true
    private var remoteIP: String?
    /// The deadline of the request being received.
    private var clock: RequestClock
    /// Armed for `clock`'s deadline while a request is incomplete.
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?
    /// What the request being received (or answered) holds of the body budget.
    private var charge = BodyCharge()
    /// Whether the request being received is authenticated by its header (asked once per request).
    private var headerAuthenticated: Bool?

    init(endpoints: AgentEndpointTable, handover: Handover, deadlines: RequestDeadlines = RequestDeadlines()) {
        self.endpoints = endpoints
        self.handover = handover
        self.clock = RequestClock(deadlines: deadlines)
    }

    /// A refused body longer than this is not read and discarded: the connection is closed after
    /// the answer (discarding costs as much as reading, for nothing).
    static let maxDiscardedBody = 64 << 20

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .handedOver = mode {
            context.fireUserInboundEventTriggered(HandedOverDeadlineHandler.BytesArrived())
            context.fireChannelRead(data)
            return
        }
        var chunk = unwrapInboundIn(data)
        if unread == nil {
            unread = chunk
        } else {
            unread!.writeBuffer(&chunk)
        }
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .handedOver = mode { context.fireChannelReadComplete() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelOpen = false
        letGo()
        abandonUnlessHandedOver()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        channelOpen = false
        letGo()
        abandonUnlessHandedOver()
    }

    /// Gives back what the connection holds: its share of the body budget, its timer.
    private func letGo() {
        charge.release(to: endpoints.bodyBudget)
        timer?.task.cancel()
        timer = nil
    }

    private func abandonUnlessHandedOver() {
        if handoverStarted { return }
        handoverStarted = true
        handover.abandon()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if case .answering = mode { return }  // waiting on us, not on the client
            context.close(promise: nil)
            return
        }
        // Graceful shutdown. Before a handover there is no HTTP server behind to act on it: an
        // idle connection is closed here, and one whose log is being answered gets its
        // acknowledgement out first.
        if event is ChannelShouldQuiesceEvent {
            switch mode {
            case .handedOver:
                context.fireUserInboundEventTriggered(event)
            case .answering, .handingOver:
                quiesceHeld = true
            case .agent, .skipping:
                closeAfterWrites(context: context)
            }
            return
        }
        // The peer closed its side (TCP FIN or TLS close_notify; Hummingbird allows remote
        // half-closure). No request can complete any more, so nothing is gained by keeping the
        // socket: close it once what is written is out. An answer still being worked out goes out
        // first (osqueryd never half-closes, but a client that sends a request and shuts its write
        // side is allowed its answer). After a handover Hummingbird acts on the event: it answers
        // what it has read and closes.
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            switch mode {
            case .handedOver:
                context.fireUserInboundEventTriggered(event)
            case .answering, .handingOver:
                inputClosedHeld = true
            case .agent, .skipping:
                closeAfterWrites(context: context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Answers every complete request in `unread`, in order, until one needs a task, more bytes
    /// are needed, or the connection is handed over; then arms the timer for what is incomplete.
    private func process(context: ChannelHandlerContext) {
        consume(context: context)
        armTimer(context: context)
    }

    private func consume(context: ChannelHandlerContext) {
        while var buffer = unread {
            switch mode {
            case .handedOver, .handingOver, .answering:
                return
            case .skipping(let remaining):
                let skip = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: skip)
                if remaining > skip {
                    mode = .skipping(remaining: remaining - skip)
                } else {
                    mode = .agent
                    clock.complete()
                }
                unread = buffer.readableBytes > 0 ? buffer : nil
                continue
            case .agent:
                break
            }
            let parsed = buffer.withUnsafeReadableBytes { AgentWireRequest.parse($0) }
            switch parsed {
            case .needMore:
                _ = clock.headPending(now: context.eventLoop.now)
                return
            case .other:
                handOver(context: context)
                return
            case .request(let request):
                guard let endpoint = endpoints.endpoint(target: request.target) else {
                    handOver(context: context)
                    return
                }
                if request.contentLength > endpoint.limit {
                    refuse(request, endpoints.tooLarge(endpoint, path: request.target), context: context)
                    continue
                }
                let bodyHere = min(buffer.readableBytes - request.headBytes, request.contentLength)
                // Charged by the memory the buffer holds for it: it grows by doubling, so a 36 MiB
                // body takes 64 MiB.
                if !holdBody(bodyHere, memory: buffer.capacity - request.headBytes, of: request) {
                    refuse(request, endpoints.budgetExhausted(path: request.target, now: context.eventLoop.now), context: context)
                    continue
                }
                guard bodyHere == request.contentLength else {
                    _ = clock.bodyPending(length: request.contentLength, now: context.eventLoop.now)
                    return
                }
                buffer.moveReaderIndex(forwardBy: request.headBytes)
                let body = buffer.readSlice(length: request.contentLength)!
                unread = buffer.readableBytes > 0 ? buffer : nil
                clock.complete()
                headerAuthenticated = nil
                answer(request, endpoint: endpoint, body: body, context: context)
            }
        }
    }

    /// Charges the body bytes held for `request` to the budget, unless its header authenticates
    /// it or they are few. `false`: no room.
    private func holdBody(_ bytes: Int, memory: Int, of request: AgentWireRequest) -> Bool {
        if bytes <= BodyBudget.freeBytes { return true }
        if headerAuthenticated == nil { headerAuthenticated = endpoints.isAuthenticated(authorization: request.authorization) }
        if headerAuthenticated == true { return true }
        return charge.hold(max(bytes, memory), in: endpoints.bodyBudget)
    }

    /// Answers `request` with a refusal and discards its body (so the connection can carry the
    /// next request), or, for a body too large to be worth reading, closes after the answer.
    private func refuse(_ request: AgentWireRequest, _ refusal: AgentEndpoint.Answer, context: ChannelHandlerContext) {
        charge.release(to: endpoints.bodyBudget)
        headerAuthenticated = nil
        clock.complete()
        respond(refusal, context: context)
        guard request.contentLength <= Self.maxDiscardedBody else {
            unread = nil
            mode = .skipping(remaining: .max)
            closeAfterWrites(context: context)
            return
        }
        var buffer = unread!
        buffer.moveReaderIndex(forwardBy: request.headBytes)
        unread = buffer.readableBytes > 0 ? buffer : nil
        mode = .skipping(remaining: request.contentLength)
        if request.contentLength > 0 { _ = clock.bodyPending(length: request.contentLength, now: context.eventLoop.now) }
    }

    /// Keeps one timer at the deadline of the request being received, none while there is none
    /// (the usual case: a check-in arrives whole in one read, and no timer is ever armed).
    private func armTimer(context: ChannelHandlerContext) {
        let deadline: NIODeadline?
        switch mode {
        case .agent, .skipping: deadline = clock.deadline
        case .answering, .handingOver, .handedOver: deadline = nil
        }
        if let timer, timer.deadline == deadline { return }
        timer?.task.cancel()
        timer = nil
        guard let deadline, channelOpen else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.deadlinePassed(context: context)
        }
        timer = (deadline, task)
    }

    /// A request did not arrive in time: the client trickles or stalled; nothing can be answered.
    private func deadlinePassed(context: ChannelHandlerContext) {
        switch mode {
        case .agent, .skipping:
            guard clock.hasExpired(now: context.eventLoop.now) else {
                armTimer(context: context)
                return
            }
            endpoints.service.logger.debug(
                "closing an agent connection whose request did not arrive in time", metadata: ["peer": "\(peerIP(context))"])
            context.close(promise: nil)
        case .answering, .handingOver, .handedOver:
            return
        }
    }

    private func answer(_ request: AgentWireRequest, endpoint: AgentEndpoint, body: ByteBuffer, context: ChannelHandlerContext) {
        let headers = AgentRequestHeaders(
            authorization: request.authorization, contentEncoding: request.contentEncoding, remoteIP: peerIP(context))
        if let answer = endpoints.answerNow(endpoint, body: body, headers: headers, path: request.target) {
            charge.release(to: endpoints.bodyBudget)
            respond(answer, context: context)
            return
        }
        mode = .answering
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        endpoints.answer(endpoint, body: body, headers: headers, path: request.target) { answer in
            // Usually called on another thread (a task, the spool's writer); a refusal before any
            // work calls it right here, and then the answer still goes out after this returns.
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.answered(answer, context: context)
            }
        }
    }

    private func answered(_ answer: AgentEndpoint.Answer, context: ChannelHandlerContext) {
        guard channelOpen else { return }
        mode = .agent
        charge.release(to: endpoints.bodyBudget)
        respond(answer, context: context)
        process(context: context)
        if case .answering = mode { return }
        releaseHeld(context: context)
    }

    /// From here on the connection belongs to the HTTP server behind, whose handlers are added
    /// now; then the unconsumed bytes go to it first.
    private func handOver(context: ChannelHandlerContext) {
        mode = .handingOver
        handoverStarted = true
        // Hummingbird's routes charge what they buffer themselves.
        charge.release(to: endpoints.bodyBudget)
        clock.complete()
        handover.setUp(context.channel).assumeIsolated().whenComplete { result in
            guard case .success = result else {
                context.close(promise: nil)
                return
            }
            self.mode = .handedOver
            if let unread = self.unread {
                self.unread = nil
                context.fireUserInboundEventTriggered(HandedOverDeadlineHandler.BytesArrived())
                context.fireChannelRead(self.wrapInboundOut(unread))
                context.fireChannelReadComplete()
            }
            self.releaseHeld(context: context)
        }
    }

    /// Acts on what waited while an answer was outstanding: a closed input, a quiesce, then a read.
    private func releaseHeld(context: ChannelHandlerContext) {
        if case .handingOver = mode { return }  // the handover's completion releases them
        if inputClosedHeld {
            inputClosedHeld = false
            if case .handedOver = mode {
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            } else {
                closeAfterWrites(context: context)
                return
            }
        }
        if quiesceHeld {
            quiesceHeld = false
            if case .handedOver = mode {
                context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            } else {
                closeAfterWrites(context: context)
                return
            }
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Closes once everything written so far is out: writes complete in order, so an empty
    /// write's completion follows the last answer's.
    private func closeAfterWrites(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// The peer's address, formatted once per connection rather than per request.
    private func peerIP(_ context: ChannelHandlerContext) -> String {
        if let remoteIP { return remoteIP }
        let ip = context.channel.remoteAddress?.ipAddress ?? ""
        remoteIP = ip
        return ip
    }

    /// One buffer: status line, headers and body, so TLS seals it as one record.
    private func respond(_ answer: AgentEndpoint.Answer, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 128 + answer.body.count)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(answer.status))
        out.writeString(Self.reason(answer.status))
        out.writeStaticString("\r\nContent-Type: application/json\r\nContent-Length: ")
        out.writeString(String(answer.body.count))
        out.writeStaticString("\r\nServer: pomona\r\n\r\n")
        out.writeBytes(answer.body)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: " OK"
        case 400: " Bad Request"
        case 401: " Unauthorized"
        case 413: " Content Too Large"
        case 500: " Internal Server Error"
        case 503: " Service Unavailable"
        default: " Status"
        }
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        switch mode {
        case .answering, .handingOver:
            readHeld = true
        case .agent, .skipping, .handedOver:
            context.read()
        }
    }
}

/// How the agent listener bounds what a connection may cost (see the README's Configuration).
public struct AgentListenerLimits: Sendable {
    /// How long a connection may send nothing before it is closed.
    public var idleTimeout: TimeAmount = .minutes(5)
    /// How long a TLS handshake may take from the connection's accept.
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// How long a request may take to arrive once started.
    public var requestDeadlines = RequestDeadlines()
    /// Open connections per source address (IPv6: per /64); 0 = no limit.
    public var connectionsPerAddress = 512

    public init() {}
}

/// An ``AgentWireHandler`` right behind TLS; Hummingbird's HTTP/1 channel behind it only once
/// the connection is handed over.
struct AgentWireChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// Hummingbird's channel value once handed over; failed if the connection ends first.
        let handedOver: EventLoopFuture<HTTP1Channel.Value>
    }

    let base: HTTP1Channel
    let endpoints: AgentEndpointTable
    let limits: AgentListenerLimits
    /// Shared by all the listener's connections.
    let connections: ConnectionLimiter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let handedOver = channel.eventLoop.makePromise(of: HTTP1Channel.Value.self)
            switch connections.admit(channel.remoteAddress, now: channel.eventLoop.now) {
            case .refused(let report):
                if let report {
                    endpoints.service.logger.warning(
                        "refusing agent connections over the per-address limit",
                        metadata: [
                            "refused": "\(report)", "address": "\(channel.remoteAddress?.ipAddress ?? "?")",
                            "limit": "\(connections.perSource)",
                        ])
                }
                // Closed before the TLS handshake: the cheapest refusal (osqueryd retries later).
                try channel.pipeline.syncOperations.addHandler(CloseWhenActive())
                handedOver.fail(ChannelError.ioOnClosedChannel)
                return Value(channel: channel, handedOver: handedOver.futureResult)
            case .admitted(let source):
                let connections = self.connections
                channel.closeFuture.whenComplete { _ in connections.release(source) }
            }
            let base = self.base
            let handover = AgentWireHandler.Handover(
                setUp: { [deadlines = limits.requestDeadlines] channel in
                    let value = base.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
                        // Right behind NIO's HTTP/1 decoder, where requests are parts.
                        let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                        try channel.pipeline.syncOperations.addHandler(HandedOverDeadlineHandler(deadlines: deadlines), position: .after(decoder))
                        return value
                    }.nonisolated()
                    value.cascade(to: handedOver)
                    return value.map { _ in }
                },
                abandon: { handedOver.fail(ChannelError.ioOnClosedChannel) })
            try channel.pipeline.syncOperations.addHandler(TLSHandshakeDeadlineHandler(timeout: limits.handshakeTimeout))
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
            try channel.pipeline.syncOperations.addHandler(
                AgentWireHandler(endpoints: endpoints, handover: handover, deadlines: limits.requestDeadlines))
            return Value(channel: channel, handedOver: handedOver.futureResult)
        }
    }

    /// Runs for the connection's life (Hummingbird's server holds a task per connection); it
    /// only has work once the connection is handed over.
    func handle(value: Value, logger: Logger) async {
        guard let http = try? await value.handedOver.get() else { return }
        await base.handle(value: http, logger: logger)
    }
}

/// Closes a refused connection as soon as it can be closed.
private final class CloseWhenActive: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}

extension AgentEndpointTable {
    /// Hummingbird's HTTP/1 server with osquery's requests answered by ``AgentWireHandler``
    /// before it (wrap it in `.tls(…)` as usual).
    /// - Parameter limits: The idle timeout's default, 5 minutes, is well above osqueryd's
    ///   intervals that keep a connection busy (distributed and logger, 10 s by default), so
    ///   only the config thread's connection under a long `config_refresh`, the carver's after a
    ///   carve, and dead or stalled clients are closed.
    public func httpServer(
        configuration: HTTP1Channel.Configuration = .init(), limits: AgentListenerLimits = AgentListenerLimits()
    ) -> HTTPServerBuilder {
        let connections = ConnectionLimiter(perSource: limits.connectionsPerAddress)
        return HTTPServerBuilder { responder in
            AgentWireChannel(
                base: HTTP1Channel(responder: responder, configuration: configuration), endpoints: self, limits: limits,
                connections: connections)
        }
    }
}
