import Foundation

/// The osqueryd flags of an agent kit, grouped, and their flagfile rendering.
///
/// Everything here is CLI-only in osquery or needed before the first config arrives, so it must
/// live in the flagfile: a server cannot push these through config `options`.
struct AgentFlags: Sendable {
    /// One `--name=value` line.
    struct Flag: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// Flags under one `#` comment block.
    struct Group: Sendable {
        var comment: [String]
        var flags: [Flag]
    }

    static let flagfileName = "osquery.flags"
    static let caFileName = "pomona-ca.pem"
    static let secretFileName = "enroll_secret"

    /// Carve upload block size: 1 MiB.
    ///
    /// osquery's default (8 KiB) makes a 100 MB carve 12,800 requests. Each block travels
    /// base64-encoded (about 1.4 MB per request for 1 MiB), must complete inside osquery's single
    /// 16 s request deadline, and is held in memory by the server; 1 MiB keeps a block under that
    /// deadline on a 1 Mbit/s uplink while cutting the request count 128-fold.
    static let carverBlockSize = 1_048_576

    let installPrefix: String
    let tlsHostname: String

    init(serverHost: String, serverPort: Int, installPrefix: String) throws(AgentKitError) {
        let host = serverHost.trimmingCharacters(in: .whitespaces)
        guard !host.isEmpty else {
            throw .invalidArgument("the server host is empty")
        }
        guard !host.contains(":"), !host.contains("/"), !host.contains(where: \.isWhitespace) else {
            throw .invalidArgument(
                "server host \"\(serverHost)\" is not usable in --tls_hostname (no IPv6 literals, ports or paths; use a DNS name)"
            )
        }
        guard (1...65_535).contains(serverPort) else {
            throw .invalidArgument("server port \(serverPort) is out of range")
        }
        var prefix = installPrefix
        while prefix.count > 1, prefix.hasSuffix("/") {
            prefix.removeLast()
        }
        guard prefix.hasPrefix("/"), !prefix.contains(where: \.isWhitespace) else {
            throw .invalidArgument("install prefix \"\(installPrefix)\" must be an absolute path without spaces")
        }
        self.installPrefix = prefix
        self.tlsHostname = "\(host):\(serverPort)"
    }

    var groups: [Group] {
        [
            Group(
                comment: [
                    "Server and trust. CLI-only: a server cannot change these remotely.",
                    "osqueryd verifies the server against this CA only (not the OS trust store).",
                ],
                flags: [
                    Flag(name: "tls_hostname", value: tlsHostname),
                    Flag(name: "tls_server_certs", value: "\(installPrefix)/\(Self.caFileName)"),
                ]
            ),
            Group(
                comment: [
                    "Enrollment. The secret file is read once and trimmed of whitespace.",
                    "host_identifier=uuid keeps a host's identity stable across renames and reinstalls.",
                ],
                flags: [
                    Flag(name: "enroll_secret_path", value: "\(installPrefix)/\(Self.secretFileName)"),
                    Flag(name: "enroll_tls_endpoint", value: "/api/osquery/enroll"),
                    Flag(name: "host_identifier", value: "uuid"),
                ]
            ),
            Group(
                comment: [
                    "Configuration, fetched every 60 s. config_accelerated_refresh is the wait after a",
                    "failed fetch (osquery default 300 s): keep it equal so an outage does not slow polling.",
                ],
                flags: [
                    Flag(name: "config_plugin", value: "tls"),
                    Flag(name: "config_tls_endpoint", value: "/api/osquery/config"),
                    Flag(name: "config_refresh", value: "60"),
                    Flag(name: "config_accelerated_refresh", value: "60"),
                ]
            ),
            Group(
                comment: ["Result and status logs, sent every 10 s."],
                flags: [
                    Flag(name: "logger_plugin", value: "tls"),
                    Flag(name: "logger_tls_endpoint", value: "/api/osquery/log"),
                    Flag(name: "logger_tls_period", value: "10"),
                ]
            ),
            Group(
                comment: ["Live (distributed) queries, polled every 10 s."],
                flags: [
                    Flag(name: "disable_distributed", value: "false"),
                    Flag(name: "distributed_plugin", value: "tls"),
                    Flag(name: "distributed_interval", value: "10"),
                    Flag(name: "distributed_tls_max_attempts", value: "3"),
                    Flag(name: "distributed_tls_read_endpoint", value: "/api/osquery/distributed/read"),
                    Flag(name: "distributed_tls_write_endpoint", value: "/api/osquery/distributed/write"),
                ]
            ),
            Group(
                comment: [
                    "File carving (CLI-only). 1 MiB blocks: few requests, each well inside osquery's 16 s",
                    "request deadline. Uploads are zstd-compressed tar archives.",
                ],
                flags: [
                    Flag(name: "disable_carver", value: "false"),
                    Flag(name: "carver_start_endpoint", value: "/api/osquery/carve/begin"),
                    Flag(name: "carver_continue_endpoint", value: "/api/osquery/carve/block"),
                    Flag(name: "carver_block_size", value: String(Self.carverBlockSize)),
                    Flag(name: "carver_compression", value: "true"),
                ]
            ),
            Group(
                comment: [
                    "Watchdog (CLI-only). Level 0 = normal profile (1 = restrictive, -1 = off).",
                    "The worker is restarted above 350 MB of memory growth, or above 20 % of total CPU",
                    "sustained for the latency limit (12 s at level 0); both limits are raised from the",
                    "level-0 defaults (200 MB, 10 %) because event tables buffer data. No checks in the",
                    "first 60 s after start.",
                ],
                flags: [
                    Flag(name: "watchdog_level", value: "0"),
                    Flag(name: "watchdog_memory_limit", value: "350"),
                    Flag(name: "watchdog_utilization_limit", value: "20"),
                    Flag(name: "watchdog_delay", value: "60"),
                ]
            ),
            Group(
                comment: [
                    "Events. On macOS process_events comes from the OpenBSM audit pipe, which osquery",
                    "configures itself with audit_allow_config. On Linux the same flags make osquery own",
                    "the kernel audit netlink socket (it conflicts with auditd): see INSTALL.txt.",
                ],
                flags: [
                    Flag(name: "disable_events", value: "false"),
                    Flag(name: "disable_audit", value: "false"),
                    Flag(name: "audit_allow_config", value: "true"),
                    Flag(name: "audit_allow_process_events", value: "true"),
                ]
            ),
        ]
    }

    /// Every flag, in file order.
    var flags: [Flag] {
        groups.flatMap(\.flags)
    }

    /// The flagfile: a header, then each group as `#` comments followed by `--name=value` lines.
    func flagfile() -> String {
        var lines = [
            "# osqueryd flagfile written by Pomona. Start osqueryd with --flagfile=\(installPrefix)/\(Self.flagfileName).",
            "# One flag per line; lines starting with # are comments.",
        ]
        for group in groups {
            lines.append("")
            lines.append(contentsOf: group.comment.map { "# \($0)" })
            lines.append(contentsOf: group.flags.map { "--\($0.name)=\($0.value)" })
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
