import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PomonaAgentAPI
import PomonaCore
import PomonaPipeline
import PomonaServer
import PomonaSimulator
import PomonaStore
import Testing

/// The osquery agent API end to end: a real server over TLS, driven the way osqueryd drives it.
@Suite(.serialized) struct AgentLifecycleTests {
    @Test func enrollConfigDistributedLogsAndCarve() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        try await withAgentClient { client in
            let agent = try running.agent(index: 1, platform: .darwin)

            // Enroll (implicitly, as osqueryd's config plugin does) and fetch the config.
            let config = try await agent.fetchConfig()
            let nodeKey = await agent.nodeKey
            #expect(nodeKey != nil)
            let globalQueries = try #require(config.config["packs"]?.objectValue?["Global"]?.objectValue?["queries"]?.objectValue)
            #expect(globalQueries.contains("apps"), "the macOS baseline is served to a darwin host")
            #expect(config.config["options"]?.objectValue?["pack_delimiter"] == .string("/"))

            // The host record exists with vitals from host_details.
            let host = try #require(try await running.server.store.host(id: 1))
            #expect(host.vitals.platform == "darwin")
            #expect(host.osqueryHostID == HostProfile(seed: 42, index: 1, platform: .darwin).hardwareUUID)

            // First distributed round: detail queries with acceleration, answered and ingested.
            let run = try await agent.runDistributedOnce()
            #expect(run.work.queries.contains { $0.name == "fleet_detail_query_system_info" })
            #expect(run.wrote)
            let refreshed = try #require(try await running.server.store.host(id: 1))
            #expect(refreshed.detailUpdatedAt != nil)
            #expect(refreshed.vitals.hostname != nil)
            #expect(refreshed.vitals.osqueryVersion == "5.23.1")
            #expect(!(try await running.server.store.software(hostID: 1)).isEmpty)

            // Idle read: nothing pending, the constant empty answer.
            let idle = try await agent.distributedRead()
            #expect(idle.queries.isEmpty)

            // Result logs (event format and snapshot) and gzip status logs, durable before the ack.
            let formatter = await agent.logFormatter()
            let now: Int64 = 1_785_845_100
            var lines = formatter.eventLines(name: "pack/Global/apps", added: [["name": "Safari", "path": "/Applications/Safari.app"]], removed: [], unixTime: now, counter: 1)
            lines.append(formatter.snapshotLine(name: "pack/Global/alf", rows: [["global_state": "1"]], unixTime: now))
            let results = await agent.sendLogs(type: .result, lines: lines)
            #expect(results.delivered)
            let status = await agent.sendLogs(type: .status, lines: [formatter.statusLine(severity: .info, filename: "scheduler.cpp", line: 83, message: "Executing scheduled query", unixTime: now)], gzip: true)
            #expect(status.delivered)
            // Acknowledged = durable in the spool; the default file output writes the files just after.
            for _ in 0..<500 where running.server.pipeline.stats().outputs[0].totals.stillSpooled.events > 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            let resultFile = try String(contentsOf: running.dataDirectory.appendingPathComponent("logs/osquery_result.log"), encoding: .utf8)
            #expect(resultFile.split(separator: "\n").count == 2)
            #expect(resultFile.contains(#""name":"pack/Global/apps""#))
            let statusFile = try String(contentsOf: running.dataDirectory.appendingPathComponent("logs/osquery_status.log"), encoding: .utf8)
            #expect(statusFile.contains("Executing scheduled query"))

            // Carve: only one asked for. A carve query is queued for the host, which answers it with
            // the carve's guid (osquery's SCHEDULED row); then the upload, blocks in order, reassembled.
            let payload = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let unrequested = await #expect(throws: (any Error).self) { try await agent.carve(data: payload, blockSize: 16_384) }
            #expect(unrequested != nil)
            #expect(try await running.server.store.carves().isEmpty, "a carve nobody asked for is not stored")
            let carveQuery = LiveQueryName.name(campaignID: 9001)
            running.server.registry.enqueue(name: carveQuery, sql: "SELECT * FROM carves WHERE carve = 1 AND path LIKE '/var/log/%'", hostIDs: [1])
            let guid = "6f4a2c1e-0b5d-4e8f-9a7c-3d2e1f0a9b8c"
            #expect(try await agent.distributedRead().queries.contains { $0.name == carveQuery })
            try await agent.distributedWrite(results: [carveQuery: .rows([["carve_guid": guid, "status": "SCHEDULED", "carve": "1"]])])
            let carve = try await agent.carve(data: payload, blockSize: 16_384, carveID: guid)
            #expect(carve.blockCount == 4)
            let stored = try #require(try await running.server.store.carves().first)
            #expect(stored.completedAt != nil)
            #expect(try await running.server.store.carveArchive(id: stored.id) == payload)
        }
    }

    @Test func deletedHostGetsNodeInvalidAndReEnrolls() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        try await withAgentClient { client in
            let agent = try running.agent(index: 2, platform: .linux, endpoints: .v1)
            _ = try await agent.fetchConfig()
            let firstKey = await agent.nodeKey
            #expect(await agent.enrollRequestCount == 1)

            // An admin deletes the host: its key is now unknown, so osquery must re-enroll.
            try await running.server.store.deleteHost(id: 1)
            running.server.registry.remove(hostID: 1)
            _ = try await agent.fetchConfig()
            #expect(await agent.enrollRequestCount == 2)
            #expect(await agent.nodeKey != firstKey)
            #expect(try await running.server.store.hostCount() == 1)
        }
    }

    @Test func reEnrollBurstsKeepOneHostRecord() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        try await withAgentClient { client in
            let agents = try (0..<3).map { _ in try running.agent(index: 3, platform: .windows) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in agents { group.addTask { _ = try await agent.enroll() } }
                try await group.waitForAll()
            }
            #expect(try await running.server.store.hostCount() == 1)
            // Only the newest key works; the others get node_invalid and would re-enroll.
            var working = 0
            for agent in agents {
                if (try? await agent.distributedRead()) != nil { working += 1 }
            }
            #expect(working >= 1)
        }
    }

    @Test func registryAndKeysSurviveARestart() async throws {
        let first = try await RunningServer.start()
        let directory = first.dataDirectory
        let nodeKey: String? = try await withAgentClient { client in
            let agent = try first.agent(index: 4, platform: .darwin)
            _ = try await agent.fetchConfig()
            return await agent.nodeKey
        }
        await first.stop()
        #expect(try await Datastore(path: directory.appendingPathComponent("pomona.sqlite").path).integrityCheck() == "ok")

        let second = try await RunningServer.start(dataDirectory: directory)
        defer { Task { await second.stop() } }
        try await withAgentClient { client in
            let agent = try second.agent(index: 4, platform: .darwin)
            // The same identity with the old key: no re-enrollment needed after a restart.
            let raw = try await RawAgentRequest.post(
                client: client, url: second.baseURL + "/api/osquery/config", body: #"{"node_key":"\#(nodeKey ?? "")"}"#, caPEM: second.caPEM)
            #expect(raw.status == .ok)
            #expect(raw.body.contains(#""packs""#))
            #expect(await agent.enrollRequestCount == 0)
        }
    }

    @Test func enrollSecretRotation() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        let store = running.server.store
        let newSecret = "rotated-secret-0123456789abcdef"
        _ = try await store.addEnrollSecret(newSecret, name: "2026-q4")
        _ = try await store.revokeEnrollSecret(RunningServer.secret)
        try await running.server.configState.refresh()
        try await withAgentClient { client in
            let old = try OsqueryAgent(
                profile: HostProfile(seed: 1, index: 5, platform: .linux), configuration: try running.agentConfiguration())
            await #expect(throws: (any Error).self) { try await old.enroll() }
            let new = try OsqueryAgent(
                profile: HostProfile(seed: 1, index: 6, platform: .linux),
                configuration: try running.agentConfiguration(secret: newSecret))
            _ = try await new.enroll()
        }
    }
}

/// Bad input over the wire: every failure is a JSON error body osquery understands, never a crash.
@Suite(.serialized) struct AgentBadInputTests {
    @Test func malformedAndOversizedBodiesGetErrorBodies() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        try await withAgentClient { client in
            let ca = try running.caPEM
            let base = running.baseURL
            let cases: [(path: String, body: String, status: HTTPResponseStatus, fragment: String)] = [
                ("/api/osquery/enroll", "{", .badRequest, "malformed JSON"),
                ("/api/osquery/enroll", #"{"enroll_secret":"wrong","host_identifier":"x"}"#, .unauthorized, "node_invalid"),
                ("/api/osquery/config", #"{"node_key":"unknown"}"#, .unauthorized, #""node_invalid":true"#),
                ("/api/v1/osquery/distributed/read", "[]", .badRequest, "must be a JSON object"),
                ("/api/osquery/log", #"{"node_key":"unknown","log_type":"result","data":[]}"#, .unauthorized, "node_invalid"),
                ("/api/osquery/config", String(repeating: " ", count: 300_000), .payloadTooLarge, "exceeds"),
            ]
            for c in cases {
                let response = try await RawAgentRequest.post(client: client, url: base + c.path, body: c.body, caPEM: ca)
                #expect(response.status == c.status, "\(c.path) \(c.body.prefix(40))")
                #expect(response.body.hasPrefix(#"{"error":"#), "\(response.body)")
                #expect(response.body.contains(c.fragment), "\(response.body)")
            }
            let health = try await RawAgentRequest.get(client: client, url: base + "/healthz?check=db", caPEM: ca)
            #expect(health.status == .ok)
            #expect(health.body.contains(#""db":"ok""#))
            #expect(!health.body.contains("hosts"), "the network-facing listener does not disclose host counts")
            let admin = try await RawAgentRequest.get(client: client, url: "https://localhost:\(running.addresses.adminPort)/healthz", caPEM: ca)
            #expect(admin.body.contains(#""hosts":0"#) && admin.body.contains("online_hosts"))
        }
    }
}

/// Plain HTTPS requests for what the simulator deliberately does not do (malformed bodies).
enum RawAgentRequest {
    struct Response {
        var status: HTTPResponseStatus
        var body: String
    }

    static func post(client: HTTPClient, url: String, body: String, caPEM: String) async throws -> Response {
        try await send(url: url, method: .POST, body: body, caPEM: caPEM)
    }

    static func get(client: HTTPClient, url: String, caPEM: String, headers: [(String, String)] = []) async throws -> Response {
        try await send(url: url, method: .GET, body: nil, caPEM: caPEM, headers: headers)
    }

    private static func send(url: String, method: HTTPMethod, body: String?, caPEM: String, headers: [(String, String)] = []) async throws -> Response {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try OsqueryAgentConfiguration.tlsConfiguration(trustingCAPEM: caPEM)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(16))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return Response(status: response.status, body: String(buffer: bytes))
    }
}
