import Foundation
import NIOHTTP1
import PomonaCore
import Synchronization
import Testing

@testable import PomonaSimulator

/// How the simulator holds and reuses connections: like osqueryd's per-thread keep-alive clients
/// (spec §6.4), seen from the server's side.
@Suite("AgentTransport", .serialized)
struct AgentTransportTests {
    /// Runs `body` with agents of one transport against a canned server: the TLS tests' fake
    /// Fleet, its answers passed through `override`.
    func withServer(
        policy: AgentTransport.ConnectionPolicy = .perAgentThread,
        override: @escaping @Sendable (CannedTLSServer.Request, CannedTLSServer.Response) -> CannedTLSServer.Response = { $1 },
        _ body: (CannedTLSServer, @escaping (Int) -> OsqueryAgent) async throws -> Void
    ) async throws {
        let state = OsqueryAgentTLSTests.ServerState()
        let standard = OsqueryAgentTLSTests.responder(state)
        let server = try await CannedTLSServer.start { request in override(request, standard(request)) }
        var configuration = try OsqueryAgentConfiguration(
            baseURL: "https://localhost:\(server.port)", caPEM: TestCertificates.caPEM, enrollSecret: "s3cret")
        configuration.sleep = { _ in }
        configuration.requestTimeout = .seconds(5)
        let transport = try AgentTransport(tlsConfiguration: configuration.tlsConfiguration, policy: policy)
        let agents = Mutex<[OsqueryAgent]>([])
        let make = { (index: Int) -> OsqueryAgent in
            let agent = OsqueryAgent(
                profile: HostProfile(seed: 3, index: index, platform: .darwin), configuration: configuration, transport: transport)
            agents.withLock { $0.append(agent) }
            return agent
        }
        do {
            try await body(server, make)
        } catch {
            try? await server.shutdown()
            throw error
        }
        for agent in agents.withLock({ $0 }) { await agent.disconnect() }
        transport.shutdown()
        try await server.shutdown()
    }

    @Test func eachAgentThreadKeepsItsOwnConnection() async throws {
        try await withServer { server, agent in
            let host = agent(1)
            _ = try await host.enroll()
            _ = try await host.fetchConfig()
            _ = try await host.runDistributedOnce()
            _ = try await host.runDistributedOnce()
            _ = await host.sendLogs(type: .result, lines: [.object(["name": "q"])])
            _ = await host.sendLogs(type: .status, lines: [.object(["line": "1"])])
            _ = try await host.fetchConfig()

            let byConnection = Dictionary(grouping: server.requests, by: \.connection).mapValues { $0.map(\.path) }
            #expect(server.connectionsAccepted == 3)
            #expect(byConnection[1] == ["/api/osquery/enroll", "/api/osquery/config", "/api/osquery/config"])
            #expect(byConnection[2] == Array(repeating: ["/api/osquery/distributed/read", "/api/osquery/distributed/write"], count: 2).flatMap { $0 })
            #expect(byConnection[3] == ["/api/osquery/log", "/api/osquery/log"])
        }
    }

    @Test func aSharedPoolCarriesEveryAgentOverItsConnections() async throws {
        try await withServer(policy: .shared(1)) { server, agent in
            for index in 0..<3 {
                let host = agent(index)
                _ = try await host.enroll()
                _ = try await host.fetchConfig()
            }
            #expect(server.requests.count == 6)
            #expect(server.connectionsAccepted == 1)
        }
    }

    /// A server that dropped an idle keep-alive costs the agent nothing visible: it reconnects
    /// and sends the request again within the same attempt.
    @Test func aDroppedKeepAliveIsReopenedWithinTheAttempt() async throws {
        try await withServer { server, agent in
            let host = agent(1)
            _ = try await host.enroll()
            await server.dropConnections()
            let config = try await host.fetchConfig()
            #expect(config.attempts == 1)
            #expect(server.connectionsAccepted == 2)
            #expect(server.requests.map(\.connection) == [1, 2])
        }
    }

    /// A request the server read and then dropped without answering is sent once more on a new
    /// connection: a duplicate, as osqueryd's client produces it. Dropped twice, the attempt fails.
    @Test func aRequestDroppedUnansweredIsResentOnce() async throws {
        let drops = Atomic<Int>(0)
        try await withServer(override: { request, response in
            guard request.path == "/api/osquery/config", drops.add(1, ordering: .relaxed).newValue <= 3 else { return response }
            return CannedTLSServer.Response(body: Data(), close: .withoutResponse)
        }) { server, agent in
            let host = agent(1)
            _ = try await host.enroll()
            // Attempt 1: sent, dropped, resent, dropped. Attempt 2: sent, dropped, resent, answered.
            let config = try await host.fetchConfig()
            #expect(config.attempts == 2)
            #expect(server.requests.filter { $0.path == "/api/osquery/config" }.count == 4)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withServer(override: { request, response in
            guard request.path == "/api/osquery/enroll" else { return response }
            var closing = response
            closing.close = .afterResponse
            return closing
        }) { server, agent in
            let host = agent(1)
            _ = try await host.enroll()
            _ = try await host.fetchConfig()
            _ = try await host.fetchConfig()
            #expect(server.requests.map(\.connection) == [1, 2, 2])
        }
    }

    /// Redirects are followed with the same method and body (spec §6.4).
    @Test func redirectsAreFollowedWithTheSameBody() async throws {
        try await withServer(override: { request, response in
            guard request.path == "/old/enroll" else { return response }
            return CannedTLSServer.Response(status: .temporaryRedirect, body: Data(), headers: [("Location", "/api/osquery/enroll")])
        }) { server, _ in
            var endpoints = AgentEndpoints.standard
            endpoints.enroll = "/old/enroll"
            var configuration = try OsqueryAgentConfiguration(
                baseURL: "https://localhost:\(server.port)", caPEM: TestCertificates.caPEM, enrollSecret: "s3cret")
            configuration.endpoints = endpoints
            configuration.enrollMaxAttempts = 1
            let moved = try OsqueryAgent(profile: HostProfile(seed: 3, index: 2, platform: .linux), configuration: configuration)
            let enrolled = try await moved.enroll()
            #expect(enrolled.nodeKey == "k1")
            let requests = server.requests
            #expect(requests.map(\.path) == ["/old/enroll", "/api/osquery/enroll"])
            #expect(requests[0].body == requests[1].body)
            #expect(requests[1].method == "POST")
            await moved.disconnect()
        }
    }

    /// The `Host` header names the URL's authority: port only when not 443, IPv6 in brackets.
    @Test func hostHeaderFromTheURL() throws {
        func header(_ url: String) throws -> String { try #require(AgentTransport.Target(url: url)).hostHeader }
        #expect(try header("https://fleet.example.com") == "fleet.example.com")
        #expect(try header("https://fleet.example.com:8443/api") == "fleet.example.com:8443")
        #expect(try header("https://[::1]:8443") == "[::1]:8443")
        #expect(try header("https://[fd00::7]") == "[fd00::7]")
        #expect(try #require(AgentTransport.Target(url: "https://[::1]:8443")).host == "::1")
        #expect(AgentTransport.Target(url: "http://fleet.example.com") == nil)
        #expect(AgentTransport.Target(url: "https://[::1") == nil)
    }
}
