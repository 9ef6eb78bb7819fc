import HummingbirdCore
import Logging
import NIOCore

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
/// A connection whose peer closes its side is closed at once, or right after the answer that is
/// outstanding (before a handover; after it, the HTTP server behind handles the closed input).
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
    /// The peer closed its side while an answer was outstanding: close once it is written.
    private var inputClosedHeld = false
    private var channelOpen = true
    private var remoteIP: String?

    init(endpoints: AgentEndpointTable, handover: Handover) {
        self.endpoints = endpoints
        self.handover = handover
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .handedOver = mode {
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
        abandonUnlessHandedOver()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        channelOpen = false
        abandonUnlessHandedOver()
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
        // The peer half-closed (or closed) its side. Remote half-closure is allowed on this
        // listener, so without this the socket stayed open until the idle timeout: a client
        // could pile up descriptors by connecting, sending and closing (1,000 cycles left 999
        // sockets held). Nothing more can arrive, so close now, or right after the answer that
        // is outstanding; after a handover, the HTTP server behind decides.
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
        context.fireUserInboundEventTriggered(event)
    }

    /// Answers every complete request in `unread`, in order, until one needs a task, more bytes
    /// are needed, or the connection is handed over.
    private func process(context: ChannelHandlerContext) {
        while var buffer = unread {
            switch mode {
            case .handedOver, .handingOver, .answering:
                return
            case .skipping(let remaining):
                let skip = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: skip)
                mode = remaining > skip ? .skipping(remaining: remaining - skip) : .agent
                unread = buffer.readableBytes > 0 ? buffer : nil
                continue
            case .agent:
                break
            }
            let parsed = buffer.withUnsafeReadableBytes { AgentWireRequest.parse($0) }
            switch parsed {
            case .needMore:
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
                    buffer.moveReaderIndex(forwardBy: request.headBytes)
                    unread = buffer.readableBytes > 0 ? buffer : nil
                    mode = .skipping(remaining: request.contentLength)
                    respond(endpoints.tooLarge(endpoint, path: request.target), context: context)
                    continue
                }
                guard buffer.readableBytes >= request.headBytes + request.contentLength else { return }
                buffer.moveReaderIndex(forwardBy: request.headBytes)
                let body = buffer.readSlice(length: request.contentLength)!
                unread = buffer.readableBytes > 0 ? buffer : nil
                answer(request, endpoint: endpoint, body: body, context: context)
            }
        }
    }

    private func answer(_ request: AgentWireRequest, endpoint: AgentEndpoint, body: ByteBuffer, context: ChannelHandlerContext) {
        let headers = AgentRequestHeaders(
            authorization: request.authorization, contentEncoding: request.contentEncoding, remoteIP: peerIP(context))
        if let answer = endpoints.answerNow(endpoint, body: body, headers: headers, path: request.target) {
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
        handover.setUp(context.channel).assumeIsolated().whenComplete { result in
            guard case .success = result else {
                context.close(promise: nil)
                return
            }
            self.mode = .handedOver
            if let unread = self.unread {
                self.unread = nil
                context.fireChannelRead(self.wrapInboundOut(unread))
                context.fireChannelReadComplete()
            }
            self.releaseHeld(context: context)
        }
    }

    /// Acts on what waited while an answer was outstanding: a closed input, a quiesce, then a read.
    private func releaseHeld(context: ChannelHandlerContext) {
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
    /// How long a connection may send nothing before it is closed.
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let handedOver = channel.eventLoop.makePromise(of: HTTP1Channel.Value.self)
            let base = self.base
            let handover = AgentWireHandler.Handover(
                setUp: { channel in
                    let value = base.setup(channel: channel, logger: logger)
                    value.cascade(to: handedOver)
                    return value.map { _ in }
                },
                abandon: { handedOver.fail(ChannelError.ioOnClosedChannel) })
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
            try channel.pipeline.syncOperations.addHandler(AgentWireHandler(endpoints: endpoints, handover: handover))
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

extension AgentEndpointTable {
    /// Hummingbird's HTTP/1 server with osquery's requests answered by ``AgentWireHandler``
    /// before it (wrap it in `.tls(…)` as usual).
    /// - Parameter idleTimeout: How long an agent connection may send nothing before it is
    ///   closed. The default, 5 minutes, is well above osqueryd's intervals that keep a connection
    ///   busy (distributed and logger, 10 s by default), so only the config thread's connection
    ///   under a long `config_refresh`, the carver's after a carve, and dead or stalled clients
    ///   are closed.
    public func httpServer(
        configuration: HTTP1Channel.Configuration = .init(), idleTimeout: TimeAmount = .minutes(5)
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            AgentWireChannel(
                base: HTTP1Channel(responder: responder, configuration: configuration), endpoints: self, idleTimeout: idleTimeout)
        }
    }
}
