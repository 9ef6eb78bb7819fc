import Foundation

/// The osquery config a Pomona admin controls for every host: `options`, `decorators` and any other
/// top-level osquery config key (`file_paths`, `events`, …), like Fleet's `agent_options.config`.
///
/// Stored as JSON; validated before it is saved so a bad edit can never reach agents.
public struct AgentOptions: Sendable, Equatable {
    /// The config object without `schedule`/`packs` (those come from queries and packs).
    public var config: JSONValue

    public init(config: JSONValue) throws(AgentOptionsError) {
        try AgentOptions.validate(config)
        self.config = config
    }

    /// Fleet's default agent options, with the TLS logger endpoint Pomona serves.
    public static let `default`: AgentOptions = {
        let config: JSONValue = .object([
            ("options", .object([
                ("pack_delimiter", .string("/")),
                ("logger_tls_period", .number("10")),
                ("distributed_plugin", .string("tls")),
                ("disable_distributed", .bool(false)),
                ("logger_tls_endpoint", .string("/api/osquery/log")),
                ("distributed_interval", .number("10")),
                ("distributed_tls_max_attempts", .number("3")),
            ])),
            ("decorators", .object([
                ("load", .array([
                    .string("SELECT uuid AS host_uuid FROM system_info;"),
                    .string("SELECT hostname AS hostname FROM system_info;"),
                ]))
            ])),
        ])
        return try! AgentOptions(config: config)  // A constant that the unit tests validate.
    }()

    /// The `options` member as name → value.
    public var options: [(String, JSONValue)] { config["options"]?.objectMembers ?? [] }

    static func validate(_ config: JSONValue) throws(AgentOptionsError) {
        guard case .object(let members) = config else { throw .init("agent options config must be a JSON object") }
        for (key, value) in members {
            switch key {
            case "schedule", "packs":
                throw .init("\"\(key)\" is managed by Pomona's queries and packs; remove it from agent options")
            case "error", "node_invalid":
                throw .init("\"\(key)\" must not appear in a config: osquery would treat the config as a failed fetch")
            case "options":
                guard case .object(let options) = value else { throw .init("\"options\" must be an object") }
                for (name, option) in options {
                    try validateOption(name: name, value: option)
                }
            case "decorators":
                guard case .object = value else { throw .init("\"decorators\" must be an object") }
            default:
                // osquery hands a top-level key to its parser only for objects and arrays (spec §3.3).
                switch value {
                case .object, .array: break
                default: throw .init("config key \"\(key)\" must be an object or an array; osquery ignores anything else")
                }
            }
        }
    }

    static func validateOption(name: String, value: JSONValue) throws(AgentOptionsError) {
        if OsqueryFlags.cliOnly.contains(name) {
            throw .init("option \"\(name)\" is CLI-only: osquery ignores it in config; put it in the flagfile (pomona agent-kit)")
        }
        if !name.hasPrefix("custom_") && OsqueryFlags.defaults[name] == nil && !OsqueryFlags.otherKnown.contains(name) {
            throw .init("unknown osquery option \"\(name)\" (custom options must start with custom_)")
        }
        switch value {
        case .number(let text):
            // osquery converts non-int32 numbers with GetUint64: floats arrive as garbage (spec §3.4).
            guard Int64(text) != nil else { throw .init("option \"\(name)\": \(text) is not an integer; osquery cannot take floats") }
        case .string(let s):
            if s.isEmpty { throw .init("option \"\(name)\": osquery skips empty strings, so \"\" cannot set it") }
        case .null: throw .init("option \"\(name)\": null is ignored by osquery")
        case .bool, .object, .array: break
        }
    }
}

public struct AgentOptionsError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Facts about osquery flags that decide what a server may put in `options` (spec §7).
public enum OsqueryFlags {
    /// osquery's own defaults for flags settable from config, used to revert a removed option:
    /// options accumulate in the agent, so removing one must send its default explicitly (§3.4).
    public static let defaults: [String: JSONValue] = [
        "distributed_interval": .number("60"), "distributed_tls_max_attempts": .number("3"),
        "disable_distributed": .bool(true), "distributed_plugin": .string("tls"),
        "distributed_denylist_duration": .number("86400"), "distributed_loginfo": .bool(false),
        "logger_tls_period": .number("4"), "logger_tls_max_lines": .number("1024"),
        "logger_tls_max_linesize": .number("1048576"), "logger_tls_backoff_max": .number("3600"),
        "logger_tls_compress": .bool(false), "tls_disable_status_log": .bool(false),
        "buffered_log_max": .number("1000000"), "logger_event_type": .bool(true),
        "logger_snapshot_event_type": .bool(false), "logger_numerics": .bool(false),
        "decorations_top_level": .bool(false), "disable_decorators": .bool(false),
        "logger_min_status": .number("0"), "verbose": .bool(false), "schedule_epoch": .number("0"),
        "schedule_splay_percent": .number("10"), "schedule_default_interval": .number("3600"),
        "schedule_timeout": .number("0"), "schedule_max_drift": .number("60"), "schedule_lognames": .bool(false),
        "pack_delimiter": .string("_"), "pack_refresh_interval": .number("3600"),
        "events_expiry": .number("3600"), "events_max": .number("50000"), "disable_events": .bool(false),
        "enable_file_events": .bool(false), "read_max": .number("52428800"), "table_delay": .number("0"),
        "disable_audit": .bool(true), "audit_allow_config": .bool(false), "audit_allow_process_events": .bool(true),
        "audit_allow_sockets": .bool(false), "audit_allow_user_events": .bool(true), "audit_allow_fim_events": .bool(false),
        "enable_bpf_events": .bool(false), "worker_threads": .number("4"),
        "logger_tls_endpoint": .string(""),
    ]

    /// Settable flags whose default we do not revert to (there is no safe value to send back).
    public static let otherKnown: Set<String> = [
        "host_identifier", "specified_identifier", "nullvalue", "distributed_tls_read_endpoint",
        "distributed_tls_write_endpoint", "enable_keyboard_events", "enable_mouse_events",
        "disable_endpointsecurity", "disable_endpointsecurity_fim", "es_fim_mutes", "enable_ntfs_event_publisher",
        "enable_powershell_events_subscriber", "enable_windows_events_publisher", "enable_windows_events_subscriber",
        "windows_event_channels", "yara_delay", "yara_malware_scan", "tls_dump", "thrift_timeout",
        "logger_path", "logger_rotate", "logger_rotate_size", "logger_rotate_max_files", "schedule_reload",
        "hash_cache_max", "hash_delay", "table_exceptions", "disable_hash_cache", "keychain_access_cache",
        "keychain_access_interval", "audit_persist", "audit_backlog_limit", "audit_backlog_wait_time",
        "audit_force_reconfigure", "audit_force_unconfigure", "audit_fim_debug", "audit_fim_show_accesses",
        "audit_show_partial_fim_events", "audit_show_untracked_res_warnings", "process_events_max",
        "socket_events_max", "enable_syslog", "syslog_pipe_path", "syslog_rate_limit",
    ]

    /// Flags osquery only takes from the command line or flagfile (spec §7).
    public static let cliOnly: Set<String> = [
        "config_plugin", "config_tls_endpoint", "config_refresh", "config_accelerated_refresh",
        "config_tls_max_attempts", "config_enable_backup", "tls_hostname", "tls_server_certs", "tls_client_cert",
        "tls_client_key", "tls_session_reuse", "tls_session_timeout", "tls_accept_gzip", "proxy_hostname",
        "enroll_tls_endpoint", "enroll_secret_path", "enroll_secret_env", "enroll_always", "disable_enrollment",
        "disable_reenrollment", "tls_enroll_max_attempts", "tls_enroll_max_interval", "logger_plugin",
        "logger_stderr", "logger_mode", "disable_carver", "carver_disable_function", "carver_start_endpoint",
        "carver_continue_endpoint", "carver_compression", "carver_expiry", "watchdog_level",
        "watchdog_memory_limit", "watchdog_utilization_limit", "watchdog_latency_limit", "watchdog_delay",
        "watchdog_forced_shutdown_delay", "disable_watchdog", "enable_extensions_watchdog", "enable_watchdog_debug",
        "enable_tables", "disable_tables", "carver_block_size",
    ]
}
