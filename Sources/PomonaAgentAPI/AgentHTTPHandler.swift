import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers osquery's endpoints in the channel pipeline, in front of Hummingbird.
///
/// Why: through Hummingbird every request crosses threads twice (event loop → a task on the
/// concurrency pool → back to the loop) and goes through its async sequences, router and
/// response writer. An idle `distributed/read` or a `config` is answered from memory in
/// microseconds, so that machinery was most of what a check-in cost. Here `.immediate`
/// endpoints are answered on the event loop that read the request; `.suspending` ones (enroll,
/// distributed/write, log, carves) run as a task whose answer is written back on the loop.
///
/// Everything else is passed on unchanged to Hummingbird: other paths and methods, requests
/// with `Connection: close` (Hummingbird closes after answering), and every request that
/// arrives while Hummingbird is still answering an earlier one on this connection, so
/// responses always go out in request order. While a task answers, later request parts wait
/// here and the channel stops reading (back-pressure for a client that pipelines).
final class AgentHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Reading the body of a request this handler answers.
        case collecting
        /// A `.suspending` endpoint's task is running.
        case answering
        /// Passing the current request's parts on to Hummingbird.
        case forwarding
    }

    private let endpoints: AgentEndpointTable
    private var state = State.idle
    // The request being collected.
    private var endpoint: AgentEndpoint?
    private var path: Substring = ""
    private var headers = AgentRequestHeaders(authorization: nil, contentEncoding: nil, remoteIP: "")
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    /// Requests passed on to Hummingbird whose response has not fully gone out.
    private var forwardedOpen = 0
    /// Parts that arrived while a task was answering, in order.
    private var queued: [HTTPRequestPart] = []
    /// A read the channel asked for while a task was answering; issued once it is done.
    private var readHeld = false
    private var channelOpen = true
    private var cachedRemoteIP: String?
    /// Set whenever a part is passed on to Hummingbird.
    private var passedOn = false

    init(endpoints: AgentEndpointTable) {
        self.endpoints = endpoints
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if state == .answering || !queued.isEmpty {
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelOpen = false
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        channelOpen = false
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if forwardedOpen == 0, head.method == .post, let path = head.path, let endpoint = endpoints.endpoint(target: Substring(path)),
                head.headerFields[.connection]?.lowercased() != "close"
            {
                state = .collecting
                self.endpoint = endpoint
                self.path = Substring(path)
                headers = AgentRequestHeaders(
                    authorization: head.headerFields[.authorization], contentEncoding: head.headerFields[.contentEncoding],
                    remoteIP: remoteIP(context))
                body = nil
                bodyTooLarge = false
            } else {
                state = .forwarding
                forwardedOpen += 1
                passOn(part, context: context)
            }
        case (.collecting, .body(var chunk)):
            guard !bodyTooLarge, let endpoint else { return }
            let size = (body?.readableBytes ?? 0) + chunk.readableBytes
            if size > endpoint.limit {
                bodyTooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case (.collecting, .end):
            finishCollecting(context: context)
        case (.forwarding, .end):
            state = .idle
            passOn(part, context: context)
        default:
            // The rest of a forwarded request, or parts out of order (Hummingbird refuses those).
            passOn(part, context: context)
        }
    }

    /// The peer's address, formatted once per connection rather than per request.
    private func remoteIP(_ context: ChannelHandlerContext) -> String {
        if let cachedRemoteIP { return cachedRemoteIP }
        let ip = context.channel.remoteAddress?.ipAddress ?? ""
        cachedRemoteIP = ip
        return ip
    }

    private func passOn(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        passedOn = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    private func finishCollecting(context: ChannelHandlerContext) {
        guard let endpoint else { return }
        let body = self.body ?? context.channel.allocator.buffer(capacity: 0)
        let headers = self.headers, path = self.path
        self.endpoint = nil
        self.body = nil
        if bodyTooLarge {
            state = .idle
            respond(endpoints.tooLarge(endpoint, path: path), context: context)
            return
        }
        if let answer = endpoints.answerNow(endpoint, body: body, headers: headers, path: path) {
            state = .idle
            respond(answer, context: context)
            return
        }
        state = .answering
        let endpoints = self.endpoints
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        Task {
            let answer = await endpoints.answer(endpoint, body: body, headers: headers, path: path)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.answered(answer, context: context)
            }
        }
    }

    private func answered(_ answer: (status: Int, body: [UInt8]), context: ChannelHandlerContext) {
        guard channelOpen else { return }
        state = .idle
        respond(answer, context: context)
        passedOn = false
        while !queued.isEmpty && state != .answering {
            handle(queued.removeFirst(), context: context)
        }
        // Hummingbird's async channel hands reads on at read-complete.
        if passedOn { context.fireChannelReadComplete() }
        if readHeld && state != .answering {
            readHeld = false
            context.read()
        }
    }

    private func respond(_ answer: (status: Int, body: [UInt8]), context: ChannelHandlerContext) {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(answer.body.count)
        fields[.server] = "pomona"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: answer.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: answer.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), forwardedOpen > 0 { forwardedOpen -= 1 }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if state == .answering {
            readHeld = true
            return
        }
        context.read()
    }
}

extension AgentEndpointTable {
    /// Hummingbird's HTTP/1 channel with one ``AgentHTTPHandler`` per connection in front.
    public var channelConfiguration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(additionalChannelHandlers: [AgentHTTPHandler(endpoints: self)])
    }
}
