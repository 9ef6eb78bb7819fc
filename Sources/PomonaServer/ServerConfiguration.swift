import Foundation
import PomonaPipeline
import Yams

/// Everything `pomona serve` can be told, with embedded defaults: no file is needed to start.
///
/// Precedence, lowest first: the defaults here, the YAML file (`--config`), environment variables
/// (`POMONA_*`), command-line options. Every key is documented in ``ServerConfiguration/documentation``.
public struct ServerConfiguration: Sendable, Equatable {
    public var dataDirectory = "./pomona-data"
    public var agentAddress = "0.0.0.0"
    public var agentPort = 8443
    /// Seconds an agent connection may send nothing before the server closes it (osqueryd
    /// reconnects on its next request).
    public var agentIdleTimeout = 300
    /// Seconds a TLS handshake may take on the agent listener.
    public var agentHandshakeTimeout = 10
    /// Seconds a request head may take to arrive once its first byte is in (nginx's client_header_timeout).
    public var agentHeaderTimeout = 30
    /// Seconds a request body is given on top of its length at ``agentBodyMinRateKiB``.
    public var agentBodyTimeout = 30
    /// KiB per second a request body must average (a slow uplink's rate; below it a body times out).
    public var agentBodyMinRateKiB = 16
    /// Open agent connections per source address (IPv6: per /64); 0 = no limit.
    public var agentConnectionsPerAddress = 512
    /// MiB that request bodies not yet authenticated may hold at once, across all connections.
    public var agentBodyBudgetMB = 128
    /// Failed enrolls one source address (an IPv6 /64) may make per minute before its enrolls are
    /// refused unread until its bucket refills.
    public var agentFailedEnrollsPerMinute = 30
    /// MiB all compressed agent bodies being inflated may hold at once.
    public var agentInflateBudgetMB = 512
    /// Largest file carve accepted, in MiB (the upload: tar, or zstd of it).
    public var carveMaxSizeMB = 1024
    public var adminAddress = "127.0.0.1"
    public var adminPort = 9443
    /// Seconds an admin connection may stay silent between requests (a streaming answer is not silence).
    public var adminIdleTimeout = 300
    /// Seconds a TLS handshake may take on the admin listener.
    public var adminHandshakeTimeout = 10
    /// Extra DNS names or IP addresses the generated server certificate must be valid for.
    public var serverNames: [String] = []
    /// Operator-supplied certificate chain and key (PEM). When set, nothing is generated.
    public var tlsCertificatePath: String?
    public var tlsPrivateKeyPath: String?
    /// An enroll secret to make sure exists (in addition to any already stored).
    public var enrollSecret: String?
    /// Install the built-in macOS baseline schedule at first start.
    public var installMacOSBaseline = true
    /// Where result/status NDJSON files go (default `<data-dir>/logs`).
    public var logDirectory: String?
    public var logMaxFileMB = 512
    public var logKeepFiles = 10
    /// fdatasync log files before acknowledging a batch.
    public var logSync = true
    /// Seconds between host-vitals refreshes (Fleet's detail_update_interval).
    public var detailUpdateInterval = 3600
    public var logLevel = "info"
    /// Management API: hours a login session lives after its last use (sliding).
    public var sessionLifetimeHours = 24
    /// Management API: days an API-only user's token lives; 0 = never expires.
    public var apiTokenLifetimeDays = 0
    /// Management API: login attempts per minute per email and per client address.
    public var loginAttemptsPerMinute = 10
    /// When set, `GET /metrics` on the admin listener wants `Authorization: Bearer <token>`.
    public var metricsToken: String?
    /// The `pipeline:` section (spool, delivery, collector sources, routes, outputs).
    public var pipeline = PipelineSection()

    public init() {}

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("pomona.sqlite") }
    public var tlsDirectory: String { (dataDirectory as NSString).appendingPathComponent("tls") }
    public var resolvedLogDirectory: String { logDirectory ?? (dataDirectory as NSString).appendingPathComponent("logs") }

    /// The keys of the YAML file, with their meaning (printed by `pomona serve --help`).
    public static let documentation: [(key: String, env: String, help: String)] = [
        ("data_dir", "POMONA_DATA_DIR", "data directory: database, TLS material, logs (default ./pomona-data)"),
        ("agent_listener.address", "POMONA_AGENT_ADDRESS", "agent listener address (default 0.0.0.0)"),
        ("agent_listener.port", "POMONA_AGENT_PORT", "agent listener port (default 8443)"),
        ("agent_listener.idle_timeout", "POMONA_AGENT_IDLE_TIMEOUT", "seconds an agent connection may stay silent before it is closed (default 300)"),
        ("agent_listener.handshake_timeout", "POMONA_AGENT_HANDSHAKE_TIMEOUT", "seconds a TLS handshake may take (default 10)"),
        ("agent_listener.header_timeout", "POMONA_AGENT_HEADER_TIMEOUT", "seconds a request head may take once started (default 30)"),
        ("agent_listener.body_timeout", "POMONA_AGENT_BODY_TIMEOUT", "seconds a request body is given besides its length at body_min_rate_kib (default 30)"),
        ("agent_listener.body_min_rate_kib", "POMONA_AGENT_BODY_MIN_RATE_KIB", "KiB/s a request body must average (default 16)"),
        ("agent_listener.connections_per_address", "POMONA_AGENT_CONNECTIONS_PER_ADDRESS", "open connections per source address, IPv6 per /64; 0 = no limit (default 512)"),
        ("agent_listener.body_budget_mb", "POMONA_AGENT_BODY_BUDGET_MB", "MiB all not-yet-authenticated request bodies may hold at once (default 128)"),
        ("agent_listener.failed_enrolls_per_minute", "POMONA_AGENT_FAILED_ENROLLS_PER_MINUTE",
         "failed enrolls per minute per source address (IPv6: per /64) before its enrolls are refused (default 30)"),
        ("agent_listener.inflate_budget_mb", "POMONA_AGENT_INFLATE_BUDGET_MB", "MiB all gzip agent bodies being inflated may hold at once (default 512)"),
        ("carves.max_size_mb", "POMONA_CARVE_MAX_SIZE_MB", "largest file carve accepted, in MiB (default 1024)"),
        ("admin_listener.address", "POMONA_ADMIN_ADDRESS", "admin listener address (default 127.0.0.1)"),
        ("admin_listener.port", "POMONA_ADMIN_PORT", "admin listener port (default 9443)"),
        ("admin_listener.idle_timeout", "POMONA_ADMIN_IDLE_TIMEOUT", "seconds an admin connection may stay silent between requests (default 300)"),
        ("admin_listener.handshake_timeout", "POMONA_ADMIN_HANDSHAKE_TIMEOUT", "seconds a TLS handshake may take (default 10)"),
        ("tls.server_names", "POMONA_SERVER_NAMES", "extra names/IPs for the generated certificate (comma list in env)"),
        ("tls.certificate", "POMONA_TLS_CERTIFICATE", "PEM certificate chain to use instead of the generated one"),
        ("tls.private_key", "POMONA_TLS_PRIVATE_KEY", "PEM private key for tls.certificate"),
        ("enroll_secret", "POMONA_ENROLL_SECRET", "an enroll secret to ensure exists (one is generated when none exists)"),
        ("install_macos_baseline", "POMONA_INSTALL_MACOS_BASELINE", "install the macOS baseline schedule at first start (default true)"),
        ("logs.directory", "POMONA_LOG_DIR", "directory of osquery_result.log / osquery_status.log (default <data_dir>/logs)"),
        ("logs.max_file_mb", "POMONA_LOG_MAX_FILE_MB", "rotate a log file past this size (default 512)"),
        ("logs.keep_files", "POMONA_LOG_KEEP_FILES", "rotated files kept per kind (default 10)"),
        ("logs.fsync", "POMONA_LOG_FSYNC", "fdatasync before acknowledging logs (default true)"),
        ("detail_update_interval", "POMONA_DETAIL_UPDATE_INTERVAL", "seconds between host-vitals refreshes (default 3600)"),
        ("log_level", "POMONA_LOG_LEVEL", "trace, debug, info, notice, warning, error, critical (default info)"),
        ("metrics.token", "POMONA_METRICS_TOKEN", "bearer token GET /metrics on the admin listener requires (default: none; keep the listener internal)"),
        ("pipeline", "-", "event pipeline: spool, delivery, osquery, collector sources, routes, outputs (README \"Pipeline configuration\")"),
        ("admin_api.session_lifetime_hours", "POMONA_SESSION_LIFETIME_HOURS", "hours a login session lives after its last use (default 24)"),
        ("admin_api.api_token_lifetime_days", "POMONA_API_TOKEN_LIFETIME_DAYS", "days an API-only user's token lives; 0 = never (default 0)"),
        ("admin_api.login_attempts_per_minute", "POMONA_LOGIN_ATTEMPTS_PER_MINUTE", "login attempts per minute per email and address (3x per address, half per email; default 10)"),
    ]

    /// Below osqueryd's default intervals (10 s) every connection would be closed between requests.
    static let idleTimeoutRange = 30...86_400
    static let handshakeTimeoutRange = 1...300
    static let requestTimeoutRange = 1...3600
    static let bodyMinRateRange = 1...1_048_576
    static let connectionsPerAddressRange = 0...1_000_000
    static let bodyBudgetRange = 1...1_048_576
    static let failedEnrollsRange = 1...100_000
    /// At least the 256 MiB a single log body may inflate to, or the largest batch could never pass.
    static let inflateBudgetRange = 256...65_536
    /// Up to 64 GiB: carves are stored in the database, in blocks.
    static let carveSizeRange = 1...65_536

    // MARK: - Loading

    /// Applies a YAML document. Unknown keys are errors, so a typo never silently does nothing.
    public mutating func apply(yaml text: String, source: String) throws(ConfigurationError) {
        let root: Any?
        do {
            root = try BoundedYAML.load(text, maxBytes: BoundedYAML.maxConfigBytes)
        } catch let error as BoundedYAMLError {
            throw .init("\(source): \(error.message)")
        } catch {
            throw .init("\(source): not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let map = root as? [String: Any] else { throw .init("\(source): the top level must be a mapping") }
        let known: Set<String> = [
            "data_dir", "agent_listener", "admin_listener", "tls", "enroll_secret", "install_macos_baseline", "logs",
            "detail_update_interval", "log_level", "admin_api", "pipeline", "carves", "metrics",
        ]
        for key in map.keys where !known.contains(key) { throw .init("\(source): unknown key \"\(key)\"") }
        func section(_ name: String, _ keys: Set<String>) throws(ConfigurationError) -> [String: Any] {
            guard let value = map[name] else { return [:] }
            guard let sub = value as? [String: Any] else { throw .init("\(source): \"\(name)\" must be a mapping") }
            for key in sub.keys where !keys.contains(key) { throw .init("\(source): unknown key \"\(name).\(key)\"") }
            return sub
        }
        if let v = map["data_dir"] { dataDirectory = try Self.string(v, "data_dir", source) }
        let agent = try section(
            "agent_listener",
            [
                "address", "port", "idle_timeout", "handshake_timeout", "header_timeout", "body_timeout", "body_min_rate_kib",
                "connections_per_address", "body_budget_mb", "failed_enrolls_per_minute", "inflate_budget_mb",
            ])
        if let v = agent["address"] { agentAddress = try Self.string(v, "agent_listener.address", source) }
        if let v = agent["port"] { agentPort = try Self.port(v, "agent_listener.port", source) }
        if let v = agent["idle_timeout"] { agentIdleTimeout = try Self.int(v, "agent_listener.idle_timeout", source, Self.idleTimeoutRange) }
        if let v = agent["handshake_timeout"] {
            agentHandshakeTimeout = try Self.int(v, "agent_listener.handshake_timeout", source, Self.handshakeTimeoutRange)
        }
        if let v = agent["header_timeout"] { agentHeaderTimeout = try Self.int(v, "agent_listener.header_timeout", source, Self.requestTimeoutRange) }
        if let v = agent["body_timeout"] { agentBodyTimeout = try Self.int(v, "agent_listener.body_timeout", source, Self.requestTimeoutRange) }
        if let v = agent["body_min_rate_kib"] {
            agentBodyMinRateKiB = try Self.int(v, "agent_listener.body_min_rate_kib", source, Self.bodyMinRateRange)
        }
        if let v = agent["connections_per_address"] {
            agentConnectionsPerAddress = try Self.int(v, "agent_listener.connections_per_address", source, Self.connectionsPerAddressRange)
        }
        if let v = agent["body_budget_mb"] { agentBodyBudgetMB = try Self.int(v, "agent_listener.body_budget_mb", source, Self.bodyBudgetRange) }
        if let v = agent["failed_enrolls_per_minute"] {
            agentFailedEnrollsPerMinute = try Self.int(v, "agent_listener.failed_enrolls_per_minute", source, Self.failedEnrollsRange)
        }
        if let v = agent["inflate_budget_mb"] {
            agentInflateBudgetMB = try Self.int(v, "agent_listener.inflate_budget_mb", source, Self.inflateBudgetRange)
        }
        let carves = try section("carves", ["max_size_mb"])
        if let v = carves["max_size_mb"] { carveMaxSizeMB = try Self.int(v, "carves.max_size_mb", source, Self.carveSizeRange) }
        let admin = try section("admin_listener", ["address", "port", "idle_timeout", "handshake_timeout"])
        if let v = admin["address"] { adminAddress = try Self.string(v, "admin_listener.address", source) }
        if let v = admin["port"] { adminPort = try Self.port(v, "admin_listener.port", source) }
        if let v = admin["idle_timeout"] { adminIdleTimeout = try Self.int(v, "admin_listener.idle_timeout", source, Self.idleTimeoutRange) }
        if let v = admin["handshake_timeout"] {
            adminHandshakeTimeout = try Self.int(v, "admin_listener.handshake_timeout", source, Self.handshakeTimeoutRange)
        }
        let tls = try section("tls", ["server_names", "certificate", "private_key"])
        if let v = tls["server_names"] {
            guard let names = v as? [Any] else { throw .init("\(source): tls.server_names must be a list") }
            serverNames = try names.map { (n: Any) throws(ConfigurationError) -> String in try Self.string(n, "tls.server_names", source) }
        }
        if let v = tls["certificate"] { tlsCertificatePath = try Self.string(v, "tls.certificate", source) }
        if let v = tls["private_key"] { tlsPrivateKeyPath = try Self.string(v, "tls.private_key", source) }
        if let v = map["enroll_secret"] { enrollSecret = try Self.string(v, "enroll_secret", source) }
        if let v = map["install_macos_baseline"] { installMacOSBaseline = try Self.bool(v, "install_macos_baseline", source) }
        let logs = try section("logs", ["directory", "max_file_mb", "keep_files", "fsync"])
        if let v = logs["directory"] { logDirectory = try Self.string(v, "logs.directory", source) }
        if let v = logs["max_file_mb"] { logMaxFileMB = try Self.int(v, "logs.max_file_mb", source, 1...1_000_000) }
        if let v = logs["keep_files"] { logKeepFiles = try Self.int(v, "logs.keep_files", source, 1...1000) }
        if let v = logs["fsync"] { logSync = try Self.bool(v, "logs.fsync", source) }
        if let v = map["detail_update_interval"] { detailUpdateInterval = try Self.int(v, "detail_update_interval", source, 60...604_800) }
        if let v = map["log_level"] { logLevel = try Self.logLevel(Self.string(v, "log_level", source), "log_level", source) }
        if map["pipeline"] != nil {
            do {
                pipeline = PipelineSection(configuration: try PipelineConfiguration.load(yaml: text, source: source), source: source)
            } catch {
                throw .init(error.message)
            }
        }
        let metrics = try section("metrics", ["token"])
        if let v = metrics["token"] { metricsToken = try Self.string(v, "metrics.token", source) }
        let adminAPI = try section("admin_api", ["session_lifetime_hours", "api_token_lifetime_days", "login_attempts_per_minute"])
        if let v = adminAPI["session_lifetime_hours"] { sessionLifetimeHours = try Self.int(v, "admin_api.session_lifetime_hours", source, 1...8760) }
        if let v = adminAPI["api_token_lifetime_days"] { apiTokenLifetimeDays = try Self.int(v, "admin_api.api_token_lifetime_days", source, 0...36500) }
        if let v = adminAPI["login_attempts_per_minute"] {
            loginAttemptsPerMinute = try Self.int(v, "admin_api.login_attempts_per_minute", source, 1...10_000)
        }
    }

    /// Applies `POMONA_*` environment variables.
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        let source = "environment"
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let v = value("POMONA_DATA_DIR") { dataDirectory = v }
        if let v = value("POMONA_AGENT_ADDRESS") { agentAddress = v }
        if let v = value("POMONA_AGENT_PORT") { agentPort = try Self.port(v, "POMONA_AGENT_PORT", source) }
        if let v = value("POMONA_AGENT_IDLE_TIMEOUT") {
            agentIdleTimeout = try Self.int(v, "POMONA_AGENT_IDLE_TIMEOUT", source, Self.idleTimeoutRange)
        }
        if let v = value("POMONA_AGENT_HANDSHAKE_TIMEOUT") {
            agentHandshakeTimeout = try Self.int(v, "POMONA_AGENT_HANDSHAKE_TIMEOUT", source, Self.handshakeTimeoutRange)
        }
        if let v = value("POMONA_AGENT_HEADER_TIMEOUT") { agentHeaderTimeout = try Self.int(v, "POMONA_AGENT_HEADER_TIMEOUT", source, Self.requestTimeoutRange) }
        if let v = value("POMONA_AGENT_BODY_TIMEOUT") { agentBodyTimeout = try Self.int(v, "POMONA_AGENT_BODY_TIMEOUT", source, Self.requestTimeoutRange) }
        if let v = value("POMONA_AGENT_BODY_MIN_RATE_KIB") {
            agentBodyMinRateKiB = try Self.int(v, "POMONA_AGENT_BODY_MIN_RATE_KIB", source, Self.bodyMinRateRange)
        }
        if let v = value("POMONA_AGENT_CONNECTIONS_PER_ADDRESS") {
            agentConnectionsPerAddress = try Self.int(v, "POMONA_AGENT_CONNECTIONS_PER_ADDRESS", source, Self.connectionsPerAddressRange)
        }
        if let v = value("POMONA_AGENT_BODY_BUDGET_MB") { agentBodyBudgetMB = try Self.int(v, "POMONA_AGENT_BODY_BUDGET_MB", source, Self.bodyBudgetRange) }
        if let v = value("POMONA_AGENT_FAILED_ENROLLS_PER_MINUTE") {
            agentFailedEnrollsPerMinute = try Self.int(v, "POMONA_AGENT_FAILED_ENROLLS_PER_MINUTE", source, Self.failedEnrollsRange)
        }
        if let v = value("POMONA_AGENT_INFLATE_BUDGET_MB") {
            agentInflateBudgetMB = try Self.int(v, "POMONA_AGENT_INFLATE_BUDGET_MB", source, Self.inflateBudgetRange)
        }
        if let v = value("POMONA_CARVE_MAX_SIZE_MB") { carveMaxSizeMB = try Self.int(v, "POMONA_CARVE_MAX_SIZE_MB", source, Self.carveSizeRange) }
        if let v = value("POMONA_ADMIN_ADDRESS") { adminAddress = v }
        if let v = value("POMONA_ADMIN_PORT") { adminPort = try Self.port(v, "POMONA_ADMIN_PORT", source) }
        if let v = value("POMONA_ADMIN_IDLE_TIMEOUT") { adminIdleTimeout = try Self.int(v, "POMONA_ADMIN_IDLE_TIMEOUT", source, Self.idleTimeoutRange) }
        if let v = value("POMONA_ADMIN_HANDSHAKE_TIMEOUT") {
            adminHandshakeTimeout = try Self.int(v, "POMONA_ADMIN_HANDSHAKE_TIMEOUT", source, Self.handshakeTimeoutRange)
        }
        if let v = value("POMONA_SERVER_NAMES") { serverNames = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let v = value("POMONA_TLS_CERTIFICATE") { tlsCertificatePath = v }
        if let v = value("POMONA_TLS_PRIVATE_KEY") { tlsPrivateKeyPath = v }
        if let v = value("POMONA_ENROLL_SECRET") { enrollSecret = v }
        if let v = value("POMONA_INSTALL_MACOS_BASELINE") { installMacOSBaseline = try Self.bool(v, "POMONA_INSTALL_MACOS_BASELINE", source) }
        if let v = value("POMONA_LOG_DIR") { logDirectory = v }
        if let v = value("POMONA_LOG_MAX_FILE_MB") { logMaxFileMB = try Self.int(v, "POMONA_LOG_MAX_FILE_MB", source, 1...1_000_000) }
        if let v = value("POMONA_LOG_KEEP_FILES") { logKeepFiles = try Self.int(v, "POMONA_LOG_KEEP_FILES", source, 1...1000) }
        if let v = value("POMONA_LOG_FSYNC") { logSync = try Self.bool(v, "POMONA_LOG_FSYNC", source) }
        if let v = value("POMONA_DETAIL_UPDATE_INTERVAL") {
            detailUpdateInterval = try Self.int(v, "POMONA_DETAIL_UPDATE_INTERVAL", source, 60...604_800)
        }
        if let v = value("POMONA_LOG_LEVEL") { logLevel = try Self.logLevel(v, "POMONA_LOG_LEVEL", source) }
        if let v = value("POMONA_METRICS_TOKEN") { metricsToken = v }
        if let v = value("POMONA_SESSION_LIFETIME_HOURS") { sessionLifetimeHours = try Self.int(v, "POMONA_SESSION_LIFETIME_HOURS", source, 1...8760) }
        if let v = value("POMONA_API_TOKEN_LIFETIME_DAYS") { apiTokenLifetimeDays = try Self.int(v, "POMONA_API_TOKEN_LIFETIME_DAYS", source, 0...36500) }
        if let v = value("POMONA_LOGIN_ATTEMPTS_PER_MINUTE") {
            loginAttemptsPerMinute = try Self.int(v, "POMONA_LOGIN_ATTEMPTS_PER_MINUTE", source, 1...10_000)
        }
    }

    /// Checks what only makes sense together.
    public func validate() throws(ConfigurationError) {
        do throws(PipelineConfigurationError) { try pipeline.configuration.validate() } catch { throw .init(error.message) }
        if (tlsCertificatePath == nil) != (tlsPrivateKeyPath == nil) {
            throw .init("tls.certificate and tls.private_key must be given together")
        }
        if agentPort != 0 && agentPort == adminPort && agentAddress == adminAddress {
            throw .init("the agent and admin listeners cannot share \(agentAddress):\(agentPort)")
        }
        if let secret = enrollSecret, secret.trimmingCharacters(in: .whitespacesAndNewlines).count < 16 {
            throw .init("enroll_secret must be at least 16 characters (it is the only thing that admits a host)")
        }
        if let token = metricsToken, token.count < 16 || token.contains(where: \.isWhitespace) {
            throw .init("metrics.token must be at least 16 characters without spaces (it guards /metrics)")
        }
    }

    static func string(_ v: Any, _ key: String, _ source: String) throws(ConfigurationError) -> String {
        if let s = v as? String { return s }
        if let i = v as? Int { return String(i) }
        throw .init("\(source): \(key) must be a string")
    }

    static func int(_ v: Any, _ key: String, _ source: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let i = (v as? Int) ?? (v as? String).flatMap({ Int($0) }) else { throw .init("\(source): \(key) must be an integer") }
        guard range.contains(i) else { throw .init("\(source): \(key) must be in \(range.lowerBound)...\(range.upperBound), not \(i)") }
        return i
    }

    static func port(_ v: Any, _ key: String, _ source: String) throws(ConfigurationError) -> Int {
        try int(v, key, source, 0...65535)
    }

    static func bool(_ v: Any, _ key: String, _ source: String) throws(ConfigurationError) -> Bool {
        if let b = v as? Bool { return b }
        switch (v as? String)?.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw .init("\(source): \(key) must be true or false")
        }
    }

    static func logLevel(_ s: String, _ key: String, _ source: String) throws(ConfigurationError) -> String {
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(s.lowercased()) else { throw .init("\(source): \(key) must be one of \(levels.joined(separator: ", "))") }
        return s.lowercased()
    }
}

/// The pipeline configuration inside ``ServerConfiguration``. Its routes and outputs are not
/// `Equatable` (conditions hold regexes), so two sections compare equal when they came from the
/// same source with the same spool/delivery/collector settings and the same route and output names.
public struct PipelineSection: Sendable, Equatable {
    public var configuration: PipelineConfiguration
    public var source: String

    public init(configuration: PipelineConfiguration = PipelineConfiguration(), source: String = "defaults") {
        self.configuration = configuration
        self.source = source
    }

    public static func == (lhs: PipelineSection, rhs: PipelineSection) -> Bool {
        let a = lhs.configuration, b = rhs.configuration
        return lhs.source == rhs.source && a.spool == b.spool && a.delivery == b.delivery && a.collector == b.collector
            && a.snapshotMode == b.snapshotMode && a.routes.map(\.name) == b.routes.map(\.name) && a.outputs == b.outputs
    }
}

/// A configuration problem, naming the file or variable and the key.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
