import Testing

@testable import PomonaServer

@Suite struct ServerConfigurationTests {
    @Test func embeddedDefaultsNeedNoFile() throws {
        let c = ServerConfiguration()
        #expect(c.agentAddress == "0.0.0.0" && c.agentPort == 8443 && c.agentIdleTimeout == 300)
        #expect(c.adminAddress == "127.0.0.1" && c.adminPort == 9443)
        #expect(c.databasePath.hasSuffix("pomona-data/pomona.sqlite"))
        try c.validate()
    }

    @Test func yamlThenEnvironmentOverride() throws {
        var c = ServerConfiguration()
        try c.apply(
            yaml: """
                data_dir: /var/lib/pomona
                agent_listener: { address: 10.0.0.5, port: 443, idle_timeout: 900 }
                tls: { server_names: [fleet.example.com, 10.0.0.5] }
                logs: { fsync: false, max_file_mb: 64 }
                log_level: debug
                """, source: "pomona.yml")
        try c.apply(environment: ["POMONA_AGENT_PORT": "8443", "POMONA_SERVER_NAMES": "a.example, b.example"])
        #expect(c.dataDirectory == "/var/lib/pomona")
        #expect(c.agentAddress == "10.0.0.5")
        #expect(c.agentPort == 8443, "the environment wins over the file")
        #expect(c.agentIdleTimeout == 900)
        try c.apply(environment: ["POMONA_AGENT_IDLE_TIMEOUT": "60"])
        #expect(c.agentIdleTimeout == 60)
        #expect(c.serverNames == ["a.example", "b.example"])
        #expect(c.logSync == false && c.logMaxFileMB == 64 && c.logLevel == "debug")
    }

    @Test func agentListenerHardeningKeys() throws {
        var c = ServerConfiguration()
        #expect(c.agentFailedEnrollsPerMinute == 30 && c.agentInflateBudgetMB == 512 && c.carveMaxSizeMB == 1024)
        try c.apply(
            yaml: """
                agent_listener: { failed_enrolls_per_minute: 5, inflate_budget_mb: 1024 }
                carves: { max_size_mb: 200 }
                """, source: "pomona.yml")
        #expect(c.agentFailedEnrollsPerMinute == 5 && c.agentInflateBudgetMB == 1024 && c.carveMaxSizeMB == 200)
        try c.apply(environment: [
            "POMONA_AGENT_FAILED_ENROLLS_PER_MINUTE": "7", "POMONA_AGENT_INFLATE_BUDGET_MB": "300", "POMONA_CARVE_MAX_SIZE_MB": "2048",
        ])
        #expect(c.agentFailedEnrollsPerMinute == 7 && c.agentInflateBudgetMB == 300 && c.carveMaxSizeMB == 2048)
        #expect(throws: ConfigurationError("environment: POMONA_AGENT_INFLATE_BUDGET_MB must be in 256...65536, not 100")) {
            try c.apply(environment: ["POMONA_AGENT_INFLATE_BUDGET_MB": "100"])
        }
    }

    @Test(arguments: [
        ("agent_listener: {failed_enrolls_per_minute: 0}", "agent_listener.failed_enrolls_per_minute must be in 1...100000"),
        ("agent_listener: {inflate_budget_mb: 10}", "agent_listener.inflate_budget_mb must be in 256...65536"),
        ("carves: {max_size_mb: 0}", "carves.max_size_mb must be in 1...65536"),
        ("carves: {max_size: 1}", "unknown key \"carves.max_size\""),
        ("agent_listner: {port: 1}", "unknown key \"agent_listner\""),
        ("logs: {fsnc: true}", "unknown key \"logs.fsnc\""),
        ("agent_listener: {port: 70000}", "agent_listener.port must be in 0...65535"),
        ("agent_listener: {idle_timeout: 5}", "agent_listener.idle_timeout must be in 30...86400"),
        ("logs: {fsync: maybe}", "logs.fsync must be true or false"),
        ("log_level: loud", "log_level must be one of"),
        ("- a\n- b", "the top level must be a mapping"),
        ("a: [", "not valid YAML"),
    ])
    func badFilesNameTheKey(_ yaml: String, _ expected: String) {
        var c = ServerConfiguration()
        #expect {
            try c.apply(yaml: yaml, source: "pomona.yml")
        } throws: { error in
            "\(error)".contains(expected) && "\(error)".contains("pomona.yml")
        }
    }

    /// The probe's 390-byte `--config` that grew to 2.8 GB: refused at once, naming the file.
    @Test func anAliasBombIsRefused() {
        var lines = [#"a: &a ["lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol"]"#]
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            lines.append("\(name): &\(name) [" + Array(repeating: "*" + previous, count: 9).joined(separator: ",") + "]")
            previous = name
        }
        let bomb = lines.joined(separator: "\n") + "\n"
        #expect(bomb.utf8.count < 400)
        var c = ServerConfiguration()
        #expect {
            try c.apply(yaml: bomb, source: "pomona.yml")
        } throws: { error in
            "\(error)".hasPrefix("pomona.yml: document 1 has more than 2000000 nodes or 1000 levels once its aliases are expanded")
        }
    }

    @Test func inconsistentSettingsAreRejected() {
        var c = ServerConfiguration()
        c.tlsCertificatePath = "/etc/cert.pem"
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = ServerConfiguration()
        c.enrollSecret = "short"
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = ServerConfiguration()
        c.adminAddress = c.agentAddress
        c.adminPort = c.agentPort
        #expect(throws: ConfigurationError.self) { try c.validate() }
    }
}
