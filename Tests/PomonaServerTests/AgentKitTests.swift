import Foundation
import PomonaServer
import Testing

@Suite("AgentKit")
struct AgentKitTests {
    static let required: [String] = [
        "tls_hostname", "tls_server_certs", "enroll_secret_path", "host_identifier", "enroll_tls_endpoint",
        "config_plugin", "config_tls_endpoint", "config_refresh", "config_accelerated_refresh",
        "logger_plugin", "logger_tls_endpoint", "logger_tls_period",
        "disable_distributed", "distributed_plugin", "distributed_interval", "distributed_tls_max_attempts",
        "distributed_tls_read_endpoint", "distributed_tls_write_endpoint",
        "disable_carver", "carver_start_endpoint", "carver_continue_endpoint", "carver_block_size", "carver_compression",
        "watchdog_level", "watchdog_memory_limit", "watchdog_utilization_limit", "watchdog_delay",
        "disable_events", "disable_audit", "audit_allow_config", "audit_allow_process_events",
    ]

    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    /// `name -> [values]` for every `--name=value` line.
    func parse(_ flagfile: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for line in flagfile.split(separator: "\n") where line.hasPrefix("--") {
            let parts = line.dropFirst(2).split(separator: "=", maxSplits: 1)
            result[String(parts[0]), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        return result
    }

    @Test func everyRequiredFlagExactlyOnce() throws {
        let text = try AgentKit.flagfile(serverHost: "pomona.example.net", serverPort: 8443)
        let flags = parse(text)
        for name in Self.required {
            #expect(flags[name]?.count == 1, "\(name) must appear exactly once")
        }
        #expect(flags.values.allSatisfy { $0.count == 1 })
        // Every non-comment, non-empty line is a flag.
        for line in text.split(separator: "\n") {
            #expect(line.hasPrefix("#") || line.hasPrefix("--"))
        }
        #expect(flags["tls_hostname"] == ["pomona.example.net:8443"])
        #expect(flags["host_identifier"] == ["uuid"])
        #expect(flags["config_accelerated_refresh"] == flags["config_refresh"])
        #expect(flags["watchdog_level"] == ["0"])
        #expect(flags["carver_compression"] == ["true"])
    }

    @Test(arguments: ["/var/osquery", "/opt/pomona/agent/"])
    func pathsFollowThePrefix(prefix: String) throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try AgentKit.write(
            to: temp.url, serverHost: "10.0.0.5", serverPort: 443,
            caCertificatePEM: Self.caPEM, enrollSecret: "s3cret\n", installPrefix: prefix
        )
        let clean = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let flags = parse(try String(contentsOf: temp.url.appendingPathComponent("osquery.flags"), encoding: .utf8))
        #expect(flags["tls_server_certs"] == ["\(clean)/pomona-ca.pem"])
        #expect(flags["enroll_secret_path"] == ["\(clean)/enroll_secret"])
        let plist = try String(contentsOf: temp.url.appendingPathComponent("io.osquery.agent.plist"), encoding: .utf8)
        #expect(plist.contains("<string>--flagfile=\(clean)/osquery.flags</string>"))
        #expect(plist.contains("<string>/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd</string>"))
        let install = try String(contentsOf: temp.url.appendingPathComponent("INSTALL.txt"), encoding: .utf8)
        #expect(install.contains("launchctl bootstrap system /Library/LaunchDaemons/io.osquery.agent.plist"))
        #expect(install.contains("/etc/osquery/osquery.flags"))
        #expect(install.contains("\(clean)/enroll_secret"))
    }

    @Test func fileContentsAndModes() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try AgentKit.write(
            to: temp.url, serverHost: "pomona.test", serverPort: 8443,
            caCertificatePEM: Self.caPEM, enrollSecret: "  s3cret \n"
        )
        let secret = temp.url.appendingPathComponent("enroll_secret")
        #expect(try Data(contentsOf: secret) == Data("s3cret".utf8))
        #expect(try TemporaryDirectory.mode(of: secret) == 0o600)
        #expect(try TemporaryDirectory.mode(of: temp.url.appendingPathComponent("osquery.flags")) == 0o644)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("pomona-ca.pem"), encoding: .utf8) == Self.caPEM)
    }

    @Test(arguments: [("::1", 8443), ("host:1", 8443), ("pomona.test", 0), ("", 8443)])
    func rejectsUnusableServerAddresses(host: String, port: Int) {
        #expect(throws: AgentKitError.self) {
            try AgentKit.flagfile(serverHost: host, serverPort: port)
        }
    }

    @Test func rejectsEmptySecretAndNonPEM() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        #expect(throws: AgentKitError.self) {
            try AgentKit.write(to: temp.url, serverHost: "a.test", serverPort: 1, caCertificatePEM: Self.caPEM, enrollSecret: " \n")
        }
        #expect(throws: AgentKitError.self) {
            try AgentKit.write(to: temp.url, serverHost: "a.test", serverPort: 1, caCertificatePEM: "x", enrollSecret: "s")
        }
    }
}
