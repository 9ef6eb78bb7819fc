import NIOCore
import NIOEmbedded
import Testing

@testable import PomonaAgentAPI

/// `AgentWireHandler` on an embedded channel (its clock is the embedded loop's): requests that
/// do not arrive in time, and bodies over the shared budget.
@Suite struct AgentWireHandlerLimitsTests {
    typealias Support = AgentWireHandlerTests

    static let deadlines = RequestDeadlines(head: .seconds(30), bodyFloor: .seconds(10), bodyBytesPerSecond: 1000)

    static func channel(_ endpoints: AgentEndpointTable, behind: Support.Behind = Support.Behind()) throws -> EmbeddedChannel {
        let handover = AgentWireHandler.Handover(
            setUp: { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(behind) } },
            abandon: {})
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "192.0.2.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(AgentWireHandler(endpoints: endpoints, handover: handover, deadlines: deadlines))
        return channel
    }

    static func answer(_ channel: EmbeddedChannel) throws -> String? {
        try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
    }

    // MARK: Deadlines

    @Test func aTrickledHeadIsClosedAtItsDeadlineWhateverItSends() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service))
        let head = Array("POST /api/osquery/config HTTP/1.1\r\nHost: x\r\n".utf8)
        // One byte every 5 s: each would have reset an idle timer.
        for byte in head.prefix(6) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            channel.embeddedEventLoop.advanceTime(by: .seconds(4))
            #expect(channel.isActive)
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))  // 29 s after the first byte
        #expect(channel.isActive, "closed before the head's deadline")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "a trickled head outlived its deadline")
        _ = try? channel.finish()
    }

    @Test func aBodyIsGivenTheFloorPlusItsLengthAtTheMinimumRate() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service))
        // 20,000 bytes at 1000 B/s plus the 10 s floor: 30 s from the end of the head.
        let body = #"{"node_key":"nope""# + String(repeating: " ", count: 20_000 - 19) + "}"
        let request = Array(Support.post("/api/osquery/distributed/write", body).readableBytesView)
        let headEnd = request.count - 20_000
        try channel.writeInbound(ByteBuffer(bytes: request[..<(headEnd + 100)]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive, "closed before the body's deadline")
        try channel.writeInbound(ByteBuffer(bytes: request[(headEnd + 100)..<(headEnd + 200)]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "a trickled body outlived its deadline")
        _ = try? channel.finish()
    }

    @Test func aRequestInTimeIsAnsweredAndTheNextStartsItsOwnDeadline() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service))
        let request = Array(Support.post("/api/osquery/config", #"{"node_key":"nope"}"#).readableBytesView)
        try channel.writeInbound(ByteBuffer(bytes: request[..<20]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(25))
        try channel.writeInbound(ByteBuffer(bytes: request[20...]))
        #expect(try Self.answer(channel)?.contains("node_invalid") == true)
        // Idle between requests is the idle timeout's business, not the deadline's.
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(channel.isActive, "an idle connection was closed by a request deadline")
        try channel.writeInbound(ByteBuffer(bytes: request[..<20]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }

    @Test func aRefusedBodyIsDiscardedWithinTheSameDeadline() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service))
        // Over config's 256 KiB: refused, then its 300,000 bytes are discarded as they come.
        try channel.writeInbound(ByteBuffer(string: "POST /api/osquery/config HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n"))
        #expect(try Self.answer(channel)?.hasPrefix("HTTP/1.1 413") == true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10 + 300 - 1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "a refused body could be trickled for ever")
        _ = try? channel.finish()
    }

    @Test func aRefusedBodyTooLargeToBeWorthReadingClosesTheConnection() async throws {
        let fixture = try await AgentFixture()
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service))
        try channel.writeInbound(ByteBuffer(string: "POST /api/osquery/log HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(try Self.answer(channel)?.hasPrefix("HTTP/1.1 413") == true)
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }

    // MARK: Body budget

    static func bodyHead(_ path: String, length: Int, authorization: String? = nil) -> ByteBuffer {
        let auth = authorization.map { "Authorization: \($0)\r\n" } ?? ""
        return ByteBuffer(string: "POST \(path) HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: \(length)\r\n\r\n")
    }

    @Test func bodiesOverTheSharedBudgetAreAnsweredUnavailableAndTheBudgetComesBack() async throws {
        let fixture = try await AgentFixture()
        let free = BodyBudget.freeBytes
        let budget = BodyBudget(capacity: 200_000)
        let endpoints = AgentEndpointTable(service: fixture.service, bodyBudget: budget)
        let first = try Self.channel(endpoints)
        let second = try Self.channel(endpoints)

        // The first connection holds 70,000 bytes beyond the free allowance of a 200,000-byte
        // body, in a buffer of 128 KiB: that is what it is charged, bar the allowance.
        try first.writeInbound(Self.bodyHead("/api/v1/osquery/distributed/write", length: 200_000))
        try first.writeInbound(ByteBuffer(repeating: UInt8(ascii: " "), count: free + 70_000))
        let held = budget.inUse
        #expect(held > 70_000 && held <= (128 << 10) - free, "\(held)")
        #expect(try Self.answer(first) == nil)

        // The second would need as much again, more than is left.
        try second.writeInbound(Self.bodyHead("/api/v1/osquery/log", length: 200_000))
        try second.writeInbound(ByteBuffer(repeating: UInt8(ascii: " "), count: free + 70_000))
        let refused = try #require(try Self.answer(second))
        #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(refused.contains(#"{"error":"the server is receiving too many request bodies at once; retry later"}"#))
        #expect(budget.inUse == held, "the refused body kept its charge")
        #expect(second.isActive, "the rest of the refused body is discarded, the connection kept")

        // The first connection goes away: its share comes back.
        _ = try? first.finish()
        #expect(budget.inUse == 0)
        // The second finishes sending its refused body and can carry a request again.
        try second.writeInbound(ByteBuffer(repeating: UInt8(ascii: " "), count: 200_000 - free - 70_000))
        try second.writeInbound(Support.post("/api/v1/osquery/config", #"{"node_key":"nope"}"#))
        #expect(try Self.answer(second)?.contains("node_invalid") == true)
        _ = try? second.finish()
    }

    @Test func anAnsweredBodyGivesItsChargeBack() async throws {
        let fixture = try await AgentFixture()
        let key = try await fixture.enroll()
        let budget = BodyBudget(capacity: 1 << 20)
        try Self.answerALargeLog(fixture, key: key, budget: budget)
    }

    static func answerALargeLog(_ fixture: AgentFixture, key: String, budget: BodyBudget) throws {
        let channel = try Self.channel(AgentEndpointTable(service: fixture.service, bodyBudget: budget))
        let line = #"{"severity":"0","filename":"x.cpp","line":"1","message":"\#(String(repeating: "m", count: 40_000))","unixTime":"1785845100"}"#
        let request = Support.post("/api/v1/osquery/log", #"{"node_key":"\#(key)","log_type":"status","data":[\#(line)]}"#)
        var bytes = request
        let head = bytes.readSlice(length: 100)!
        try channel.writeInbound(head)
        try channel.writeInbound(bytes)
        channel.embeddedEventLoop.run()
        let answer = try #require(try Self.answer(channel))
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
        #expect(budget.inUse == 0, "an answered request kept its charge")
        _ = try? channel.finish()
    }

    @Test func aBodyAuthenticatedByItsNodeKeyHeaderIsNotCharged() async throws {
        let fixture = try await AgentFixture()
        let key = try await fixture.enroll()
        try Self.holdBodies(fixture, key: key)
    }

    static func holdBodies(_ fixture: AgentFixture, key: String) throws {
        let budget = BodyBudget(capacity: 10_000)
        let endpoints = AgentEndpointTable(service: fixture.service, bodyBudget: budget)
        let enrolled = try Self.channel(endpoints)
        try enrolled.writeInbound(Self.bodyHead("/api/v1/osquery/log", length: 200_000, authorization: "NodeKey \(key)"))
        try enrolled.writeInbound(ByteBuffer(repeating: UInt8(ascii: " "), count: 100_000))
        #expect(try Self.answer(enrolled) == nil, "an enrolled host's body was refused")
        #expect(budget.inUse == 0)

        let stranger = try Self.channel(endpoints)
        try stranger.writeInbound(Self.bodyHead("/api/v1/osquery/log", length: 200_000, authorization: "NodeKey not-a-key"))
        try stranger.writeInbound(ByteBuffer(repeating: UInt8(ascii: " "), count: 100_000))
        #expect(try Self.answer(stranger)?.hasPrefix("HTTP/1.1 503") == true, "an unknown node key is not authenticated")
        _ = try? enrolled.finish()
        _ = try? stranger.finish()
    }
}
