import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import PomonaCore
import PomonaServer
import PomonaSimulator
import PomonaStore
import Testing

/// Labels, policies and a live query end to end: a real server over TLS, simulated osqueryd agents
/// answering from their datasets, and the management API over HTTPS (SSE included).
@Suite(.serialized) struct LiveQueryEndToEndTests {
    /// A small HTTPS client for the admin listener, trusting the server's CA.
    struct Admin {
        let client: HTTPClient
        let base: String
        var token = ""

        init(running: RunningServer) throws {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(try running.caPEM.utf8)))
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.httpVersion = .http1Only
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            base = "https://localhost:\(running.addresses.adminPort)"
        }

        func request(_ method: HTTPMethod, _ path: String, body: String? = nil) -> HTTPClientRequest {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            if !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            return request
        }

        func call(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: Int, json: PomonaCore.JSONValue) {
            let response = try await client.execute(request(method, path, body: body), timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), (try? PomonaCore.JSONValue.parse(Array(bytes.readableBytesView))) ?? .null)
        }
    }

    @Test func labelsPoliciesAndALiveQueryAcrossAFleet() async throws {
        let running = try await RunningServer.start()
        defer { Task { await running.stop() } }
        var admin = try Admin(running: running)
        let adminClient = admin.client
        defer { Task { try? await adminClient.shutdown() } }
        let setup = try await admin.call(.POST, "/api/v1/setup", body: #"{"name":"Admin","email":"admin@example.com","password":"correct-horse-42!"}"#)
        try #require(setup.status == 200, "\(setup)")
        admin.token = try #require(setup.json["token"]?.stringValue)

        try await withAgentClient { client in
            let platforms: [OsqueryPlatformName] = [.darwin, .linux, .windows, .darwin, .linux]
            let agents = try platforms.enumerated().map { try running.agent(index: $0.offset + 1, platform: $0.element) }
            // First round: enroll, vitals, and the built-in label queries (every label: platform unknown yet).
            for agent in agents {
                _ = try await agent.fetchConfig()
                let run = try await agent.runDistributedOnce()
                #expect(run.work.queries.contains { $0.name.hasPrefix("fleet_label_query_") })
            }

            // A policy reaches every host on its next read; pass/fail follows each host's answer.
            let policy = try await admin.call(
                .POST, "/api/v1/fleet/global/policies", body: #"{"name":"root account","query":"SELECT 1 FROM users WHERE uid = '0';"}"#)
            try #require(policy.status == 200, "\(policy)")
            let policyID = try #require(policy.json["policy"]?["id"]?.intValue)
            var expectedPass = 0
            for agent in agents {
                let run = try await agent.runDistributedOnce()
                let name = "fleet_policy_query_\(policyID)"
                let answer = try #require(run.answers[name], "policy handed out")
                if !answer.rows.isEmpty { expectedPass += 1 }
                // Answered: the next read is idle again.
                #expect(try await agent.distributedRead().queries.isEmpty)
            }
            let listed = try await admin.call(.GET, "/api/v1/fleet/global/policies")
            let counts = listed.json["policies"]?.arrayValue?.first
            #expect(counts?["passing_host_count"]?.intValue == expectedPass)
            #expect(counts?["failing_host_count"]?.intValue == agents.count - expectedPass)

            // Label membership matches what each host answered to the built-in "All Hosts" query.
            let allHosts = try #require(try await running.server.store.label(named: "All Hosts"))
            var expectedMembers = 0
            for agent in agents where !(await agent.profile).answer(name: "fleet_label_query_\(allHosts.id)", sql: allHosts.query).rows.isEmpty {
                expectedMembers += 1
            }
            #expect(try await running.server.store.hostIDs(inLabel: allHosts.id).count == expectedMembers)

            // A live query on every host, results over Server-Sent Events.
            let created = try await admin.call(
                .POST, "/api/v1/fleet/queries/run", body: #"{"query":"SELECT * FROM osquery_info;","selected":{"all":true}}"#)
            try #require(created.status == 200, "\(created)")
            let campaign = try #require(created.json["campaign"]?["id"]?.intValue)
            #expect(created.json["campaign"]?["metrics"]?["total_hosts"]?.intValue == agents.count)
            let stream = try await admin.client.execute(admin.request(.GET, "/api/v1/fleet/queries/run/\(campaign)/stream"), timeout: .seconds(60))
            #expect(stream.headers.first(name: "Content-Type") == "text/event-stream")
            async let events: String = {
                var text = ""
                for try await buffer in stream.body {
                    text += String(buffer: buffer)
                    if text.contains("event: done\n") && text.hasSuffix("\n\n") { break }
                }
                return text
            }()
            for agent in agents {
                let run = try await agent.runDistributedOnce()
                #expect(run.answers["fleet_distributed_query_\(campaign)"] != nil)
            }
            let text = try await events
            #expect(text.components(separatedBy: "event: result\n").count - 1 == agents.count)
            #expect(text.contains(#""version":"5.23.1""#))
            #expect(text.contains(#""hostname":"mac-00001.corp.example.com""#))
            #expect(text.contains(#""reason":"all_responded""#))
            for agent in agents { #expect(try await agent.distributedRead().queries.isEmpty, "answered: no longer pending") }

            let stored = try await admin.call(.GET, "/api/v1/fleet/queries/run/\(campaign)")
            #expect(stored.json["results"]?.arrayValue?.count == agents.count)
            let activities = try await admin.call(.GET, "/api/v1/fleet/activities")
            #expect(activities.json["activities"]?.arrayValue?.contains { $0["type"] == .string("live_query") } == true)
        }
    }
}
