import CompressNIO
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A request as a fake receiver saw it (body already un-gzipped when it was sent gzipped).
struct FakeHTTPRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// Bytes on the wire (compressed size when gzipped).
    var wireBytes: Int
    var wasGzipped: Bool

    var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
    var bodyText: String { String(buffer: body) }
}

struct FakeHTTPResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = [("Content-Type", "application/json")]
    var body: String
    /// Close the connection without answering (a receiver that died mid-request).
    var dropConnection = false
    /// Answer only after this long (exercises the client's timeout).
    var delay: TimeAmount?

    static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> FakeHTTPResponse {
        FakeHTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }
}

/// A small SwiftNIO HTTP/1.1 server on 127.0.0.1 and an ephemeral port, with optional TLS, that
/// hands every complete request to a handler and records it. The base of the fake Splunk HEC and
/// Elasticsearch receivers.
final class FakeHTTPServer: Sendable {
    typealias Handler = @Sendable (FakeHTTPRequest) -> FakeHTTPResponse

    let port: Int
    let scheme: String
    private let channel: any Channel
    private let recorded = Mutex<[FakeHTTPRequest]>([])

    var url: String { "\(scheme)://127.0.0.1:\(port)" }
    var requests: [FakeHTTPRequest] { recorded.withLock { $0 } }

    private init(channel: any Channel, scheme: String) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.scheme = scheme
    }

    /// Starts a server; `port: 0` picks a free one (pass a port again to come back "up" there).
    static func start(port: Int = 0, tls: NIOSSLContext? = nil, handler: @escaping Handler) async throws -> FakeHTTPServer {
        let box = Mutex<FakeHTTPServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                do {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FakeHTTPHandler { request in
                        box.withLock { $0 }?.recorded.withLock { $0.append(request) }
                        return handler(request)
                    })
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        let server = FakeHTTPServer(channel: channel, scheme: tls == nil ? "http" : "https")
        box.withLock { $0 = server }
        return server
    }

    func stop() async {
        try? await channel.close()
    }

    /// A TLS server context from the test PKI.
    static func tlsContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(OutputTestPKI.serverPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(OutputTestPKI.serverKeyPEM.utf8), format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    /// A port on which nothing listens (bound then closed), for "receiver down".
    static func unusedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}

private final class FakeHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: FakeHTTPServer.Handler
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(respond: @escaping FakeHTTPServer.Handler) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            let gzipped = head.headers.first(name: "content-encoding")?.lowercased() == "gzip"
            var decoded = body
            if gzipped {
                var compressed = body
                decoded = (try? compressed.decompress(with: .gzip())) ?? ByteBuffer(string: "<<invalid gzip>>")
            }
            let request = FakeHTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: decoded,
                                          wireBytes: body.readableBytes, wasGzipped: gzipped)
            let response = respond(request)
            if response.dropConnection {
                context.close(promise: nil)
                return
            }
            if let delay = response.delay {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    let (handler, context) = loopBound.value
                    handler.write(response, context: context)
                }
            } else {
                write(response, context: context)
            }
        }
    }

    func write(_ response: FakeHTTPResponse, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        let body = ByteBuffer(string: response.body)
        headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
