import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PomonaServer
import Synchronization
import Testing

/// The agent listener at the connection level: requests written raw over one TLS connection,
/// the way a keep-alive osqueryd (or a pipelining client) writes them. osqueryd's requests are
/// answered by `AgentWireHandler` straight from the bytes; the first request of any other shape
/// hands the connection to Hummingbird behind it. These check that answers keep request order
/// across the two, that bounds hold, that requests split anywhere are put together, and that the
/// connection stays usable after a refusal.
@Suite(.serialized) struct AgentConnectionTests {
    /// A fresh server, one connection to it, and a host enrolled over that connection.
    func withEnrolledHost(_ body: (RawTLSConnection, String) async throws -> Void) async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        let connection = try await RawTLSConnection.open(running)
        defer { connection.close() }
        try await body(connection, try await connection.enroll())
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withEnrolledHost { connection, nodeKey in
            // One write holding five requests: a log (answered by a task), a read and a config
            // (answered on the event loop), a health check (Hummingbird), a refused read.
            let statusLine = #"{"severity":"0","filename":"x.cpp","line":"1","message":"hello","unixTime":"1785845100"}"#
            connection.send(
                RawTLSConnection.post("/api/v1/osquery/log", #"{"node_key":"\#(nodeKey)","log_type":"status","data":[\#(statusLine)]}"#)
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#)
                    + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + RawTLSConnection.post("/api/osquery/config", #"{"node_key":"\#(nodeKey)"}"#)
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"not-a-key"}"#))
            let responses = try await connection.responses(5)
            #expect(responses.map(\.status) == [200, 200, 200, 200, 401])
            #expect(responses[1].body.contains(#""queries""#))
            #expect(responses[2].body.contains(#""status":"ok""#))
            #expect(responses[3].body.contains(#""schedule""#) || responses[3].body.contains(#""packs""#))
            #expect(responses[4].body.contains(#""node_invalid":true"#))
            #expect(responses.allSatisfy { $0.headers["content-type"] == "application/json" })
        }
    }

    @Test func aRequestBehindOneHummingbirdAnswersWaitsItsTurn() async throws {
        try await withEnrolledHost { connection, nodeKey in
            // An unknown path goes to Hummingbird (404); the read right behind it must not overtake it.
            connection.send(
                RawTLSConnection.post("/api/v1/osquery/nonexistent", "{}")
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#)
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#))
            let responses = try await connection.responses(3)
            #expect(responses.map(\.status) == [404, 200, 200])
        }
    }

    @Test func anOversizedBodyIsRefusedAndTheConnectionStaysUsable() async throws {
        try await withEnrolledHost { connection, nodeKey in
            let padding = String(repeating: " ", count: 300 << 10)  // over the 256 KiB bound of distributed/read
            connection.send(RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"\#(padding)}"#))
            let refused = try await connection.responses(1)[0]
            #expect(refused.status == 413)
            #expect(refused.body.contains("exceeds"))
            connection.send(RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#))
            let accepted = try await connection.responses(1)[0]
            #expect(accepted.status == 200)
        }
    }

    @Test func malformedBodiesGetAPreciseErrorBody() async throws {
        try await withEnrolledHost { connection, _ in
            connection.send(
                RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key": "#)
                    + RawTLSConnection.post("/api/v1/osquery/config", "not gzip", extraHeaders: "Content-Encoding: gzip\r\n")
                    + RawTLSConnection.post("/api/v1/osquery/config", ""))
            let responses = try await connection.responses(3)
            #expect(responses.map(\.status) == [400, 400, 400])
            #expect(responses[0].body.contains("malformed JSON"))
            #expect(responses[1].body.contains("gzip"))
            #expect(responses[2].body.contains("empty body"))
        }
    }

    @Test func aRequestSplitAnywhereIsPutTogether() async throws {
        try await withEnrolledHost { connection, nodeKey in
            let statusLine = #"{"severity":"0","filename":"x.cpp","line":"1","message":"split","unixTime":"1785845100"}"#
            let bytes = Array(
                (RawTLSConnection.post("/api/v1/osquery/log", #"{"node_key":"\#(nodeKey)","log_type":"status","data":[\#(statusLine)]}"#)
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#)).utf8)
            // Pieces of 1 to 7 bytes, each its own TLS record: every head and body boundary is cut somewhere.
            var offset = 0, size = 1
            while offset < bytes.count {
                let end = min(bytes.count, offset + size)
                connection.send(bytes: bytes[offset..<end])
                offset = end
                size = size % 7 + 1
            }
            let responses = try await connection.responses(2)
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses[0].body == "{}")
            #expect(responses[1].body.contains(#""queries""#))
        }
    }

    @Test func aHandedOverConnectionStillAnswersAgentRequests() async throws {
        try await withEnrolledHost { connection, nodeKey in
            // A chunked body is not osqueryd's shape: Hummingbird answers it, from the same endpoint
            // table, and every request after it on this connection.
            let body = #"{"node_key":"\#(nodeKey)"}"#
            let chunked = "POST /api/v1/osquery/distributed/read HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
            let statusLine = #"{"severity":"0","filename":"x.cpp","line":"1","message":"after hand-over","unixTime":"1785845100"}"#
            connection.send(
                RawTLSConnection.post("/api/v1/osquery/distributed/read", body) + chunked
                    + RawTLSConnection.post("/api/v1/osquery/distributed/read", body)
                    + RawTLSConnection.post("/api/v1/osquery/config", #"{"node_key":"wrong"}"#)
                    + RawTLSConnection.post("/api/v1/osquery/log", #"{"node_key":"\#(nodeKey)","log_type":"status","data":[\#(statusLine)]}"#))
            let responses = try await connection.responses(5)
            #expect(responses.map(\.status) == [200, 200, 200, 401, 200])
            #expect(responses[4].body == "{}")
            // The first read hands out the detail queries; the next two (answered by Hummingbird) see
            // them in flight, so they get the same, shorter answer.
            #expect(responses[0].body.contains("fleet_detail_query_"))
            #expect(responses[1].body == responses[2].body && responses[1].body.hasPrefix(#"{"queries":{"#), "\(responses[1].body)")
            #expect(responses[3].body.contains(#""node_invalid":true"#))
            #expect(responses.allSatisfy { $0.headers["content-type"] == "application/json" })
        }
    }

    @Test func anOversizedBodyPipelinedWithMoreIsSkipped() async throws {
        try await withEnrolledHost { connection, nodeKey in
            let padding = String(repeating: " ", count: 300 << 10)
            connection.send(
                RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"\#(padding)}"#)
                    + RawTLSConnection.post("/api/v1/osquery/config", #"{"node_key":"\#(nodeKey)"}"#))
            let responses = try await connection.responses(2)
            #expect(responses.map(\.status) == [413, 200])
            #expect(responses[1].body.contains(#""schedule""#) || responses[1].body.contains(#""packs""#))
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withEnrolledHost { connection, nodeKey in
            connection.send(RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(nodeKey)"}"#, extraHeaders: "Connection: close\r\n"))
            let answered = try await connection.responses(1)[0]
            #expect(answered.status == 200)
            let closed = try await connection.waitUntilClosed()
            #expect(closed)
        }
    }
}

/// A TLS connection that writes raw HTTP/1.1 and parses what comes back.
final class RawTLSConnection: Sendable {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    final class Inbox: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let closed = Atomic<Bool>(false)
        let handshakeDone = Atomic<Bool>(false)
    }

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            inbox.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
        func channelInactive(context: ChannelHandlerContext) {
            inbox.closed.store(true, ordering: .releasing)
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { inbox.handshakeDone.store(true, ordering: .releasing) }
            context.fireUserInboundEventTriggered(event)
        }
    }

    let channel: any Channel
    let inbox: Inbox

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// - Parameters:
    ///   - source: the local address to connect from (any of 127.0.0.0/8 on Linux).
    ///   - port: the port to connect to, the agent listener's by default.
    static func open(_ running: RunningServer, from source: String? = nil, port: Int? = nil) async throws -> RawTLSConnection {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(running.server.tlsFiles.caCertificatePath!.path)
        let context = try NIOSSLContext(configuration: tls)
        let inbox = Inbox()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SocketEnd(), name: SocketEnd.name)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(Collector(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port ?? running.addresses.agentPort).get()
        return RawTLSConnection(channel: channel, inbox: inbox)
    }

    /// Waits (at most 10 s) until the TLS handshake is done: a connection closed before that is
    /// let go by the server's TLS handler, whatever the HTTP side does.
    func handshake() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !inbox.handshakeDone.load(ordering: .acquiring) {
            if ContinuousClock.now > deadline || inbox.closed.load(ordering: .acquiring) {
                Issue.record("the TLS handshake did not complete")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    static func post(_ path: String, _ body: String, extraHeaders: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\(extraHeaders)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func send(_ text: String) {
        channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    func send(bytes: ArraySlice<UInt8>) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Closes the TCP connection without TLS close_notify, as a client that just drops its socket does.
    func closeAbruptly() async throws {
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.context(name: SocketEnd.name).close(promise: nil)
        }.get()
    }

    /// A do-nothing handler at the socket's end of the pipeline: closing from its context skips TLS.
    final class SocketEnd: ChannelOutboundHandler {
        typealias OutboundIn = Any
        static let name = "socket-end"
    }

    /// Shuts the write side (TLS close_notify, then TCP FIN) and keeps reading.
    func closeOutput() async throws {
        try await channel.close(mode: .output).get()
    }

    /// Enrolls a new host over this connection and returns its node key.
    func enroll() async throws -> String {
        let identifier = UUID().uuidString
        send(Self.post("/api/v1/osquery/enroll", #"{"enroll_secret":"\#(RunningServer.secret)","host_identifier":"\#(identifier)","platform_type":"21"}"#))
        let response = try await responses(1)[0]
        try #require(response.status == 200, "enroll answered \(response.status): \(response.body)")
        let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return try #require(object?["node_key"] as? String)
    }

    /// Waits (at most 10 s) for `count` complete responses, consumes and returns them.
    func responses(_ count: Int) async throws -> [Response] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let parsed: [Response]? = inbox.bytes.withLock { bytes in
                var responses: [Response] = []
                var offset = 0
                while responses.count < count, let (response, used) = Self.parse(bytes[offset...]) {
                    responses.append(response)
                    offset += used
                }
                guard responses.count == count else { return nil }
                bytes.removeFirst(offset)
                return responses
            }
            if let parsed { return parsed }
            if ContinuousClock.now > deadline || inbox.closed.load(ordering: .acquiring) {
                let text = inbox.bytes.withLock { String(decoding: $0, as: UTF8.self) }
                Issue.record("expected \(count) responses, got: \(text.prefix(2000))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Whether the server closes the connection within 5 s.
    func waitUntilClosed() async throws -> Bool {
        for _ in 0..<1000 {
            if inbox.closed.load(ordering: .acquiring) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// One response with a Content-Length body from the start of `bytes`, and its length.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (Response, Int)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd + separator.count
        guard bytes.endIndex - bodyStart >= length else { return nil }
        let body = String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self)
        return (Response(status: status, headers: headers, body: body), bodyStart + length - bytes.startIndex)
    }
}
