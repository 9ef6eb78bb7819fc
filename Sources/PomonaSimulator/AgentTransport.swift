import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// osqueryd's HTTP client (spec §6): HTTP/1.1 over TLS, keep-alive connections, one request at a
/// time on each, a whole-exchange deadline, a transparent resend after a broken connection and
/// redirects. Built on NIO directly rather than an HTTP client library because the simulator must
/// hold the connections the way osqueryd does (one per agent thread, §6.4) and must stay cheap
/// enough to run thousands of agents next to the server it measures.
///
/// One transport is shared by every agent of a run: it owns the TLS context (made once; making one
/// per connection would dominate the simulator's cost) and, under ``ConnectionPolicy/shared(_:)``,
/// the one pool every agent draws from.
public final class AgentTransport: Sendable {
    /// How agents hold their connections.
    public enum ConnectionPolicy: Sendable, Equatable {
        /// Like osqueryd (`--tls_session_reuse`): each agent keeps one connection per thread that
        /// talks to the server (config, distributed, logger, carver), so a fleet of N hosts holds
        /// up to 4N connections, usually 3N.
        case perAgentThread
        /// All agents share at most this many connections. For machines whose file-descriptor
        /// limit is below what ``perAgentThread`` needs; the server then sees fewer, busier
        /// connections than a real fleet would open.
        case shared(Int)
    }

    /// Where requests go.
    public struct Target: Sendable, Equatable {
        public var host: String
        public var port: Int

        /// Parses `https://host:port` (port 443 when absent; IPv6 hosts in brackets).
        public init?(url: String) {
            guard url.hasPrefix("https://") else { return nil }
            var rest = url.dropFirst("https://".count)
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                if after.isEmpty { port = 443 } else if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = p } else { return nil }
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
                port = p
            } else {
                host = String(rest)
                port = 443
            }
            guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        }

        /// The `Host` header value: the port only when it is not 443; an IPv6 address in
        /// brackets (RFC 9110 §7.2: `uri-host` is an IP-literal there).
        var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == 443 ? name : "\(name):\(port)"
        }
    }

    let group: any EventLoopGroup
    let sslContext: NIOSSLContext
    public let policy: ConnectionPolicy
    /// The pool every agent uses under ``ConnectionPolicy/shared(_:)``.
    let sharedPool: SocketPool?
    /// Connections opened so far (a figure for reports and tests).
    private let opened = Atomic<Int>(0)

    /// - Parameters:
    ///   - tlsConfiguration: Client TLS, as ``OsqueryAgentConfiguration/tlsConfiguration(trustingCAPEM:)`` makes it.
    ///   - policy: How agents hold connections.
    ///   - group: The event loops connections run on.
    /// - Throws: `NIOSSLError` when the TLS configuration cannot be turned into a context.
    public init(
        tlsConfiguration: TLSConfiguration,
        policy: ConnectionPolicy = .perAgentThread,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.group = group
        self.sslContext = try NIOSSLContext(configuration: tlsConfiguration)
        self.policy = policy
        if case .shared(let limit) = policy { sharedPool = SocketPool(limit: max(limit, 1)) } else { sharedPool = nil }
    }

    /// How many connections this transport has opened.
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Closes the shared pool's idle connections (agents close their own).
    public func shutdown() {
        sharedPool?.closeAll()
    }

    /// One exchange as osqueryd's client makes it: over a connection from `pool`, resent once on a
    /// new connection when anything but the deadline breaks it, and redirects followed (up to 10,
    /// same method and body; spec §6.4). A redirect to another server uses a connection of its own.
    /// New connections come from `sourceAddress` when one is given.
    func send(
        _ request: AgentHTTPRequest,
        to target: Target,
        from sourceAddress: String? = nil,
        pool: SocketPool,
        sessionTimeout: Duration,
        deadline: NIODeadline,
        maxResponseBytes: Int
    ) async throws -> AgentHTTPResponse {
        var request = request
        var target = target
        var pool: SocketPool? = pool
        for _ in 0...10 {
            let response = try await sendOnce(
                request, to: target, from: sourceAddress, pool: pool, sessionTimeout: sessionTimeout, deadline: deadline,
                maxResponseBytes: maxResponseBytes)
            guard [301, 302, 303, 304, 305, 307, 308].contains(response.status) else { return response }
            guard let location = response.header("location"), !location.isEmpty else {
                throw AgentTransportError.redirect("\(response.status) without a Location header")
            }
            if location.hasPrefix("/") {
                request.path = location
            } else if let next = Target(url: location) {
                let path = location.dropFirst("https://".count).drop(while: { $0 != "/" })
                request.path = path.isEmpty ? "/" : String(path)
                if next != target {
                    target = next
                    request.host = next.hostHeader
                    pool = nil
                }
            } else {
                throw AgentTransportError.redirect("cannot follow Location \(location)")
            }
        }
        throw AgentTransportError.redirect("more than 10 redirects")
    }

    private func sendOnce(
        _ request: AgentHTTPRequest,
        to target: Target,
        from sourceAddress: String?,
        pool: SocketPool?,
        sessionTimeout: Duration,
        deadline: NIODeadline,
        maxResponseBytes: Int
    ) async throws -> AgentHTTPResponse {
        var resent = false
        while true {
            let socket: AgentSocket
            switch await pool?.checkout(maxAge: sessionTimeout) ?? .connect {
            case .cancelled:
                throw CancellationError()
            case .socket(let idle):
                socket = idle
            case .connect:
                do {
                    socket = try await connect(to: target, from: sourceAddress, deadline: deadline)
                } catch {
                    pool?.checkin(nil)
                    if resent || Self.isTimeout(error) { throw error }
                    resent = true
                    continue
                }
            }
            do {
                let response = try await socket.send(request, deadline: deadline, maxResponseBytes: maxResponseBytes)
                if response.keepAlive, let pool {
                    pool.checkin(socket)
                } else {
                    socket.close()
                    pool?.checkin(nil)
                }
                return response
            } catch {
                socket.close()
                pool?.checkin(nil)
                if resent || Self.isTimeout(error) { throw error }
                if case AgentTransportError.responseTooLarge = error { throw error }
                resent = true
            }
        }
    }

    private static func isTimeout(_ error: any Error) -> Bool {
        if case AgentTransportError.timeout = error { return true }
        if case ChannelError.connectTimeout = error { return true }
        return false
    }

    /// Opens a TLS connection (from `sourceAddress`, port chosen by the system, when given); the
    /// handshake is finished before this returns.
    func connect(to target: Target, from sourceAddress: String? = nil, deadline: NIODeadline) async throws -> AgentSocket {
        let sslContext = self.sslContext
        // SNI and hostname verification use the name; for an IP address NIOSSL verifies the
        // certificate's IP SANs against the connected address instead (SNI cannot carry an IP).
        let serverName: String? = Self.isIPAddress(target.host) ? nil : target.host
        let timeout = max(deadline - .now(), .milliseconds(1))
        var bootstrap = ClientBootstrap(group: group)
        if let sourceAddress { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0)) }
        let channel = try await bootstrap
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler(handshakeDeadline: deadline))
                }
            }
            .connect(host: target.host, port: target.port).get()
        opened.add(1, ordering: .relaxed)
        // Wait for the handshake so a TLS failure is a connect failure, as it is for osqueryd.
        let handshake = channel.eventLoop.flatSubmit {
            do {
                return try channel.pipeline.syncOperations.handler(type: ExchangeHandler.self).handshake.futureResult
            } catch {
                return channel.eventLoop.makeFailedFuture(AgentTransportError.closed)
            }
        }
        do {
            try await handshake.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return AgentSocket(channel: channel, target: target)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// A request as osqueryd writes it.
struct AgentHTTPRequest: Sendable {
    var path: String
    var host: String
    var headers: [(String, String)]
    var body: ByteBuffer
}

/// A whole response.
struct AgentHTTPResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: ByteBuffer
    /// False when the server said `Connection: close` (or answered HTTP/1.0 without keep-alive).
    var keepAlive: Bool

    func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name })?.value
    }
}

/// Why an exchange failed. Only ``timeout`` stops the transparent resend (spec §6.4).
enum AgentTransportError: Error, CustomStringConvertible {
    case timeout
    case closed
    case responseTooLarge(limit: Int)
    case redirect(String)

    var description: String {
        switch self {
        case .timeout: "timed out"
        case .closed: "connection closed before the response was complete"
        case .responseTooLarge(let limit): "response body over \(limit) bytes"
        case .redirect(let why): "redirect: \(why)"
        }
    }
}

/// One keep-alive TLS connection carrying one exchange at a time.
final class AgentSocket: Sendable {
    let channel: any Channel
    let target: AgentTransport.Target
    let openedAt = ContinuousClock.now

    init(channel: any Channel, target: AgentTransport.Target) {
        self.channel = channel
        self.target = target
    }

    var isOpen: Bool { channel.isActive }

    func send(_ request: AgentHTTPRequest, deadline: NIODeadline, maxResponseBytes: Int) async throws -> AgentHTTPResponse {
        let promise = channel.eventLoop.makePromise(of: AgentHTTPResponse.self)
        let exchange = ExchangeHandler.Exchange(request: request, deadline: deadline, maxResponseBytes: maxResponseBytes, promise: promise)
        // A write that never reaches the handler (the pipeline of a closed channel is already
        // torn down) fails only its own promise; pass that on, or the exchange would wait forever.
        channel.writeAndFlush(exchange).whenFailure { promise.fail($0) }
        return try await promise.futureResult.get()
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Writes one request and collects its response; fails it when the connection ends first or the
/// deadline passes (then the connection is closed: a late answer must not be taken for the next).
private final class ExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    struct Exchange: Sendable {
        var request: AgentHTTPRequest
        var deadline: NIODeadline
        var maxResponseBytes: Int
        var promise: EventLoopPromise<AgentHTTPResponse>
    }

    private let handshakeDeadline: NIODeadline
    /// Completed when the TLS handshake is done, failed when the connection ends first or the
    /// deadline passes. Made in `handlerAdded`, so it exists before any event can arrive.
    private(set) var handshake: EventLoopPromise<Void>!
    private var handshakeTimer: Scheduled<Void>?
    private var current: Exchange?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(handshakeDeadline: NIODeadline) {
        self.handshakeDeadline = handshakeDeadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        handshake = context.eventLoop.makePromise()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(deadline: handshakeDeadline) {
            let (handler, context) = bound.value
            handler.handshake.fail(AgentTransportError.timeout)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshake.fail(AgentTransportError.closed)  // a no-op once completed
        timer?.cancel()
        current?.promise.fail(AgentTransportError.closed)
        current = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            handshakeTimer?.cancel()
            handshake.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard current == nil, context.channel.isActive else {
            exchange.promise.fail(AgentTransportError.closed)
            promise?.fail(AgentTransportError.closed)
            return
        }
        current = exchange
        head = nil
        body = nil
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: exchange.deadline) {
            let (handler, context) = bound.value
            handler.fail(AgentTransportError.timeout, context: context)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: exchange.request.host)
        for (name, value) in exchange.request.headers { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: String(exchange.request.body.readableBytes))
        let requestHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: exchange.request.path, headers: headers)
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = current else { return }  // nothing asked: ignore (the decoder would reject garbage)
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            if responseHead.status.code >= 100 && responseHead.status.code < 200 { return }  // interim
            head = responseHead
        case .body(var part):
            if (body?.readableBytes ?? 0) + part.readableBytes > exchange.maxResponseBytes {
                fail(AgentTransportError.responseTooLarge(limit: exchange.maxResponseBytes), context: context)
                return
            }
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let responseHead = head else { return }
            timer?.cancel()
            current = nil
            let response = AgentHTTPResponse(
                status: Int(responseHead.status.code),
                headers: responseHead.headers.map { (name: $0.name, value: $0.value) },
                body: body ?? ByteBuffer(),
                keepAlive: responseHead.isKeepAlive)
            head = nil
            body = nil
            exchange.promise.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(AgentTransportError.closed)
        fail(AgentTransportError.closed, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake.fail(error)
        fail(error, context: context)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        timer?.cancel()
        guard let exchange = current else {
            context.close(promise: nil)
            return
        }
        current = nil
        exchange.promise.fail(error)
        context.close(promise: nil)
    }
}
