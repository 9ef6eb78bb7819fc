import NIOCore
import NIOEmbedded
import Testing

@testable import PomonaAgentAPI

/// A peer that closes its side (TCP FIN, TLS close_notify) can send no more requests: the
/// connection must not wait for the idle timeout. (Remote half-closure is allowed on the agent
/// listener, so the channel stays open until a handler closes it.)
@Suite struct AgentWireHandlerInputClosedTests {
    typealias Support = AgentWireHandlerTests

    static func connectedChannel(_ handler: AgentWireHandler) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(handler)
        return channel
    }

    @Test func aClosedInputWhileSkippingARefusedBodyClosesTheConnection() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.connectedChannel(Support.wireHandler(fixture))
        let head = "POST /api/osquery/config HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 20)\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: head + String(repeating: " ", count: 100)))
        #expect(String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self))).hasPrefix("HTTP/1.1 413"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }

    /// The peer may half-close right after its requests: it still gets their answers, in order,
    /// then the close. (A closed input at once, or after one answer: `AgentWireHandlerTests`.)
    @Test func aClosedInputWhileALogIsAnsweredClosesRightAfterTheAnswersPipelined() async throws {
        try await Support.withHeldLogs(Self.closeInputWhileALogIsAnswered)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func closeInputWhileALogIsAnswered(_ fixture: AgentFixture, key: String) throws {
        let handovers = Support.HandoverLog()
        let channel = try connectedChannel(Support.wireHandler(fixture, log: handovers))
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        // A log, and a read pipelined behind it, then the peer's write side closes.
        try channel.writeInbound(
            Support.post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#).appendingBuffer(
                Support.post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(key)"}"#)))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        #expect(channel.isActive, "closed before the stored log was acknowledged")

        let logAnswer = try Support.releaseTheHeldLog(fixture, channel)
        #expect(logAnswer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let readAnswer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(readAnswer.contains(#""queries""#))
        #expect(!channel.isActive, "a half-closed connection is kept open after its answers")
        #expect(handovers.setUps == 0)
        _ = try? channel.finish()
    }

    /// After a handover the event goes to Hummingbird's handlers (which answer what they have read
    /// and close: `AgentConnectionTests` checks that over TLS), after the bytes that preceded it.
    @Test func aClosedInputAfterTheHandoverGoesToTheHTTPServer() async throws {
        let fixture = try await AgentFixture()
        let behind = Support.Behind()
        let channel = try Self.connectedChannel(Support.wireHandler(fixture, behind: behind))
        let chunked = "POST /api/osquery/config HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: chunked))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(behind.bytes == chunked.utf8.count)
        #expect(behind.inputClosedEvents == 1)
        _ = try? channel.finish()
    }
}

extension ByteBuffer {
    fileprivate func appendingBuffer(_ other: ByteBuffer) -> ByteBuffer {
        var copy = self
        var other = other
        copy.writeBuffer(&other)
        return copy
    }
}
