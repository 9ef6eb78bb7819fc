import Foundation
import NIOCore
import NIOHTTP1
import PomonaCore
import Synchronization
import Testing
@testable import PomonaPipeline

@Suite struct ElasticsearchBulkTests {
    func makeES(_ fake: FakeElasticsearch, _ edit: (inout ElasticsearchOutputConfiguration) -> Void = { _ in }) throws -> any EventOutput {
        var configuration = ElasticsearchOutputConfiguration(name: "es", url: fake.url)
        edit(&configuration)
        return try makeOutput(.elasticsearch(configuration))
    }

    @Test func indexPatternUsesTheEventsUTCDate() throws {
        let pattern = try IndexNamePattern("osquery-%Y.%m.%d-%H%%")
        #expect(pattern.name(at: 1_747_571_398.5) == "osquery-2025.05.18-12%")
        #expect(pattern.name(at: 0) == "osquery-1970.01.01-00%")
        #expect(pattern.name(at: 951_825_600) == "osquery-2000.02.29-12%", "leap day")
        #expect(try IndexNamePattern("constant").name(at: 5) == "constant")
    }

    @Test func wireFormatCreateWithStableIDAndRawSource() async throws {
        let fake = try await FakeElasticsearch.start()
        fake.state.withLock { $0.authorization = "Basic " + Data("elastic:secret".utf8).base64EncodedString() }
        let output = try makeES(fake) {
            $0.username = "elastic"
            $0.password = "secret"
            $0.indexes = ["osquery:status": "osquery-status-%Y.%m"]
        }
        var events = OutputTestEvents.results(2)
        events.append(OutputTestEvents.event("{\n  \"severity\": \"1\"\n}", sourcetype: "osquery:status", id: "st-1"))
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()

        #expect(result == .delivered)
        let request = try #require(fake.requests.first)
        #expect(request.uri.hasPrefix("/_bulk?filter_path="))
        #expect(request.headers.first(name: "content-type") == "application/x-ndjson")
        let lines = request.bodyText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7 && lines.last == "", "three action/source pairs and a final newline")
        #expect(lines[0] == #"{"create":{"_index":"osquery-2025.05.18","_id":"ev-0"}}"#)
        #expect(lines[1] == Substring(String(buffer: events[0].body)), "the source line is the event's own bytes")
        #expect(lines[4] == #"{"create":{"_index":"osquery-status-2025.05","_id":"st-1"}}"#)
        #expect(lines[5] == "{   \"severity\": \"1\" }", "raw line breaks (JSON whitespace) become spaces so the event stays one line")
        #expect(fake.documents.map(\.id) == ["ev-0", "ev-1", "st-1"])
    }

    @Test func apiKeyAuthAndGzip() async throws {
        let fake = try await FakeElasticsearch.start()
        fake.state.withLock { $0.authorization = "ApiKey a2V5OnNlY3JldA==" }
        let output = try makeES(fake) {
            $0.apiKey = "a2V5OnNlY3JldA=="
            $0.gzip = true
        }
        #expect(await output.send(OutputTestEvents.results(3)) == .delivered)
        await output.shutdown()
        await fake.stop()
        #expect(fake.requests.first?.wasGzipped == true)
        #expect(fake.documents.count == 3)
    }

    @Test func onlyItemsWith429Or5xxAreRetriedAnd409CountsAsDelivered() async throws {
        let fake = try await FakeElasticsearch.start()
        fake.state.withLock { $0.itemFailures = ["ev-1": [429], "ev-3": [503]] }
        let output = try makeES(fake)
        let events = OutputTestEvents.results(5)
        let first = await output.send(events)
        #expect(first.retry == [1, 3] && first.rejected.isEmpty && first.duplicates == 0)
        #expect(first.retryReason?.contains("es_rejected_execution_exception") == true)

        // The delivery loop resends the failed ones: created now.
        let retried = await output.send([events[1], events[3]])
        #expect(retried == .delivered)
        // A resend of everything (say after a crash before the checkpoint) cannot duplicate.
        let again = await output.send(events)
        #expect(again.retry.isEmpty && again.rejected.isEmpty && again.duplicates == 5)
        await output.shutdown()
        await fake.stop()
        #expect(fake.documents.map(\.id).sorted() == ["ev-0", "ev-1", "ev-2", "ev-3", "ev-4"])
    }

    @Test func mappingErrorsAreRejectedWithTheItemsReason() async throws {
        let fake = try await FakeElasticsearch.start()
        let output = try makeES(fake)
        var events = OutputTestEvents.results(3)
        events[1].body = ByteBuffer(string: "[1,2]")
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()
        #expect(result.rejected == [1: "Elasticsearch item 400 mapper_parsing_exception: failed to parse"])
        #expect(result.retry.isEmpty)
        #expect(fake.documents.map(\.id) == ["ev-0", "ev-2"])
    }

    @Test func wholeRequestAnswers() async throws {
        let fake = try await FakeElasticsearch.start()
        let output = try makeES(fake)
        let events = OutputTestEvents.results(4)

        fake.state.withLock { $0.script = [.status(429)] }
        let busy = await output.send(events)
        #expect(busy.retry == [0, 1, 2, 3] && !busy.configurationProblem)
        #expect(busy.retryReason?.contains("es_rejected_execution_exception") == true)

        fake.state.withLock { $0.script = [.status(401)] }
        let auth = await output.send(events)
        #expect(auth.retry == [0, 1, 2, 3] && auth.configurationProblem)

        // A whole-request 400 is bisected: the halves go through (resends are idempotent).
        fake.state.withLock { $0.script = [.status(400)] }
        #expect(await output.send(events) == .delivered)
        #expect(fake.requests.count == 5)
        await output.shutdown()
        await fake.stop()
        #expect(fake.documents.count == 4)
    }

    @Test func tooLargeIsSplitAndASingleOversizedEventRejected() async throws {
        let fake = try await FakeElasticsearch.start()
        fake.state.withLock { $0.maxContentLength = 1500 }
        let output = try makeES(fake)
        var events = OutputTestEvents.results(6)
        events[4].body = ByteBuffer(string: "{\"blob\":\"" + String(repeating: "y", count: 2000) + "\"}")
        let result = await output.send(events)
        await output.shutdown()
        await fake.stop()
        #expect(Array(result.rejected.keys) == [4] && result.rejected[4]?.hasPrefix("Elasticsearch 413") == true)
        #expect(result.retry.isEmpty)
        #expect(fake.documents.map(\.id).sorted() == ["ev-0", "ev-1", "ev-2", "ev-3", "ev-5"])
    }

    @Test func downReceiverRetriesAndComesBack() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let output = try makeOutput(.elasticsearch(ElasticsearchOutputConfiguration(name: "es", url: "http://127.0.0.1:\(port)")))
        #expect(await output.send(OutputTestEvents.results(2)).retry == [0, 1])
        await output.shutdown()
    }

    @Test func bulkResponseParsing() throws {
        let mixed = #"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},{"create":{"status":500,"error":{"type":"x","reason":"y"}}},{"create":{"status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}}]}"#
        let result = try BulkResponse.classify(ByteBuffer(string: mixed), count: 4)
        #expect(result.duplicates == 1 && result.retry == [2])
        #expect(result.rejected == [3: "Elasticsearch item 404 index_not_found_exception: no such index"])
        #expect(try BulkResponse.classify(ByteBuffer(string: #"{"errors":false}"#), count: 9) == .delivered)
        #expect(throws: BulkResponse.ParseFailure.self) { try BulkResponse.classify(ByteBuffer(string: #"{"errors":true,"items":[]}"#), count: 2) }
        #expect(throws: BulkResponse.ParseFailure.self) { try BulkResponse.classify(ByteBuffer(string: "<html>"), count: 1) }
    }
}
