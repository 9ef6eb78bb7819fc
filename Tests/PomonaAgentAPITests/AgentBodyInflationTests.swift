import CompressNIO
import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import PomonaCore
import Synchronization
import Testing

@testable import PomonaAgentAPI

/// The shared budget for inflating bodies, as a plain value.
@Suite struct InflationBudgetTests {
    @Test func reservesUpToTheLimitAndNotAByteMore() {
        var budget = InflationBudget(limit: 100)
        do { let granted = budget.reserve(60); #expect(granted) }
        do { let granted = budget.reserve(40); #expect(granted) }
        #expect(budget.reserved == 100)
        do { let granted = budget.reserve(1); #expect(!granted, "over the limit") }
        #expect(budget.reserved == 100, "a refused reservation takes nothing")
        budget.release(40)
        do { let granted = budget.reserve(41); #expect(!granted) }
        do { let granted = budget.reserve(40); #expect(granted) }
        budget.release(100)
        #expect(budget.reserved == 0)
        do { let granted = budget.reserve(0); #expect(granted) }
    }

    @Test func aReservationLargerThanTheWholeBudgetIsRefusedEvenWhenEmpty() {
        var budget = InflationBudget(limit: 10)
        do { let granted = budget.reserve(11); #expect(!granted) }
        do { let granted = budget.reserve(10); #expect(granted) }
    }

    @Test func theSharedBudgetCountsRefusals() {
        let budget = SharedInflationBudget(limit: 8)
        do { let granted = budget.reserve(8); #expect(granted) }
        do { let granted = budget.reserve(1); #expect(!granted) }
        do { let granted = budget.reserve(2); #expect(!granted) }
        #expect(budget.refusedCount == 2)
        budget.release(8)
        #expect(budget.reserved == 0)
    }
}

/// ``AgentBody/prepare(_:coding:maxInflated:budget:)``: the exact cap, the budget, bad streams.
@Suite struct AgentBodyInflationTests {
    static func gzip(_ bytes: [UInt8]) throws -> ByteBuffer {
        var plain = ByteBuffer(bytes: bytes)
        return try plain.compress(with: .gzip())
    }

    static func gzip(repeating byte: UInt8, count: Int) throws -> ByteBuffer {
        var plain = ByteBuffer(repeating: byte, count: count)
        return try plain.compress(with: .gzip())
    }

    /// A gzip bomb: `mebibytes` MiB of spaces, compressed a MiB at a time (about 1 KB of gzip per MiB).
    static func bomb(mebibytes: Int) throws -> ByteBuffer {
        let compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
        var out = ByteBuffer()
        for i in 0..<mebibytes {
            var chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 1 << 20)
            var piece = try chunk.compressStream(with: compressor, flush: i == mebibytes - 1 ? .finish : .no)
            out.writeBuffer(&piece)
        }
        try compressor.finishStream()
        return out
    }

    static func unlimited() -> SharedInflationBudget { SharedInflationBudget(limit: Int.max) }

    /// A cap that is no power of two and no multiple of the inflation step, so neither hides an off-by-one.
    static let cap = 3 * AgentBody.inflationStep + 12_345

    @Test func aBodyOfExactlyTheCapIsAcceptedAndOneByteMoreIsTooLarge() throws {
        let exact = try AgentBody.prepare(Self.gzip(repeating: 0x61, count: Self.cap), coding: .gzip, maxInflated: Self.cap, budget: Self.unlimited())
        #expect(exact.buffer.readableBytes == Self.cap)
        #expect(exact.buffer.readableBytesView.allSatisfy { $0 == 0x61 })

        #expect(throws: AgentError.tooLarge("gzip body inflates to more than \(Self.cap) bytes")) {
            try AgentBody.prepare(Self.gzip(repeating: 0x61, count: Self.cap + 1), coding: .gzip, maxInflated: Self.cap, budget: Self.unlimited())
        }
    }

    @Test func theBoundaryHoldsWhenTheCapFallsOnAStep() throws {
        let cap = 4 * AgentBody.inflationStep
        #expect(try AgentBody.prepare(Self.gzip(repeating: 0, count: cap), coding: .gzip, maxInflated: cap, budget: Self.unlimited()).buffer.readableBytes == cap)
        #expect(throws: AgentError.self) {
            try AgentBody.prepare(Self.gzip(repeating: 0, count: cap + 1), coding: .gzip, maxInflated: cap, budget: Self.unlimited())
        }
    }

    /// The probe's finding: a 300 MiB bomb against the 256 MiB cap was answered 400, because the
    /// library's cap counted the buffer sizes it asked for while ByteBuffer allocated the next
    /// power of two, so the bomb inflated whole and then failed as JSON.
    @Test func aBombOverTheLogCapIsTooLargeNotMalformed() async throws {
        let f = try await AgentFixture()
        let bomb = try Self.bomb(mebibytes: 300)
        await #expect(throws: AgentError.tooLarge("gzip body inflates to more than \(256 << 20) bytes")) {
            try await f.service.log(body: bomb, contentEncoding: "gzip", authorization: nil)
        }
        #expect(f.service.bodyThread.budget.reserved == 0, "the bomb's share of the budget was given back")
    }

    @Test func aTruncatedStreamIsRefusedNotTakenForWhatItHeld() throws {
        var full = try Self.gzip(Array(#"{"log_type":"status","data":[]}"#.utf8))
        let cut = full.readSlice(length: full.readableBytes - 6)!  // the trailer's CRC and length
        #expect(throws: AgentError.badRequest("gzip body is truncated")) {
            try AgentBody.prepare(cut, coding: .gzip, maxInflated: 1 << 20, budget: Self.unlimited())
        }
    }

    @Test func concatenatedGzipMembersAreReadAsOneBody() throws {
        var both = try Self.gzip(Array("hello, ".utf8))
        var second = try Self.gzip(Array("world".utf8))
        both.writeBuffer(&second)
        let prepared = try AgentBody.prepare(both, coding: .gzip, maxInflated: 1 << 20, budget: Self.unlimited())
        #expect(String(buffer: prepared.buffer) == "hello, world")
    }

    @Test func garbageAfterTheStreamAndNonGzipAreBadRequests() throws {
        var trailing = try Self.gzip(Array("x".utf8))
        trailing.writeString("garbage")
        #expect(throws: AgentError.self) { try AgentBody.prepare(trailing, coding: .gzip, maxInflated: 1 << 20, budget: Self.unlimited()) }
        #expect(throws: AgentError.self) {
            try AgentBody.prepare(ByteBuffer(string: "not gzip"), coding: .gzip, maxInflated: 1 << 20, budget: Self.unlimited())
        }
        #expect(throws: AgentError.badRequest("empty gzip body")) {
            try AgentBody.prepare(ByteBuffer(), coding: .gzip, maxInflated: 1 << 20, budget: Self.unlimited())
        }
    }

    @Test func theBudgetIsChargedForWhatTheBufferHoldsAndGivenBackOnRefusal() throws {
        let size = 200_000
        let budget = SharedInflationBudget(limit: 1 << 20)
        let prepared = try AgentBody.prepare(Self.gzip(repeating: 7, count: size), coding: .gzip, maxInflated: 1 << 20, budget: budget)
        #expect(prepared.buffer.readableBytes == size)
        #expect(prepared.charged == size.nextPowerOfTwo, "ByteBuffer holds the next power of two")
        #expect(budget.reserved == prepared.charged)
        budget.release(prepared.charged)

        // Over the budget: refused as busy (osquery resends), nothing left reserved.
        let small = SharedInflationBudget(limit: 100_000)
        #expect(throws: AgentError.busy("the server is inflating too many compressed bodies at once; the agent will resend")) {
            try AgentBody.prepare(Self.gzip(repeating: 7, count: size), coding: .gzip, maxInflated: 1 << 20, budget: small)
        }
        #expect(small.reserved == 0)
        #expect(small.refusedCount == 1)

        // Too large: the same.
        #expect(throws: AgentError.self) {
            try AgentBody.prepare(Self.gzip(repeating: 7, count: size), coding: .gzip, maxInflated: size - 1, budget: budget)
        }
        #expect(budget.reserved == 0)
    }

    @Test func anIdentityBodyIsNotCopiedOrCharged() throws {
        let body = ByteBuffer(string: "{}")
        let budget = SharedInflationBudget(limit: 0)
        let prepared = try AgentBody.prepare(body, contentEncoding: "identity", maxInflated: 10, budget: budget)
        #expect(prepared.buffer == body)
        #expect(prepared.charged == 0)
        #expect(throws: AgentError.self) { try AgentBody.prepare(body, contentEncoding: "br", maxInflated: 10, budget: budget) }
    }

    @Test func onlyBodiesWhoseWorstCaseIsSmallAreLight() {
        let tiny = ByteBuffer(repeating: 0, count: 200)
        #expect(AgentBody.isLight(tiny, coding: .gzip, inflatedLimit: 256 << 20), "200 B can inflate to at most 206 KB")
        let kilobyte = ByteBuffer(repeating: 0, count: 1024)
        #expect(!AgentBody.isLight(kilobyte, coding: .gzip, inflatedLimit: 256 << 20), "1 KB can inflate to 1 MB")
        #expect(AgentBody.isLight(kilobyte, coding: .gzip, inflatedLimit: 256 << 10), "but never past the endpoint's cap")
        #expect(AgentBody.isLight(ByteBuffer(repeating: 0, count: 256 << 10), coding: .identity, inflatedLimit: 1 << 30))
        #expect(!AgentBody.isLight(ByteBuffer(repeating: 0, count: (256 << 10) + 1), coding: .identity, inflatedLimit: 1 << 30))
    }
}

/// Where and when `/log` bodies are inflated, through the endpoint table and the wire handler.
@Suite struct LogInflationPlacementTests {
    static func gzipLog(key: String?, lines: Int) throws -> ByteBuffer {
        let line = #"{"severity":"0","filename":"x.cpp","line":"1","message":"padding padding padding","unixTime":"1785845100"}"#
        let data = Array(repeating: line, count: lines).joined(separator: ",")
        let keyPart = key.map { #""node_key":"\#($0)","# } ?? ""
        return try AgentBodyInflationTests.gzip(Array(#"{\#(keyPart)"log_type":"status","data":[\#(data)]}"#.utf8))
    }

    /// The bomb the probe sent: 1 MB of gzip that inflates to 1 GB, here with a key in its
    /// header that no host has. It is refused by that key before a byte is inflated.
    @Test(.timeLimit(.minutes(1))) func aBombWithAnUnknownHeaderKeyIsRefusedWithoutInflating() async throws {
        let fixture = try await AgentFixture()
        let bomb = try AgentBodyInflationTests.bomb(mebibytes: 1024)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AgentWireHandlerTests.wireHandler(fixture))
        var request = ByteBuffer(
            string: "POST /api/v1/osquery/log HTTP/1.1\r\nHost: x\r\nAuthorization: NodeKey not-a-key\r\nContent-Encoding: gzip\r\n"
                + "Content-Length: \(bomb.readableBytes)\r\n\r\n")
        var body = bomb
        request.writeBuffer(&body)
        try channel.writeInbound(request)
        channel.embeddedEventLoop.run()  // the answer is written by a task the handler queued on its loop
        let answer = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(answer.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(answer.contains(#""node_invalid":true"#))
        #expect(fixture.service.bodyThread.inflations == 0)
        #expect(fixture.service.bodyThread.offloads == 0)
        _ = try? channel.finish()
    }

    /// The same bomb without a header key cannot be checked before inflating: it is inflated off
    /// the loop and stops at the cap as too large.
    @Test(.timeLimit(.minutes(1))) func aBombWithoutAHeaderKeyIsInflatedOffTheLoopAndStopsAtTheCap() async throws {
        let fixture = try await AgentFixture()
        let table = AgentEndpointTable(service: fixture.service)
        let endpoint = try #require(table.endpoint(target: "/api/v1/osquery/log"))
        let bomb = try AgentBodyInflationTests.bomb(mebibytes: 300)
        let answer = await table.answer(
            endpoint, body: bomb, headers: AgentRequestHeaders(authorization: nil, contentEncoding: "gzip", remoteIP: "192.0.2.1"),
            path: "/api/v1/osquery/log")
        #expect(answer.status == 413)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("inflates to more than"))
        #expect(fixture.service.bodyThread.inflations == 1)
        #expect(fixture.service.bodyThread.offloads == 1)
        #expect(fixture.service.bodyThread.budget.reserved == 0)
    }

    /// A real event loop reads a large gzip `/log`: the body is inflated and scanned on the body
    /// thread, never on the loop; the answer still waits for the sink's durability; a small one
    /// stays on the loop.
    @Test(.timeLimit(.minutes(1))) func largeBodiesAreInflatedOnTheBodyThreadNotTheEventLoop() async throws {
        let fixture = try await AgentFixture()
        let key = try await fixture.enroll()
        let appendedOnLoop = Mutex<[Bool]>([])
        fixture.sink.onAppend.withLock { $0 = { appendedOnLoop.withLock { $0.append(MultiThreadedEventLoopGroup.currentEventLoop != nil) } } }
        let table = AgentEndpointTable(service: fixture.service)
        let endpoint = try #require(table.endpoint(target: "/api/osquery/log"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let loop = group.next()

        func send(_ body: ByteBuffer, headers: AgentRequestHeaders) async -> AgentEndpoint.Answer {
            await withCheckedContinuation { (continuation: CheckedContinuation<AgentEndpoint.Answer, Never>) in
                loop.execute {
                    table.answer(endpoint, body: body, headers: headers, path: "/api/osquery/log") { continuation.resume(returning: $0) }
                }
            }
        }
        let large = try Self.gzipLog(key: nil, lines: 20_000)
        #expect(!AgentBody.isLight(large, coding: .gzip, inflatedLimit: fixture.service.limits.inflatedLog))
        let headers = AgentRequestHeaders(authorization: "NodeKey \(key)", contentEncoding: "gzip", remoteIP: "192.0.2.1")
        let answer = await send(large, headers: headers)
        #expect(answer.status == 200)
        #expect(fixture.sink.batches.withLock { $0.last?.lines.count } == 20_000)
        #expect(appendedOnLoop.withLock { $0 } == [false], "inflated and scanned off the event loop")
        #expect(fixture.service.bodyThread.offloads == 1)
        #expect(fixture.service.bodyThread.budget.reserved == 0, "given back once answered")

        let small = try Self.gzipLog(key: nil, lines: 1)
        #expect(small.readableBytes < 200)
        #expect(await send(small, headers: headers).status == 200)
        #expect(appendedOnLoop.withLock { $0 } == [false, true], "a light body stays on the loop")
        #expect(fixture.service.bodyThread.offloads == 1)
    }

    /// The budget stays charged until the log is durable, and a request that finds it spent is
    /// answered with an error body osquery retries.
    @Test(.timeLimit(.minutes(1))) func aSpentBudgetAnswersAnErrorBodyUntilTheHeldLogIsDurable() async throws {
        var limits = AgentBodyLimits()
        limits.inflationBudget = 4 << 20
        let fixture = try await AgentFixture(limits: limits)
        let key = try await fixture.enroll()
        fixture.sink.holding.withLock { $0 = true }
        let table = AgentEndpointTable(service: fixture.service)
        let endpoint = try #require(table.endpoint(target: "/api/osquery/log"))
        let headers = AgentRequestHeaders(authorization: "NodeKey \(key)", contentEncoding: "gzip", remoteIP: "192.0.2.1")
        let body = try Self.gzipLog(key: nil, lines: 20_000)  // about 2.4 MB inflated: 4 MiB of buffer
        let first = Mutex<AgentEndpoint.Answer?>(nil)
        // The sink is reached on the body thread; wait for it to hold the batch.
        await withCheckedContinuation { (appended: CheckedContinuation<Void, Never>) in
            fixture.sink.onAppend.withLock { $0 = { appended.resume() } }
            table.answer(endpoint, body: body, headers: headers, path: "/api/osquery/log") { answer in first.withLock { $0 = answer } }
        }
        fixture.sink.onAppend.withLock { $0 = nil }
        #expect(first.withLock { $0 } == nil, "not answered before it is durable")
        #expect(fixture.service.bodyThread.budget.reserved == 4 << 20)

        let second = await table.answer(endpoint, body: body, headers: headers, path: "/api/osquery/log")
        #expect(second.status == 503)
        #expect(String(decoding: second.body, as: UTF8.self).hasPrefix(#"{"error":"the server is inflating too many"#))

        fixture.sink.takeHeld().forEach { $0(.success(())) }
        #expect(first.withLock { $0?.status } == 200)
        #expect(fixture.service.bodyThread.budget.reserved == 0)
        fixture.sink.holding.withLock { $0 = false }
        #expect(await table.answer(endpoint, body: body, headers: headers, path: "/api/osquery/log").status == 200)
    }
}
