/// Pomona's built-in scheduled queries for Macs: inventory, persistence, activity and security posture.
///
/// The queries name their columns instead of `SELECT *`, so results stay stable when osquery adds
/// columns and a SIEM only ingests what is useful. Intervals follow how fast each fact changes:
/// posture and inventory daily, persistence every 15 minutes, activity hourly.
///
/// | Query | Logging | Interval |
/// |---|---|---|
/// | `apps` | snapshot | 86400 |
/// | `shell_history` | differential | 900 |
/// | `interface_details` | snapshot | 86400 |
/// | `network_connections` | differential | 3600 |
/// | `process_events` | differential | 3600 |
/// | `startup_items`, `crontab` | differential | 900 |
/// | `logged_in_users` | snapshot | 3600 |
/// | `disk_encryption`, `sip_config`, `gatekeeper`, `alf` | snapshot | 86400 |
///
/// `process_events` returns rows only when the agent is started with the flags in
/// ``requiredAgentOptions``.
public enum MacOSBaseline {
    /// The name of the pack the baseline is served as (`pack/macos-baseline/<query>` in results).
    public static let packName = "macos-baseline"

    /// The baseline queries, all with platform `darwin`.
    public static let queries: [ScheduledQuery] = [
        ScheduledQuery(
            name: "apps",
            sql: """
                SELECT name, path, bundle_identifier, bundle_name, bundle_short_version, bundle_version,
                       bundle_package_type, minimum_system_version, category, last_opened_time
                FROM apps;
                """,
            description: "Installed application bundles (/Applications and other standard locations) with versions.",
            interval: 86400, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "shell_history",
            // shell_history reads one user's history files per uid; joining users supplies every uid.
            // System accounts (uid 1…499) have no interactive shells; root (uid 0) is kept.
            sql: """
                SELECT u.username, sh.uid, sh.time, sh.command, sh.history_file
                FROM users AS u
                CROSS JOIN shell_history AS sh USING (uid)
                WHERE u.uid = 0 OR u.uid >= 500;
                """,
            description: "New lines in the shell history files of root and human users.",
            interval: 900, platform: "darwin", logging: .differential),

        ScheduledQuery(
            name: "interface_details",
            // One row per interface address; loopback and the always-idle tunnel pseudo-devices
            // (gif0, stf0) are left out.
            sql: """
                SELECT d.interface, d.mac, d.type, d.mtu, d.flags, d.link_speed, a.address, a.mask
                FROM interface_details AS d
                LEFT JOIN interface_addresses AS a USING (interface)
                WHERE d.interface NOT IN ('lo0', 'gif0', 'stf0');
                """,
            description: "Network interfaces with MAC addresses, link details and IP addresses.",
            interval: 86400, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "network_connections",
            // Connected IPv4/IPv6 sockets only (AF_INET = 2, AF_INET6 = 30 on macOS): listening and
            // unconnected sockets have no remote port, and loopback traffic is local plumbing.
            // The local port and address are left out on purpose: the ephemeral port changes with
            // every connection and the local address with every network, and either would turn
            // each run into a flood of "added"/"removed" rows for the same process talking to the
            // same endpoint.
            sql: """
                SELECT DISTINCT p.name, p.path, s.pid, u.username, s.protocol, s.family,
                       s.remote_address, s.remote_port
                FROM process_open_sockets AS s
                JOIN processes AS p USING (pid)
                LEFT JOIN users AS u ON u.uid = p.uid
                WHERE s.family IN (2, 30)
                  AND s.remote_port != 0
                  AND s.remote_address NOT IN ('', '0.0.0.0', '::', '::1', '::ffff:127.0.0.1')
                  AND s.remote_address NOT LIKE '127.%';
                """,
            description: "Processes with established connections to remote endpoints, and their users.",
            interval: 3600, platform: "darwin", logging: .differential),

        ScheduledQuery(
            name: "process_events",
            // An evented table: each run returns the executions recorded since the previous run.
            // The environment (env) is hidden and large; it is not collected.
            sql: """
                SELECT time, pid, parent, path, cmdline, cwd, auid, uid, euid, gid, egid, status
                FROM process_events;
                """,
            description:
                "Process executions recorded by the OpenBSM audit subsystem (needs the agent flags in MacOSBaseline.requiredAgentOptions).",
            interval: 3600, platform: "darwin", logging: .differential),

        ScheduledQuery(
            name: "startup_items",
            sql: "SELECT name, path, args, type, source, status, username FROM startup_items;",
            description: "Login items, launch agents and daemons and other programs started at boot or login.",
            interval: 900, platform: "darwin", logging: .differential),

        ScheduledQuery(
            name: "crontab",
            sql: """
                SELECT event, minute, hour, day_of_month, month, day_of_week, command, path
                FROM crontab;
                """,
            description: "Cron jobs in the system and user crontabs.",
            interval: 900, platform: "darwin", logging: .differential),

        ScheduledQuery(
            name: "logged_in_users",
            // Only live sessions; utmpx also keeps "dead" and boot records.
            sql: "SELECT type, user, tty, host, time, pid FROM logged_in_users WHERE type = 'user';",
            description: "Users with an active console, terminal or remote session.",
            interval: 3600, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "disk_encryption",
            // APFS lists many volumes (Preboot, Recovery, VM); the system and data volumes are the
            // ones FileVault protects.
            sql: """
                SELECT m.path AS mount_path, e.name, e.uuid, e.encrypted, e.type, e.encryption_status,
                       e.filevault_status
                FROM mounts AS m
                JOIN disk_encryption AS e ON e.name = m.device
                WHERE m.path IN ('/', '/System/Volumes/Data');
                """,
            description: "FileVault and encryption state of the system and data volumes.",
            interval: 86400, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "sip_config",
            sql: "SELECT config_flag, enabled, enabled_nvram FROM sip_config;",
            description: "System Integrity Protection settings.",
            interval: 86400, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "gatekeeper",
            sql: "SELECT assessments_enabled, dev_id_enabled, version, opaque_version FROM gatekeeper;",
            description: "Gatekeeper state: whether app assessments and Developer ID apps are enforced.",
            interval: 86400, platform: "darwin", logging: .snapshot),

        ScheduledQuery(
            name: "alf",
            sql: """
                SELECT global_state, stealth_enabled, logging_enabled, logging_option, allow_signed_enabled,
                       firewall_unload, version
                FROM alf;
                """,
            description: "Application Layer Firewall settings (global_state: 0 off, 1 on, 2 essential services only).",
            interval: 86400, platform: "darwin", logging: .snapshot),
    ]

    /// The baseline as a pack restricted to darwin.
    public static var pack: QueryPack {
        QueryPack(
            name: packName, description: "Pomona's built-in macOS baseline.", platform: "darwin", queries: queries)
    }

    /// Agent flags `process_events` needs on macOS, for the agent kit's flagfile
    /// (`--name=value` per line; see ``flagfileLines``).
    ///
    /// On macOS, `process_events` is fed by the OpenBSM publisher, which reads `/dev/auditpipe`:
    /// * `disable_events=false`: the event framework itself (already the default; stated so a
    ///   hardened flagfile elsewhere cannot switch it off unnoticed).
    /// * `disable_audit=false`: the default `true` keeps the OpenBSM publisher from starting.
    /// * `audit_allow_config=true`: lets osquery set the audit pipe's preselection flags so exec
    ///   events of every user (root included) reach it; without it the system's
    ///   `/etc/security/audit_control` must be edited by hand (`ex`, `pc`, `argv`, `arge`).
    /// * `audit_allow_process_events=true`: the default, stated for the same reason as above.
    ///
    /// **Put them in the flagfile, not in the config's `options`.** They are all ordinary osquery
    /// flags (none is `CLI_FLAG`), so the config parser would accept them, but event publishers
    /// are set up once when the agent starts; changing them from the config has no effect until
    /// the next restart.
    ///
    /// Not included, deliberately:
    /// * `events_expiry` (default 3600 s): osquery raises each subscriber's expiry to three times
    ///   the longest interval of the scheduled queries that use it (10800 s for the hourly
    ///   `process_events` query), so no event expires before it is read. Settable from config.
    /// * `events_max` (default 50000 batches per type): the buffer cap; raise it (from config or
    ///   flagfile) only on very busy build machines where `osquery_events` shows drops.
    ///
    /// osquery documents OpenBSM-based `process_events` for macOS 10.15 and older; Apple has
    /// deprecated OpenBSM in favour of EndpointSecurity, so on current macOS the table may stay
    /// empty even with these flags.
    /// `es_process_events` (`--disable_endpointsecurity=false`, plus Full Disk Access for the
    /// agent) is the modern alternative and is not part of this baseline.
    public static let requiredAgentOptions: [String: String] = [
        "disable_events": "false",
        "disable_audit": "false",
        "audit_allow_config": "true",
        "audit_allow_process_events": "true",
    ]

    /// ``requiredAgentOptions`` as flagfile lines (`--disable_audit=false`), sorted by name.
    public static var flagfileLines: [String] {
        requiredAgentOptions.keys.sorted().map { "--\($0)=\(requiredAgentOptions[$0]!)" }
    }
}
