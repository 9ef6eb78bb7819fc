import NIOSSL
import Foundation

/// Everything that shapes one emulated osqueryd's behaviour on the wire, apart from its host identity.
///
/// Defaults are osqueryd 5.23's. Sleeps go through ``sleep`` so tests and load runs can scale or
/// skip them.
public struct OsqueryAgentConfiguration: Sendable {
    /// `https://host:port` (no trailing slash); `--tls_hostname` with the scheme.
    public var baseURL: String
    /// TLS for every request: the server CA as the only trust root, full verification.
    public var tlsConfiguration: TLSConfiguration
    /// Endpoint paths.
    public var endpoints: AgentEndpoints = .standard
    /// `--enroll_secret_path` contents (already trimmed).
    public var enrollSecret: String
    /// `--host_identifier`.
    public var identifierMode: HostProfile.IdentifierMode = .hostname
    /// Send `Authorization: NodeKey <key>` (5.23.0 and later); turn off to emulate older agents.
    public var sendsAuthorizationHeader = true
    /// Send `Accept-Encoding: gzip` and inflate gzip responses (`--tls_accept_gzip`, 5.21.0+).
    public var acceptGzip = false
    /// The whole-exchange deadline (osqueryd: 16 s).
    public var requestTimeout: Duration = .seconds(16)
    /// `--tls_session_timeout`: a keep-alive connection older than this is replaced (spec §6.4).
    public var sessionTimeout: Duration = .seconds(3600)
    /// Response body cap (Beast's default 8 MiB); a larger body is a transport failure.
    public var maxResponseBytes = 8 * 1024 * 1024
    /// `--tls_enroll_max_attempts` (0 = forever).
    public var enrollMaxAttempts = 12
    /// `--tls_enroll_max_interval`, in seconds.
    public var enrollMaxInterval: Int64 = 600
    /// `--config_tls_max_attempts`.
    public var configMaxAttempts = 3
    /// `--distributed_tls_max_attempts`.
    public var distributedMaxAttempts = 3
    /// Attempts per carve start and per block.
    public var carveMaxAttempts = 3
    /// `--logger_tls_max_lines`.
    public var logMaxLines = 1024
    /// `--logger_tls_max_linesize`.
    public var logMaxLineSize = 1024 * 1024
    /// How the agent waits between attempts; defaults to `Task.sleep`. Inject a scaled or no-op
    /// sleep to run retries fast.
    public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// Creates a configuration that trusts only the given CA.
    ///
    /// - Parameters:
    ///   - baseURL: `https://host:port`.
    ///   - caPEM: PEM text of the CA (or CAs) the server's chain must lead to.
    ///   - enrollSecret: The enroll secret.
    /// - Throws: `NIOSSLError` when the PEM does not parse.
    public init(baseURL: String, caPEM: String, enrollSecret: String) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.tlsConfiguration = try Self.tlsConfiguration(trustingCAPEM: caPEM)
        self.enrollSecret = enrollSecret
    }

    /// A client TLS configuration like osqueryd's: the given roots only (never the OS store), full
    /// chain and hostname verification, TLS 1.2 minimum, no ALPN (HTTP/1.1 only).
    public static func tlsConfiguration(trustingCAPEM caPEM: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = []
        return tls
    }
}
