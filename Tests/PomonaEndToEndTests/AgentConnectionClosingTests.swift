import Foundation
import NIOCore
import PomonaServer
import Testing

/// Connections whose peer went away are let go at once, not after the idle timeout: a client
/// that connects, sends part or all of a request and closes must not leave the server holding
/// the socket (a probe left 999 of 1,000 such sockets open, and with the descriptor limit reached
/// real agents' handshakes timed out).
@Suite(.serialized) struct AgentConnectionClosingTests {
    @Test func connectSendCloseCyclesLeaveNoSocketsBehind() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        let port = running.addresses.agentPort
        let baseline = try ServerSockets.open(port: port)

        // Four shapes, 25 times each: a partial head, a whole request never read back, a request
        // Hummingbird answers (a handed-over connection), and a connection that sends nothing.
        let shapes = [
            "POST /api/v1/osquery/config HTTP/1.1\r\nHost: localhost\r\nContent-Le",
            RawTLSConnection.post("/api/v1/osquery/distributed/read", #"{"node_key":"nope"}"#),
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "",
        ]
        for round in 0..<25 {
            var connections: [RawTLSConnection] = []
            for shape in shapes {
                let connection = try await RawTLSConnection.open(running)
                try await connection.handshake()
                if !shape.isEmpty { connection.send(shape) }
                connections.append(connection)
            }
            // Let the server read what was sent before the close: only the first round waits.
            if round == 0 { _ = try await connections[2].responses(1) }
            // Half the time with TLS close_notify first, half dropping the socket (as the probe did).
            for connection in connections {
                if round.isMultiple(of: 2) { connection.close() } else { try await connection.closeAbruptly() }
            }
        }
        let remaining = try await ServerSockets.waitFor(port: port, atMost: baseline, within: .seconds(10))
        #expect(remaining <= baseline, "the server still holds \(remaining - baseline) closed connections")
    }

    /// A client may shut its write side right after a request: it gets the answer, then the
    /// server closes. (Enroll is answered by a task, so the answer is outstanding at the close.)
    @Test func aHalfClosedConnectionIsAnsweredThenClosed() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        for handedOver in [false, true] {
            let connection = try await RawTLSConnection.open(running)
            defer { connection.close() }
            let body = #"{"enroll_secret":"\#(RunningServer.secret)","host_identifier":"\#(UUID().uuidString)","platform_type":"21"}"#
            // `Connection: keep-alive, x` is not the fast path's shape: Hummingbird answers it.
            let extra = handedOver ? "Connection: keep-alive, x\r\n" : ""
            connection.send(RawTLSConnection.post("/api/v1/osquery/enroll", body, extraHeaders: extra))
            try await connection.closeOutput()
            let response = try await connection.responses(1)[0]
            #expect(response.status == 200, "\(response.body)")
            #expect(response.body.contains("node_key"))
            #expect(try await connection.waitUntilClosed(), "the server kept a half-closed connection (handed over: \(handedOver))")
        }
    }
}

/// The server's open TCP sockets on a port, from /proc/net/tcp{,6} (a socket whose descriptor
/// is still open has a non-zero inode; the listener itself is not counted).
enum ServerSockets {
    static func open(port: Int) throws -> Int {
        var count = 0
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, let colon = fields[1].lastIndex(of: ":") else { continue }
                let localPort = Int(fields[1][fields[1].index(after: colon)...], radix: 16)
                // 0A is LISTEN.
                if localPort == port, fields[3] != "0A", fields[9] != "0" { count += 1 }
            }
        }
        return count
    }

    /// Polls until at most `limit` sockets are open on `port`, or the time is up; returns the last count.
    static func waitFor(port: Int, atMost limit: Int, within timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let count = try open(port: port)
            if count <= limit || ContinuousClock.now > deadline { return count }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
