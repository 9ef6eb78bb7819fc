import NIOCore
import PomonaAgentAPI
import Testing

@testable import PomonaServer

/// The listeners' connection bounds: YAML keys, environment variables, ranges, and what reaches
/// the agent listener.
@Suite struct ListenerConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() {
        let c = ServerConfiguration()
        #expect(c.agentHandshakeTimeout == 10 && c.agentHeaderTimeout == 30 && c.agentBodyTimeout == 30)
        #expect(c.agentBodyMinRateKiB == 16 && c.agentConnectionsPerAddress == 512 && c.agentBodyBudgetMB == 128)
        #expect(c.adminIdleTimeout == 300 && c.adminHandshakeTimeout == 10)
    }

    @Test func yamlAndEnvironmentSetThem() throws {
        var c = ServerConfiguration()
        try c.apply(
            yaml: """
                agent_listener: { handshake_timeout: 5, header_timeout: 20, body_timeout: 40, body_min_rate_kib: 8,
                                  connections_per_address: 0, body_budget_mb: 64 }
                admin_listener: { idle_timeout: 120, handshake_timeout: 3 }
                """, source: "test.yml")
        #expect(c.agentHandshakeTimeout == 5 && c.agentHeaderTimeout == 20 && c.agentBodyTimeout == 40)
        #expect(c.agentBodyMinRateKiB == 8 && c.agentConnectionsPerAddress == 0 && c.agentBodyBudgetMB == 64)
        #expect(c.adminIdleTimeout == 120 && c.adminHandshakeTimeout == 3)
        try c.apply(environment: [
            "POMONA_AGENT_HANDSHAKE_TIMEOUT": "7", "POMONA_AGENT_HEADER_TIMEOUT": "15", "POMONA_AGENT_BODY_TIMEOUT": "25",
            "POMONA_AGENT_BODY_MIN_RATE_KIB": "32", "POMONA_AGENT_CONNECTIONS_PER_ADDRESS": "2048", "POMONA_AGENT_BODY_BUDGET_MB": "256",
            "POMONA_ADMIN_IDLE_TIMEOUT": "60", "POMONA_ADMIN_HANDSHAKE_TIMEOUT": "4",
        ])
        #expect(c.agentHandshakeTimeout == 7 && c.agentHeaderTimeout == 15 && c.agentBodyTimeout == 25)
        #expect(c.agentBodyMinRateKiB == 32 && c.agentConnectionsPerAddress == 2048 && c.agentBodyBudgetMB == 256)
        #expect(c.adminIdleTimeout == 60 && c.adminHandshakeTimeout == 4)

        let limits = PomonaServer.agentListenerLimits(c)
        #expect(limits.handshakeTimeout == .seconds(7) && limits.connectionsPerAddress == 2048)
        #expect(limits.requestDeadlines.head == .seconds(15) && limits.requestDeadlines.bodyFloor == .seconds(25))
        #expect(limits.requestDeadlines.bodyBytesPerSecond == 32 << 10)
    }

    @Test(arguments: [
        ("agent_listener: {handshake_timeout: 0}", "agent_listener.handshake_timeout must be in 1...300"),
        ("agent_listener: {header_timeout: 0}", "agent_listener.header_timeout must be in 1...3600"),
        ("agent_listener: {body_timeout: 7200}", "agent_listener.body_timeout must be in 1...3600"),
        ("agent_listener: {body_min_rate_kib: 0}", "agent_listener.body_min_rate_kib must be in 1...1048576"),
        ("agent_listener: {connections_per_address: -1}", "agent_listener.connections_per_address must be in 0...1000000"),
        ("agent_listener: {body_budget_mb: 0}", "agent_listener.body_budget_mb must be in 1...1048576"),
        ("admin_listener: {idle_timeout: 1}", "admin_listener.idle_timeout must be in 30...86400"),
        ("admin_listener: {handshake_timeout: 301}", "admin_listener.handshake_timeout must be in 1...300"),
        ("admin_listener: {idle: 1}", "unknown key \"admin_listener.idle\""),
    ])
    func outOfRangeValuesNameTheirKey(yaml: String, message: String) {
        var c = ServerConfiguration()
        #expect {
            try c.apply(yaml: yaml, source: "test.yml")
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(message) == true
        }
    }

    @Test func anEnvironmentValueOutOfRangeNamesTheVariable() {
        var c = ServerConfiguration()
        #expect {
            try c.apply(environment: ["POMONA_AGENT_CONNECTIONS_PER_ADDRESS": "lots"])
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("POMONA_AGENT_CONNECTIONS_PER_ADDRESS must be an integer") == true
        }
    }
}
