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
        var inputClosedEvents = 0
        var bytes = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytes
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { quiesces += 1 }
            if let event = event as? ChannelEvent, event == .inputClosed { inputClosedEvents += 1 }
        }
    }

    /// What the handover did: how often the HTTP server was set up or the connection abandoned.
    final class HandoverLog {
        var setUps = 0
        var abandons = 0
    }

    /// A handler whose handover puts `behind` in the pipeline, as Hummingbird's handlers would be.
    static func wireHandler(_ fixture: AgentFixture, behind: Behind = Behind(), log: HandoverLog = HandoverLog()) -> AgentWireHandler {
        let handover = AgentWireHandler.Handover(
            setUp: { channel in
                log.setUps += 1
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(behind) }
            },
            abandon: { log.abandons += 1 })
        return AgentWireHandler(endpoints: AgentEndpointTable(service: fixture.service), handover: handover)
    }

    static func post(_ path: String, _ body: String) -> ByteBuffer {
        ByteBuffer(string: "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Runs `scenario` with an enrolled host's key and a sink that holds log batches until the
    /// test releases them (the scenario is synchronous: an embedded channel stays on one thread).
    static func withHeldLogs(_ scenario: (AgentFixture, String) throws -> Void) async throws {
        let fixture = try await AgentFixture()
        let key = try await fixture.enroll()
        fixture.sink.holding.withLock { $0 = true }
        try scenario(fixture, key)
    }

    /// Lets the one held log batch become durable and returns the answer written for it.
    static func releaseTheHeldLog(_ fixture: AgentFixture, _ channel: EmbeddedChannel) throws -> String {
        let held = fixture.sink.takeHeld()
        try #require(held.count == 1)
        held[0](.success(()))
        channel.embeddedEventLoop.run()
        return String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
    }

    @Test func aShutdownWaitsForTheLogAnswerInFlight() async throws {
        try await Self.withHeldLogs(Self.quiesceWhileALogIsAnswered)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func quiesceWhileALogIsAnswered(_ fixture: AgentFixture, key: String) throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let behind = Behind()
        let handovers = HandoverLog()
        try channel.pipeline.syncOperations.addHandler(wireHandler(fixture, behind: behind, log: handovers))
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        try channel.writeInbound(post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#))
        // The sink has the batch but has not made it durable: no answer yet.
        #expect(fixture.sink.batches.withLock { $0.count } == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        // Graceful shutdown: closing now would lose the acknowledgement of a stored log.
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive)
        // A request pipelined behind the log waits its turn.
        try channel.writeInbound(post("/api/v1/osquery/distributed/read", #"{"node_key":"\#(key)"}"#))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        let logAnswer = try releaseTheHeldLog(fixture, channel)
        #expect(logAnswer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(logAnswer.contains("\r\nContent-Length: 2\r\n"))
        #expect(logAnswer.hasSuffix("\r\n\r\n{}"))
        let readAnswer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(readAnswer.contains(#""queries""#))
        // Only now is the connection closed, after both answers; the HTTP server was never needed.
        #expect(!channel.isActive)
        #expect(handovers.setUps == 0)
        #expect(handovers.abandons == 1)
        #expect(behind.quiesces == 0)
        _ = try? channel.finish()
    }

    /// Hummingbird's handlers are added at the handover, and get every byte from there on; a
    /// quiesce then goes to them.
    @Test func theHTTPServerIsSetUpOnlyAtTheHandover() async throws {
        let fixture = try await AgentFixture()
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let behind = Behind()
        let handovers = HandoverLog()
        try channel.pipeline.syncOperations.addHandler(Self.wireHandler(fixture, behind: behind, log: handovers))
        try channel.writeInbound(Self.post("/api/osquery/config", #"{"node_key":"nope"}"#))
        #expect(String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self))).contains("node_invalid"))
        #expect(handovers.setUps == 0)

        let chunked = "POST /api/osquery/config HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: chunked))
        try channel.writeInbound(ByteBuffer(string: "5\r\nhello\r\n0\r\n\r\n"))
        #expect(handovers.setUps == 1)
        #expect(behind.bytes == chunked.utf8.count + "5\r\nhello\r\n0\r\n\r\n".utf8.count)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(behind.quiesces == 1)
        #expect(channel.isActive)
        _ = try? channel.finish()
        #expect(handovers.abandons == 0)
    }

    /// An idle connection that was never handed over is closed by a quiesce: no HTTP server
    /// behind it would do that.
    @Test func aQuiesceClosesAnIdleAgentConnection() async throws {
        let fixture = try await AgentFixture()
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let handovers = HandoverLog()
        try channel.pipeline.syncOperations.addHandler(Self.wireHandler(fixture, log: handovers))
        try channel.writeInbound(Self.post("/api/osquery/config", #"{"node_key":"nope"}"#))
        _ = try channel.readOutbound(as: ByteBuffer.self)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(handovers.abandons == 1)
        _ = try? channel.finish()
    }

    /// A connection that went quiet is closed, unless it is waiting for an answer of ours.
    @Test func anIdleConnectionIsClosedButNotWhileALogIsAnswered() async throws {
        try await Self.withHeldLogs(Self.idleEventsWhileAnsweringAndAfter)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func idleEventsWhileAnsweringAndAfter(_ fixture: AgentFixture, key: String) throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(wireHandler(fixture))
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        try channel.writeInbound(post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#))
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(channel.isActive, "closed while the log was being made durable")

        let answer = try releaseTheHeldLog(fixture, channel)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(channel.isActive)

        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "an idle connection stays open")
        _ = try? channel.finish()
    }

    /// A peer that sends a request and closes its side gets its answer, and the connection is
    /// closed at once instead of being held until the idle timeout.
    @Test func aClosedInputClosesTheConnectionAfterTheAnswer() async throws {
        let fixture = try await AgentFixture()
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let handovers = HandoverLog()
        try channel.pipeline.syncOperations.addHandler(Self.wireHandler(fixture, log: handovers))
        try channel.writeInbound(Self.post("/api/osquery/config", #"{"node_key":"nope"}"#))
        #expect(String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self))).contains("node_invalid"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "a half-closed connection was kept open")
        #expect(handovers.abandons == 1)
        _ = try? channel.finish()
    }

    /// Half of a request, then a closed input: nothing can complete it, so the connection goes.
    @Test func aClosedInputAfterAPartialRequestClosesTheConnection() async throws {
        let fixture = try await AgentFixture()
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(Self.wireHandler(fixture))
        try channel.writeInbound(ByteBuffer(string: "POST /api/osquery/log HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{\"node"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        // No answer: only the empty write that orders the close after earlier writes.
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes ?? 0 == 0)
        #expect(!channel.isActive, "a half-closed connection was kept open")
        _ = try? channel.finish()
    }

    /// A closed input while a log is being made durable: the acknowledgement still goes out,
    /// and only then is the connection closed.
    @Test func aClosedInputWaitsForTheLogAnswerInFlight() async throws {
        try await Self.withHeldLogs(Self.inputClosedWhileALogIsAnswered)
    }

    /// Synchronous: an embedded channel must stay on one thread.
    static func inputClosedWhileALogIsAnswered(_ fixture: AgentFixture, key: String) throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(wireHandler(fixture))
        let status = #"{"severity":"0","filename":"x.cpp","line":"1","message":"m","unixTime":"1785845100"}"#
        try channel.writeInbound(post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(status)]}"#))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        #expect(channel.isActive, "closed before the stored log was acknowledged")

        let answer = try releaseTheHeldLog(fixture, channel)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "a half-closed connection was kept open after its answer")
        _ = try? channel.finish()
    }

    @Test func aFailedAppendIsAnsweredWithAnErrorBodyOsqueryKeeps() async throws {
        let fixture = try await AgentFixture()
        let key = try await fixture.enroll()
        fixture.sink.failing.withLock { $0 = true }
        let answer = try Self.answerOne(fixture, Self.post("/api/osquery/log", #"{"node_key":"\#(key)","log_type":"result","data":[{"name":"q"}]}"#))
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(answer.contains(#"{"error":"logs could not be stored durably"#))
    }

    static func answerOne(_ fixture: AgentFixture, _ request: ByteBuffer) throws -> String {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(wireHandler(fixture))
        try channel.writeInbound(request)
        channel.embeddedEventLoop.run()
        let answer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        _ = try? channel.finish()
        return answer
    }
}
