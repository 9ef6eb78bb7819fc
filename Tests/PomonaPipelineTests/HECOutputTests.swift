import Foundation
import NIOCore
import NIOHTTP1
import PomonaCore
import Synchronization
import Testing
@testable import PomonaPipeline

@Suite struct HECOutputTests {
    func makeHEC(_ fake: FakeSplunkHEC, _ edit: (inout SplunkHECOutputConfiguration) -> Void = { _ in }) throws -> any EventOutput {
        var configuration = SplunkHECOutputConfiguration(name: "splunk", url: fake.url, token: fake.token)
        edit(&configuration)
        return try makeOutput(.splunkHEC(configuration))
    }

    @Test func wireFormatEnvelopesAndRawEventBytes() async throws {
        let fake = try await FakeSplunkHEC.start()
        let output = try makeHEC(fake) {
            $0.index = "osquery"
            $0.indexes = ["osquery:status": "osquery_status"]
            $0.sourcetypes = ["osquery:result": "osquery:results"]
            $0.eventIDField = "pomona_id"
        }
        var events = OutputTestEvents.results(2)
        events.append(OutputTestEvents.event(#"{"severity":"0","message":"hi"}"#, sourcetype: "osquery:status", id: "st-1", host: ""))
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()

        #expect(result == .delivered)
        #expect(fake.requests.count == 1)
        let request = try #require(fake.requests.first)
        #expect(request.path == "/services/collector/event")
        #expect(request.headers.first(name: "authorization") == "Splunk \(fake.token)")
        #expect(UUID(uuidString: request.headers.first(name: "x-splunk-request-channel") ?? "") != nil)
        let indexed = fake.indexed
        #expect(indexed.count == 3)
        #expect(indexed[0].envelope["time"] == .number("1747571398.123"))
        #expect(indexed[0].envelope["host"]?.stringValue == "mac-0")
        #expect(indexed[0].envelope["source"]?.stringValue == "pomona")
        #expect(indexed[0].envelope["sourcetype"]?.stringValue == "osquery:results")
        #expect(indexed[0].envelope["index"]?.stringValue == "osquery")
        #expect(indexed[0].envelope["fields"]?["pomona_id"]?.stringValue == "ev-0")
        #expect(indexed[0].rawEvent == String(buffer: events[0].body), "event bytes are forwarded untouched")
        #expect(indexed[2].envelope["host"] == nil, "an empty host is left to HEC's default")
        #expect(indexed[2].envelope["index"]?.stringValue == "osquery_status")
        #expect(indexed[2].envelope["sourcetype"]?.stringValue == "osquery:status")
    }

    @Test func gzipBodiesAndBatchesCutAtMaxBytes() async throws {
        let fake = try await FakeSplunkHEC.start()
        let output = try makeHEC(fake) {
            $0.gzip = true
            $0.common.batch.maxBytes = 2000
        }
        let events = OutputTestEvents.results(20)
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()
        #expect(result == .delivered)
        #expect(fake.indexed.map { $0.envelope["host"]?.stringValue } == events.map(\.host))
        #expect(fake.requests.count > 1, "20 events of ~300 bytes do not fit one 2,000-byte request")
        #expect(fake.requests.allSatisfy { $0.wasGzipped && $0.body.readableBytes <= 2000 && $0.wireBytes < $0.body.readableBytes })
    }

    @Test func invalidEventNumberRejectsOnlyThatEventAndResendsTheRestOnce() async throws {
        let fake = try await FakeSplunkHEC.start()
        fake.state.withLock { $0.allowedIndexes = ["osquery"] }
        // Event 2 goes to an index the token may not write (code 7), event 4 is blank (code 13).
        let output = try makeHEC(fake) {
            $0.index = "osquery"
            $0.indexes = ["bad:index": "forbidden"]
        }
        var events = OutputTestEvents.results(7)
        events[2].sourcetype = "bad:index"
        events[4].body = ByteBuffer(string: "\"\"")
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()

        #expect(Set(result.rejected.keys) == [2, 4])
        #expect(result.rejected[2]?.contains("code 7") == true)
        #expect(result.rejected[4]?.contains("code 13") == true)
        #expect(result.retry.isEmpty)
        // Every good event indexed exactly once: nothing before a bad event was sent twice.
        #expect(fake.indexed.map { $0.envelope["host"]?.stringValue ?? "" } == ["mac-0", "mac-1", "mac-3", "mac-5", "mac-6"])
        #expect(fake.requests.count == 3)
    }

    @Test func concurrentSendsShareTheClient() async throws {
        let fake = try await FakeSplunkHEC.start()
        let output = try makeHEC(fake) { $0.common.concurrency = 4 }
        #expect(output.batchLimits == OutputBatchLimits(maxEvents: 5000, maxBytes: 1_000_000, concurrency: 4, flushTimeout: .milliseconds(200)))
        async let a = output.send(OutputTestEvents.results(50, start: 0))
        async let b = output.send(OutputTestEvents.results(50, start: 50))
        async let c = output.send(OutputTestEvents.results(50, start: 100))
        let results = await [a, b, c]
        await output.shutdown()
        await fake.stop()
        #expect(results.allSatisfy { $0 == .delivered })
        #expect(Set(fake.indexed.compactMap { $0.envelope["host"]?.stringValue }) == Set((0..<150).map { "mac-\($0)" }))
    }

    @Test func busyServerRetriesEverythingAndIndexesNothing() async throws {
        let fake = try await FakeSplunkHEC.start()
        fake.script(.busy)
        let output = try makeHEC(fake)
        let first = await output.send(OutputTestEvents.results(3))
        #expect(first.retry == [0, 1, 2] && first.rejected.isEmpty && !first.configurationProblem)
        #expect(first.retryReason?.contains("code 9") == true)
        #expect(fake.indexed.isEmpty)
        let second = await output.send(OutputTestEvents.results(3))
        #expect(second == .delivered)
        #expect(fake.indexed.count == 3)
        await output.shutdown()
        await fake.stop()
    }

    @Test func wrongOrDisabledTokenIsAConfigurationProblemNotADeadLetter() async throws {
        let fake = try await FakeSplunkHEC.start()
        let wrong = try makeHEC(fake) { $0.token = "not-the-token" }
        let result = await wrong.send(OutputTestEvents.results(2))
        #expect(result.retry == [0, 1] && result.rejected.isEmpty && result.configurationProblem)
        #expect(result.retryReason == "HEC 403 code 4: Invalid token")
        await wrong.shutdown()

        fake.state.withLock { $0.tokenDisabled = true }
        let disabled = try makeHEC(fake)
        let second = await disabled.send(OutputTestEvents.results(1))
        #expect(second.configurationProblem && second.retryReason == "HEC 403 code 1: Token disabled")
        await disabled.shutdown()
        await fake.stop()
        #expect(fake.indexed.isEmpty)
    }

    @Test func tooLargeRequestsAreSplitAndAnOversizedEventRejected() async throws {
        let fake = try await FakeSplunkHEC.start()
        fake.state.withLock { $0.maxContentLength = 1200 }
        let output = try makeHEC(fake)
        var events = OutputTestEvents.results(6)
        events[3].body = ByteBuffer(string: "{\"blob\":\"" + String(repeating: "x", count: 3000) + "\"}")
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()
        #expect(Set(result.rejected.keys) == [3])
        #expect(result.rejected[3]?.hasPrefix("HEC 413") == true)
        #expect(result.retry.isEmpty)
        #expect(Set(fake.indexed.compactMap { $0.envelope["host"]?.stringValue }) == ["mac-0", "mac-1", "mac-2", "mac-4", "mac-5"])
        #expect(fake.indexed.count == 5)
    }

    @Test func receiverDownOrDroppingOrSlowMeansRetry() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let down = try makeOutput(.splunkHEC(SplunkHECOutputConfiguration(name: "s", url: "http://127.0.0.1:\(port)", token: "t")))
        let refused = await down.send(OutputTestEvents.results(2))
        #expect(refused.retry == [0, 1] && refused.retryReason != nil)
        await down.shutdown()

        let fake = try await FakeSplunkHEC.start()
        fake.script(.drop, .slow(.seconds(5)))
        let output = try makeHEC(fake) { $0.common.timeoutSeconds = 0.5 }
        let dropped = await output.send(OutputTestEvents.results(2))
        #expect(dropped.retry == [0, 1])
        let slow = await output.send(OutputTestEvents.results(2))
        #expect(slow.retry == [0, 1] && slow.retryReason == "timeout")
        await output.shutdown()
        await fake.stop()
    }

    @Test func tlsWithCustomCAVerifiesAndAnUnknownCAFails() async throws {
        let pki = try OutputTestPKI.writeFiles()
        let fake = try await FakeSplunkHEC.start(tls: true)
        let trusted = try makeHEC(fake) { $0.tls.caFile = pki.ca }
        #expect(await trusted.send(OutputTestEvents.results(1)) == .delivered)
        await trusted.shutdown()

        let untrusted = try makeHEC(fake) { $0.tls.caFile = pki.otherCA }
        let refused = await untrusted.send(OutputTestEvents.results(1))
        #expect(refused.retry == [0])
        #expect(refused.retryReason?.contains("TLS") == true || refused.retryReason?.lowercased().contains("certificate") == true)
        await untrusted.shutdown()

        let systemRoots = try makeHEC(fake)
        #expect(await systemRoots.send(OutputTestEvents.results(1)).retry == [0], "verification is on by default")
        await systemRoots.shutdown()

        let insecure = try makeHEC(fake) { $0.tls.insecureSkipVerify = true }
        #expect(await insecure.send(OutputTestEvents.results(1)) == .delivered)
        await insecure.shutdown()
        await fake.stop()
        #expect(fake.indexed.count == 2)
    }
}
