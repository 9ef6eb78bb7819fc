import Foundation
import NIOCore
import NIOPosix
import PomonaServer
import Synchronization
import Testing

/// The listeners' bounds on a real server: connections per address, TLS handshake and idle
/// deadlines, and the Hummingbird side of the agent listener (chunked bodies).
@Suite(.serialized) struct ListenerLimitsEndToEndTests {
    @Test func connectionsOverThePerAddressLimitAreRefusedBeforeTheHandshake() async throws {
        let running = try await RunningServer.start { $0.agentConnectionsPerAddress = 3 }
        defer { Task { await running.stop() } }
        var held: [RawTLSConnection] = []
        for _ in 0..<3 {
            let connection = try await RawTLSConnection.open(running, from: "127.0.0.2")
            try await connection.handshake()
            held.append(connection)
        }
        let refused = try await RawTLSConnection.open(running, from: "127.0.0.2")
        #expect(try await refused.handshakeOrClose() == false, "a fourth connection from one address was served")
        // Another address, and the machine's own 127.0.0.1, are not held back.
        let other = try await RawTLSConnection.open(running, from: "127.0.0.3")
        #expect(try await other.handshakeOrClose())
        for _ in 0..<5 {
            let local = try await RawTLSConnection.open(running)
            #expect(try await local.handshakeOrClose())
            local.close()
        }
        // A closed connection gives its place back (once the server has seen the close).
        held.removeFirst().close()
        var admitted = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !admitted && ContinuousClock.now < deadline {
            let again = try await RawTLSConnection.open(running, from: "127.0.0.2")
            admitted = try await again.handshakeOrClose()
            again.close()
        }
        #expect(admitted, "a closed connection's place was not given back")
        for connection in held + [other] { connection.close() }
    }

    @Test func aConnectionThatNeverCompletesItsHandshakeIsClosed() async throws {
        let running = try await RunningServer.start {
            $0.agentHandshakeTimeout = 1
            $0.adminHandshakeTimeout = 1
        }
        defer { Task { await running.stop() } }
        for port in [running.addresses.agentPort, running.addresses.adminPort] {
            // TCP only: not even a ClientHello.
            let silent = try await PlainTCPConnection.open(port: port)
            #expect(try await silent.waitUntilClosed(within: .seconds(10)), "port \(port) kept a connection without a handshake")
        }
    }

    @Test func anIdleAdminConnectionIsClosed() async throws {
        // Below the YAML range (30 s): set directly so that the test need not wait.
        let running = try await RunningServer.start { $0.adminIdleTimeout = 1 }
        defer { Task { await running.stop() } }
        let connection = try await RawTLSConnection.open(running, port: running.addresses.adminPort)
        connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try await connection.responses(1)[0].status == 200)
        #expect(try await connection.waitUntilClosed(), "an idle admin connection was kept")
    }

    /// Hummingbird has no head or body deadline of its own: a client that hands its connection
    /// over with a request of another shape is held to the same deadlines.
    @Test func requestsTrickledOnAHandedOverConnectionRunOutOfTime() async throws {
        let running = try await RunningServer.start {
            $0.agentHeaderTimeout = 1
            $0.agentBodyTimeout = 1
            $0.agentBodyMinRateKiB = 1
        }
        defer { Task { await running.stop() } }
        let trickles = [
            // A head that never ends.
            "GET /heal",
            // A chunked body that stops after its first chunk.
            "POST /api/v1/osquery/log HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
            // A body shorter than its length.
            "POST /api/v1/osquery/log HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, x\r\nContent-Length: 100\r\n\r\n{}",
        ]
        for trickle in trickles {
            let connection = try await RawTLSConnection.open(running)
            defer { connection.close() }
            connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(try await connection.responses(1)[0].status == 200)
            connection.send(trickle)
            #expect(try await connection.waitUntilClosed(), "kept a handed-over connection trickling \(trickle.debugDescription)")
        }
    }

    @Test func aMalformedChunkedBodyIsABadRequest() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        let connection = try await RawTLSConnection.open(running)
        defer { connection.close() }
        connection.send(
            "POST /api/v1/osquery/log HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        let response = try await connection.responses(1)[0]
        #expect(response.status == 400, "\(response.status) \(response.body)")
        #expect(response.body.hasPrefix(#"{"error":"the request body could not be read"#))
    }

    @Test func aChunkedBodyOverTheBudgetIsAnsweredUnavailable() async throws {
        let running = try await RunningServer.start { $0.agentBodyBudgetMB = 1 }
        defer { Task { await running.stop() } }
        let connection = try await RawTLSConnection.open(running)
        defer { connection.close() }
        // 2 MiB in 64 KiB chunks, with no node key: Hummingbird's route charges it as it comes.
        var request = "POST /api/v1/osquery/distributed/write HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        let chunk = String(repeating: " ", count: 64 << 10)
        for _ in 0..<32 { request += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
        request += "0\r\n\r\n"
        connection.send(request)
        let response = try await connection.responses(1)[0]
        #expect(response.status == 503, "\(response.status) \(response.body)")
        #expect(response.body.contains("too many request bodies"))
    }
}

extension RawTLSConnection {
    /// Whether the TLS handshake completes (true) or the server closes first (false), within 10 s.
    func handshakeOrClose() async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if inbox.handshakeDone.load(ordering: .acquiring) { return true }
            if inbox.closed.load(ordering: .acquiring) { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("neither a handshake nor a close within 10 s")
        return false
    }
}

/// A TCP connection that sends nothing and notes when the server closes it.
final class PlainTCPConnection: Sendable {
    final class ClosedFlag: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closed = Atomic<Bool>(false)
        func channelInactive(context: ChannelHandlerContext) { closed.store(true, ordering: .releasing) }
    }

    let channel: any Channel
    let flag: ClosedFlag

    private init(channel: any Channel, flag: ClosedFlag) {
        self.channel = channel
        self.flag = flag
    }

    static func open(port: Int) async throws -> PlainTCPConnection {
        let flag = ClosedFlag()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(flag) } }
            .connect(host: "127.0.0.1", port: port).get()
        return PlainTCPConnection(channel: channel, flag: flag)
    }

    func waitUntilClosed(within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if flag.closed.load(ordering: .acquiring) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        channel.close(promise: nil)
        return false
    }
}
