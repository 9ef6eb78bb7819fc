import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import PomonaAgentAPI

/// `AgentWireHandler` on an embedded channel: what it holds back while an answer is outstanding.
/// (Its behaviour over real TLS connections is in `AgentConnectionTests`.)
@Suite struct AgentWireHandlerTests {
    /// Records what reaches the HTTP server's side of the pipeline.
    final class Behind: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var quiesces = 0
        var bytes = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytes
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { quiesces += 1 }
        }
    }

    static func post(_ path: String, _ body: String) -> ByteBuffer {
        ByteBuffer(string: "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    @Test func aShutdownWaitsForTheLogAnswerInFlight() async throws {
        let fixture = try AgentFixture()
        let key = try await fixture.enroll()
        fixture.sink.holding.withLock { $0 = true }
        try Self.quiesceWhileALogIsAnswered(fixture, key: key)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func quiesceWhileALogIsAnswered(_ fixture: AgentFixture, key: String) throws {
        let channel = EmbeddedChannel()
        let behind = Behind()
        try channel.pipeline.syncOperations.addHandler(AgentWireHandler(endpoints: AgentEndpointTable(service: fixture.service)))
        try channel.pipeline.syncOperations.addHandler(behind)
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        try channel.writeInbound(post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#))
        // The sink has the batch but has not made it durable: no answer yet.
        #expect(fixture.sink.batches.withLock { $0.count } == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        // Graceful shutdown: Hummingbird would close this "idle" connection at once.
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(behind.quiesces == 0)
        // A request pipelined behind the log waits its turn.
        try channel.writeInbound(post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(key)"}"#))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        let held = fixture.sink.takeHeld()
        try #require(held.count == 1)
        held[0](.success(()))
        channel.embeddedEventLoop.run()
        let logAnswer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(logAnswer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(logAnswer.contains("\r\nContent-Length: 2\r\n"))
        #expect(logAnswer.hasSuffix("\r\n\r\n{}"))
        let readAnswer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(readAnswer.contains(#""queries""#))
        // Only now is the quiesce passed on; nothing was handed to the HTTP server.
        #expect(behind.quiesces == 1)
        #expect(behind.bytes == 0)
        _ = try? channel.finish()
    }

    /// A connection that went quiet is closed, unless it is waiting for an answer of ours.
    @Test func anIdleConnectionIsClosedButNotWhileALogIsAnswered() async throws {
        let fixture = try AgentFixture()
        let key = try await fixture.enroll()
        fixture.sink.holding.withLock { $0 = true }
        try Self.idleEventsWhileAnsweringAndAfter(fixture, key: key)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func idleEventsWhileAnsweringAndAfter(_ fixture: AgentFixture, key: String) throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(AgentWireHandler(endpoints: AgentEndpointTable(service: fixture.service)))
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        try channel.writeInbound(post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#))
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(channel.isActive, "closed while the log was being made durable")

        let held = fixture.sink.takeHeld()
        try #require(held.count == 1)
        held[0](.success(()))
        channel.embeddedEventLoop.run()
        let answer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(channel.isActive)

        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "an idle connection stays open")
        _ = try? channel.finish()
    }

    @Test func aFailedAppendIsAnsweredWithAnErrorBodyOsqueryKeeps() async throws {
        let fixture = try AgentFixture()
        let key = try await fixture.enroll()
        fixture.sink.failing.withLock { $0 = true }
        let answer = try Self.answerOne(fixture, Self.post("/api/osquery/log", #"{"node_key":"\#(key)","log_type":"result","data":[{"name":"q"}]}"#))
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(answer.contains(#"{"error":"logs could not be stored durably"#))
    }

    static func answerOne(_ fixture: AgentFixture, _ request: ByteBuffer) throws -> String {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AgentWireHandler(endpoints: AgentEndpointTable(service: fixture.service)))
        try channel.writeInbound(request)
        channel.embeddedEventLoop.run()
        let answer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        _ = try? channel.finish()
        return answer
    }
}
