import NIOCore
import NIOHTTP1
import Synchronization
import Testing
@testable import PomonaPipeline

@Suite struct HTTPOutputTests {
    /// A webhook that answers from a list of scripted statuses (then 200).
    func startHook(_ answers: [FakeHTTPResponse]) async throws -> FakeHTTPServer {
        let script = Mutex(answers)
        return try await FakeHTTPServer.start { _ in
            script.withLock { $0.isEmpty ? .json(200, "{}") : $0.removeFirst() }
        }
    }

    func makeHook(_ server: FakeHTTPServer, _ edit: (inout HTTPOutputConfiguration) -> Void = { _ in }) throws -> any EventOutput {
        var configuration = HTTPOutputConfiguration(name: "hook", url: server.url + "/ingest")
        edit(&configuration)
        return try makeOutput(.http(configuration))
    }

    @Test func postsNDJSONWithConfiguredHeaders() async throws {
        let server = try await startHook([])
        let output = try makeHook(server) { $0.headers = ["Authorization": "Bearer xyz", "X-Source": "pomona"] }
        let events = OutputTestEvents.results(3)
        #expect(await output.send(events) == .delivered)
        await output.shutdown()
        await server.stop()
        let request = try #require(server.requests.first)
        #expect(request.method == .POST && request.path == "/ingest")
        #expect(request.headers.first(name: "content-type") == "application/x-ndjson")
        #expect(request.headers.first(name: "authorization") == "Bearer xyz")
        #expect(request.headers.first(name: "x-source") == "pomona")
        #expect(request.bodyText == events.map { String(buffer: $0.body) + "\n" }.joined())
    }

    @Test func gzipBody() async throws {
        let server = try await startHook([])
        let output = try makeHook(server) { $0.gzip = true }
        let events = OutputTestEvents.results(10)
        #expect(await output.send(events) == .delivered)
        await output.shutdown()
        await server.stop()
        let request = try #require(server.requests.first)
        #expect(request.wasGzipped && request.headers.first(name: "content-encoding") == "gzip")
        #expect(request.bodyText == events.map { String(buffer: $0.body) + "\n" }.joined())
    }

    @Test func statusClassification() async throws {
        let server = try await startHook([
            .json(429, "{}", headers: [("Retry-After", "7")]),
            .json(503, "down"),
            .json(400, "bad request"),
            .json(401, "who are you"),
            .json(404, "no such hook"),
            .json(202, ""),
        ])
        let output = try makeHook(server)
        let events = OutputTestEvents.results(2)
        let throttled = await output.send(events)
        #expect(throttled.retry == [0, 1] && throttled.retryAfter == 7 && !throttled.configurationProblem)
        let unavailable = await output.send(events)
        #expect(unavailable.retry == [0, 1] && unavailable.retryReason == "HTTP 503: down")
        let refused = await output.send(events)
        #expect(refused.rejected == [0: "HTTP 400: bad request", 1: "HTTP 400: bad request"] && refused.retry.isEmpty)
        let unauthorized = await output.send(events)
        #expect(unauthorized.retry == [0, 1] && unauthorized.configurationProblem)
        let missing = await output.send(events)
        #expect(missing.retry == [0, 1] && missing.configurationProblem)
        #expect(await output.send(events) == .delivered)
        await output.shutdown()
        await server.stop()
    }

    @Test func tooLargeSplitsInHalves() async throws {
        let server = try await FakeHTTPServer.start { request in
            request.body.readableBytes > 800 ? .json(413, "too large") : .json(200, "{}")
        }
        let output = try makeHook(server)
        let events = OutputTestEvents.results(8)
        #expect(await output.send(events) == .delivered)
        await output.shutdown()
        await server.stop()
        let delivered = server.requests.filter { $0.body.readableBytes <= 800 }.map(\.bodyText).joined()
        #expect(delivered == events.map { String(buffer: $0.body) + "\n" }.joined(), "every event once, in order")
    }

    @Test func connectionRefusedAndTimeoutAreRetried() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let down = try makeOutput(.http(HTTPOutputConfiguration(name: "hook", url: "http://127.0.0.1:\(port)/")))
        #expect(await down.send(OutputTestEvents.results(1)).retry == [0])
        await down.shutdown()

        var slowAnswer = FakeHTTPResponse.json(200, "{}")
        slowAnswer.delay = .seconds(5)
        let server = try await startHook([slowAnswer])
        let output = try makeHook(server) { $0.common.timeoutSeconds = 0.3 }
        let slow = await output.send(OutputTestEvents.results(2))
        #expect(slow.retry == [0, 1] && slow.retryReason == "timeout")
        await output.shutdown()
        await server.stop()
    }
}
