import Foundation
import NIOSSL

/// `tls:` of an output. Verification of the receiver's certificate is on unless
/// `insecure_skip_verify: true` is written out.
public struct OutputTLSConfiguration: Sendable, Equatable, Decodable {
    /// PEM file of the CA(s) to trust instead of the system roots (`ca_file`).
    public var caFile: String?
    /// Accept any certificate and name (`insecure_skip_verify`); for lab use only.
    public var insecureSkipVerify: Bool
    /// PEM certificate chain and key presented to the receiver (mutual TLS).
    public var clientCertificate: String?
    public var clientKey: String?
    /// The name to verify in the receiver's certificate and to send as SNI, when it differs from
    /// the host in the URL/address (e.g. connecting by IP).
    public var serverName: String?

    public init(caFile: String? = nil, insecureSkipVerify: Bool = false, clientCertificate: String? = nil,
                clientKey: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.serverName = serverName
    }

    static let keys: Set<String> = ["ca_file", "insecure_skip_verify", "client_certificate", "client_key", "server_name"]

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: Self.keys)
        caFile = try reader.optional("ca_file")
        insecureSkipVerify = try reader.optional("insecure_skip_verify") ?? false
        clientCertificate = try reader.optional("client_certificate")
        clientKey = try reader.optional("client_key")
        serverName = try reader.optional("server_name")
    }

    /// Builds the client TLS configuration, reading every file now so a missing or malformed file
    /// fails at start-up with the key that names it.
    func makeClientConfiguration(output: String) throws(OutputConfigurationError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile {
            let certificates: [NIOSSLCertificate]
            do { certificates = try NIOSSLCertificate.fromPEMFile(caFile) } catch {
                throw OutputConfigurationError(output: output, key: "tls.ca_file", "cannot read a PEM certificate from \(caFile): \(error)")
            }
            if certificates.isEmpty {
                throw OutputConfigurationError(output: output, key: "tls.ca_file", "\(caFile) holds no PEM certificate")
            }
            tls.trustRoots = .certificates(certificates)
        }
        if insecureSkipVerify { tls.certificateVerification = .none }
        switch (clientCertificate, clientKey) {
        case (nil, nil): break
        case (let certificate?, let key?):
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            } catch {
                throw OutputConfigurationError(output: output, key: "tls.client_certificate", "cannot read \(certificate): \(error)")
            }
            do { tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) } catch {
                throw OutputConfigurationError(output: output, key: "tls.client_key", "cannot read a PEM private key from \(key): \(error)")
            }
        case (nil, _?):
            throw OutputConfigurationError(output: output, key: "tls.client_certificate", "is required with tls.client_key")
        case (_?, nil):
            throw OutputConfigurationError(output: output, key: "tls.client_key", "is required with tls.client_certificate")
        }
        return tls
    }
}

/// `batch:` of an output: how the delivery loop cuts batches, and the largest request the output
/// will send (it splits a larger batch into several requests itself).
public struct OutputBatchConfiguration: Sendable, Equatable, Decodable {
    public var maxEvents: Int
    public var maxBytes: Int
    /// Once the loop has caught up with the spool, how long a started batch may wait for more
    /// events before it is sent (file.d's `batch_flush_timeout`). Without it every acknowledged
    /// agent request became its own batch: one request, or one `fdatasync` for a file, each.
    public var flushTimeoutSeconds: Double

    public static let defaultFlushTimeoutSeconds = 0.2

    public init(maxEvents: Int, maxBytes: Int, flushTimeoutSeconds: Double = OutputBatchConfiguration.defaultFlushTimeoutSeconds) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.flushTimeoutSeconds = flushTimeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: ["max_events", "max_bytes", "flush_timeout_seconds"])
        // Placeholders: ``OutputCommonSettings`` fills what the file leaves out from the type's defaults.
        maxEvents = try reader.integer("max_events", in: 1...1_000_000) ?? 0
        maxBytes = try reader.integer("max_bytes", in: 1024...1_073_741_824) ?? 0
        flushTimeoutSeconds = try reader.number("flush_timeout_seconds", in: 0...60) ?? -1
    }

    func filling(_ defaults: OutputBatchConfiguration) -> OutputBatchConfiguration {
        OutputBatchConfiguration(maxEvents: maxEvents == 0 ? defaults.maxEvents : maxEvents,
                                 maxBytes: maxBytes == 0 ? defaults.maxBytes : maxBytes,
                                 flushTimeoutSeconds: flushTimeoutSeconds < 0 ? defaults.flushTimeoutSeconds : flushTimeoutSeconds)
    }
}

/// The keys every output type has.
public struct OutputCommonSettings: Sendable, Equatable {
    public var name: String
    public var batch: OutputBatchConfiguration
    public var concurrency: Int
    /// Connect + request (HTTP) or connect/write (syslog) timeout.
    public var timeoutSeconds: Double

    public init(name: String, batch: OutputBatchConfiguration, concurrency: Int, timeoutSeconds: Double) {
        self.name = name
        self.batch = batch
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
    }

    static let keys: Set<String> = ["name", "type", "batch", "concurrency", "timeout_seconds"]

    init(_ reader: ConfigReader, defaults: OutputCommonSettings, maxConcurrency: Int = 64) throws(DecodingError) {
        let name: String = try reader.required("name")
        if name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "/" }) {
            throw reader.error("name", "must be a non-empty name without spaces or slashes")
        }
        self.name = name
        batch = (try reader.optional("batch", OutputBatchConfiguration.self))?.filling(defaults.batch) ?? defaults.batch
        concurrency = try reader.integer("concurrency", in: 1...maxConcurrency) ?? defaults.concurrency
        timeoutSeconds = try reader.number("timeout_seconds", in: 0.1...3600) ?? defaults.timeoutSeconds
    }

    var batchLimits: OutputBatchLimits {
        OutputBatchLimits(
            maxEvents: batch.maxEvents, maxBytes: batch.maxBytes, concurrency: concurrency,
            flushTimeout: .milliseconds(Int64((batch.flushTimeoutSeconds * 1000).rounded())))
    }
}
