public import Foundation

/// The paths of the PEM files the HTTPS listener needs.
///
/// Either produced by ``CertificateAuthority/loadOrCreate(directory:serverNames:now:)`` (Pomona's
/// own local CA) or supplied by the operator with ``operatorSupplied(certificateChainPath:privateKeyPath:caCertificatePath:)``.
/// Turn it into a NIOSSL configuration with ``makeServerConfiguration(clientCertificateAuthorityPath:)``.
public struct TLSFiles: Hashable, Sendable {
    /// The CA certificate agents must trust (`--tls_server_certs`), if known.
    ///
    /// `nil` when the operator supplied a certificate from a CA whose file Pomona was not given.
    public var caCertificatePath: URL?
    /// The server certificate followed by its chain (PEM).
    public var certificateChainPath: URL
    /// The server's private key (PEM, unencrypted).
    public var privateKeyPath: URL

    /// Creates a value from known paths without checking them.
    ///
    /// - Parameters:
    ///   - caCertificatePath: The CA certificate agents trust, if known.
    ///   - certificateChainPath: The server certificate, then its chain.
    ///   - privateKeyPath: The server's private key.
    public init(caCertificatePath: URL?, certificateChainPath: URL, privateKeyPath: URL) {
        self.caCertificatePath = caCertificatePath
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}
