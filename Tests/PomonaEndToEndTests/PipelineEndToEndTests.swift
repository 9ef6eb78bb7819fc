import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PomonaPipeline
import PomonaServer
import PomonaSimulator
import Testing

/// The real server: `/collector` and `/log` into the spool, delivered by the default file output
/// (`logs/{sourcetype}.log`), with the books balanced per input.
@Suite struct PipelineEndToEndTests {
    static let token = "end-to-end-collector-token-0001"

    static func collectorPost(_ server: RunningServer, body: String, token: String = PipelineEndToEndTests.token) async throws -> (HTTPResponseStatus, String, String?) {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try OsqueryAgentConfiguration.tlsConfiguration(trustingCAPEM: try server.caPEM)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: "\(server.baseURL)/collector")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(16))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.status, String(buffer: bytes), response.headers.first(name: "Retry-After"))
    }

    @Test func collectorAndLogEventsAreDeliveredAndAccounted() async throws {
        let server = try await RunningServer.start { configuration in
            configuration.pipeline.configuration.collector.sources = [.init(name: "edr", token: PipelineEndToEndTests.token)]
        }
        // Refusals first: nothing of these may be counted.
        #expect(try await Self.collectorPost(server, body: #"{"a":1}"#, token: "wrong-token-wrong-token").0 == .unauthorized)
        let bad = try await Self.collectorPost(server, body: "{\"a\":1}\n{\"a\":\n")
        #expect(bad.0 == .badRequest)
        #expect(bad.1.contains("line 2"))

        let ndjson = (0..<300).map { #"{"alert":\#($0),"severity":"high"}"# }.joined(separator: "\n")
        let accepted = try await Self.collectorPost(server, body: ndjson)
        #expect(accepted.0 == .ok)
        #expect(accepted.1 == #"{"accepted":300}"#)
        #expect(try await Self.collectorPost(server, body: #"[{"x":1},{"x":2}]"#).1 == #"{"accepted":2}"#)

        try await withAgentClient { client in
            let agent = try server.agent(index: 0)
            _ = try await agent.enroll()
            var lines = (0..<50).map { PomonaSimulator.JSONValue.object(["name": .string("pack_e2e"), "action": .string("added"), "columns": .object(["n": .string("\($0)")])]) }
            // A snapshot that found nothing: one marker event, counted like a row.
            lines.append(.object(["name": .string("pack_empty"), "action": .string("snapshot"), "snapshot": .array([])]))
            #expect(await agent.sendLogs(type: .result, lines: lines).delivered)
        }

        var stats = server.server.pipeline.stats()
        for _ in 0..<500 where stats.outputs[0].totals.stillSpooled.events > 0 || stats.outputs[0].totals.received.events < 353 {
            try await Task.sleep(for: .milliseconds(10))
            stats = server.server.pipeline.stats()
        }
        let metrics = try await Self.adminGet(server, path: "/metrics")
        await server.stop()
        let output = stats.outputs[0]
        #expect(output.name == "logs")
        #expect(output.byInput["edr"]?.received.events == 302)
        #expect(output.byInput["edr"]?.forwarded.events == 302)
        #expect(output.byInput["osquery"]?.forwarded.events == 51)
        #expect(output.totals.balances)
        #expect(stats.queries.first { $0.name == "pack_e2e" }?.events == 50)
        #expect(stats.queries.first { $0.name == "pack_empty" }?.events == 1)

        let collector = try String(contentsOf: server.dataDirectory.appendingPathComponent("logs/collector_edr.log"), encoding: .utf8)
        #expect(collector.split(separator: "\n").count == 302)
        let results = try String(contentsOf: server.dataDirectory.appendingPathComponent("logs/osquery_result.log"), encoding: .utf8)
        #expect(results.split(separator: "\n").filter { $0.contains("pack_e2e") }.count == 50)
        #expect(results.split(separator: "\n").filter { $0.contains("pack_empty") && $0.contains(#""snapshot_empty":true"#) }.count == 1)

        // The same books in Prometheus text: names as documented (no unit suffix added), help lines.
        #expect(metrics.contains("# HELP pomona_pipeline_events_total "))
        #expect(metrics.contains(#"pomona_pipeline_events_total{output="logs",input="edr",outcome="forwarded"} 302"#))
        #expect(metrics.contains(#"pomona_pipeline_events_total{output="logs",input="osquery",outcome="forwarded"} 51"#))
        #expect(metrics.contains("# TYPE pomona_spool_bytes gauge"))
        #expect(metrics.contains(#"pomona_output_retries_total{output="logs"} 0"#))
    }

    /// GET on the admin listener (which serves `/metrics` without a token, on loopback by default).
    static func adminGet(_ server: RunningServer, path: String) async throws -> String {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try OsqueryAgentConfiguration.tlsConfiguration(trustingCAPEM: try server.caPEM)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        let response = try await client.execute(HTTPClientRequest(url: "https://localhost:\(server.addresses.adminPort)\(path)"), timeout: .seconds(16))
        #expect(response.status == .ok)
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// A receiver that is down fills the spool; then `/collector` answers 503 with Retry-After and
    /// `/log` answers osquery an error body, so both senders keep their data. Nothing is dropped.
    @Test func fullSpoolPushesBackOnBothInputs() async throws {
        let yaml = """
            pipeline:
              spool: { max_bytes: 16MiB, segment_bytes: 1MiB }
              delivery: { drain_timeout: 500ms }
              collector:
                sources: [ { name: edr, token: \(PipelineEndToEndTests.token) } ]
              outputs:
                - { name: down, type: http, url: "http://127.0.0.1:9/unreachable" }
            """
        let pipeline = try PipelineConfiguration.load(yaml: yaml, source: "test")
        let server = try await RunningServer.start { $0.pipeline.configuration = pipeline }
        let event = #"{"pad":"\#(String(repeating: "p", count: 4000))"}"#
        let body = Array(repeating: event, count: 1000).joined(separator: "\n")  // ~4 MB
        var statuses: [HTTPResponseStatus] = []
        var retryAfter: String?
        for _ in 0..<6 {
            let (status, _, header) = try await Self.collectorPost(server, body: body)
            statuses.append(status)
            if status == .serviceUnavailable { retryAfter = header }
        }
        #expect(statuses.prefix(3).allSatisfy { $0 == .ok })
        #expect(statuses.last == .serviceUnavailable)
        #expect(retryAfter == "5")
        try await withAgentClient { client in
            let agent = try server.agent(index: 0)
            _ = try await agent.enroll()
            let lines = (0..<20).map { _ in PomonaSimulator.JSONValue.object(["name": .string("q"), "pad": .string(String(repeating: "x", count: 200_000))]) }
            let result = await agent.sendLogs(type: .result, lines: lines)
            #expect(!result.delivered, "the agent must keep its batch when the spool is full")
        }
        let stats = server.server.pipeline.stats()
        await server.stop()
        #expect(stats.spool.refusedAppends >= 2)
        #expect(stats.outputs[0].totals.dropped == .zero)
        #expect(stats.outputs[0].totals.received.events == Int64(statuses.filter { $0 == .ok }.count * 1000))
        #expect(stats.outputs[0].totals.balances)
    }
}
