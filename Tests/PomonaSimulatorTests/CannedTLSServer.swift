import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A tiny HTTPS/1.1 server on 127.0.0.1 that answers every request from a closure and records
/// what it received. It exists only so the agent can be tested over real TLS before Pomona's
/// server exists; it is not a model of that server.
final class CannedTLSServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(name: String, value: String)]
        var body: Data
        /// Which connection it came on (numbered from 1 in the order they were accepted).
        var connection = 0

        func header(_ name: String) -> String? {
            headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
        }
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus = .ok
        var body: Data
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        /// Close the connection after this response, or instead of it (no response at all).
        var close: Close = .no

        enum Close: Sendable { case no, afterResponse, withoutResponse }

        static func json(_ text: String, status: HTTPResponseStatus = .ok) -> Response {
            Response(status: status, body: Data(text.utf8))
        }
    }

    let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let log: RequestLog

    private init(port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, log: RequestLog) {
        self.port = port
        self.channel = channel
        self.group = group
        self.log = log
    }

    /// Everything received so far, in arrival order.
    var requests: [Request] { log.items.withLock { $0 } }

    /// Connections accepted so far.
    var connectionsAccepted: Int { log.connections.withLock { $0.count } }

    /// Closes every open connection, like a server or load balancer dropping idle keep-alives.
    func dropConnections() async {
        for channel in log.connections.withLock({ $0 }) { try? await channel.close() }
    }

    /// Starts a server whose certificate chain leads to ``TestCertificates/caPEM``.
    static func start(responder: @escaping @Sendable (Request) -> Response) async throws -> CannedTLSServer {
        let certificate = try NIOSSLCertificate(bytes: Array(TestCertificates.leafPEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(TestCertificates.leafKeyPEM.utf8), format: .pem)
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    let number = log.connections.withLock { connections in
                        connections.append(channel)
                        return connections.count
                    }
                    try channel.pipeline.syncOperations.addHandler(CannedHandler(responder: responder, log: log, connection: number))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CannedTLSServer(port: channel.localAddress!.port!, channel: channel, group: group, log: log)
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

/// The requests received, shared by the server object and every connection's handler.
private final class RequestLog: Sendable {
    let items = Mutex<[CannedTLSServer.Request]>([])
    let connections = Mutex<[any Channel]>([])
}

/// Collects one request at a time and answers it. Lives on its channel's event loop only.
private final class CannedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: @Sendable (CannedTLSServer.Request) -> CannedTLSServer.Response
    private let log: RequestLog
    private var head: HTTPRequestHead?
    private var body = Data()
    private let connection: Int

    init(responder: @escaping @Sendable (CannedTLSServer.Request) -> CannedTLSServer.Response, log: RequestLog, connection: Int) {
        self.responder = responder
        self.log = log
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            let request = CannedTLSServer.Request(
                method: head.method.rawValue, path: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body, connection: connection)
            log.items.withLock { $0.append(request) }
            let response = responder(request)
            self.head = nil
            if response.close == .withoutResponse {
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders(response.headers)
            if response.close == .afterResponse { headers.replaceOrAdd(name: "Connection", value: "close") }
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            if response.close == .afterResponse {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
