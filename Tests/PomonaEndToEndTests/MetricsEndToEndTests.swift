import Foundation
import NIOHTTP1
import PomonaServer
import PomonaSimulator
import Testing

@Suite struct MetricsEndToEndTests {
    /// `/metrics` behind `metrics.token` counts agent requests per endpoint and status with their
    /// latency, admin requests per route, and the hosts; `/readyz` answers on both listeners.
    @Test func metricsCountAgentRequestsAndReadyzAnswers() async throws {
        let token = "metrics-token-0123456789"
        let running = try await RunningServer.start { $0.metricsToken = token }
        defer { Task { await running.stop() } }
        try await withAgentClient { client in
            let agent = try running.agent(index: 1, platform: .darwin)
            _ = try await agent.fetchConfig()  // enroll + config
            let ca = try running.caPEM
            let admin = "https://localhost:\(running.addresses.adminPort)"

            let refused = try await RawAgentRequest.get(client: client, url: admin + "/metrics", caPEM: ca)
            #expect(refused.status == .unauthorized)
            let wrong = try await RawAgentRequest.get(client: client, url: admin + "/metrics", caPEM: ca, headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == .unauthorized)
            let scrape = try await RawAgentRequest.get(client: client, url: admin + "/metrics", caPEM: ca, headers: [("Authorization", "Bearer " + token)])
            #expect(scrape.status == .ok)
            let lines = Set(scrape.body.split(separator: "\n").map(String.init))
            for expected in [
                #"pomona_agent_requests_total{endpoint="/enroll",status="200"} 1"#,
                #"pomona_agent_requests_total{endpoint="/config",status="200"} 1"#,
                #"pomona_agent_request_duration_seconds_count{endpoint="/config"} 1"#,
                #"pomona_agent_request_duration_seconds_bucket{endpoint="/config",le="+Inf"} 1"#,
                #"pomona_admin_requests_total{route="/metrics",method="GET",status="401"} 2"#,
                "pomona_hosts_enrolled 1",
                #"pomona_hosts{status="online"} 1"#,
                #"pomona_health_part_working{part="store writer"} 1"#,
                "# TYPE pomona_agent_request_duration_seconds histogram",
                "# TYPE pomona_store_write_latency_seconds histogram",
            ] {
                #expect(lines.contains(expected), "missing: \(expected)")
            }
            #expect(scrape.body.contains("process_resident_memory_bytes "))
            #expect(scrape.body.contains("pomona_spool_bytes "), "the pipeline's metrics are still there")

            let agentReady = try await RawAgentRequest.get(client: client, url: running.baseURL + "/readyz", caPEM: ca)
            #expect(agentReady.status == .ok)
            #expect(agentReady.body == #"{"status":"ready"}"#, "the network-facing listener gives no details")
            let adminReady = try await RawAgentRequest.get(client: client, url: admin + "/readyz", caPEM: ca)
            #expect(adminReady.status == .ok)
            #expect(adminReady.body == #"{"status":"ready","database":"ok","spool":"ok","outputs":"ok"}"#)
        }
    }
}
