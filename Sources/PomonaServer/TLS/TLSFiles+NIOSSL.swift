public import Foundation
public import NIOSSL

extension TLSFiles {
    /// The TLS 1.2 cipher suites the server offers: ECDHE key exchange with AEAD ciphers only.
    ///
    /// osquery's client cipher string boils down to ECDHE with AES-GCM
    /// (`ECDH+AESGCM:…:!CBC:!SHA:!kRSA`); ChaCha20-Poly1305 is kept for other clients. TLS 1.3
    /// suites are not configurable in BoringSSL and are all AEAD.
    public static let serverCipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20"

    /// Builds a NIOSSL server configuration from these files.
    ///
    /// TLS 1.2 is the minimum (osqueryd speaks 1.2 and 1.3); no ALPN is offered, as osquery speaks
    /// HTTP/1.1 only.
    ///
    /// ```swift
    /// let tls = try files.makeServerConfiguration()                      // agent listener
    /// let admin = try files.makeServerConfiguration(                     // admin listener, mTLS
    ///     clientCertificateAuthorityPath: URL(filePath: "/etc/pomona/admin-ca.pem"))
    /// ```
    ///
    /// - Parameter clientCertificateAuthorityPath: When given, clients must present a certificate
    ///   that chains to a CA in this PEM file (mutual TLS); otherwise client certificates are not requested.
    /// - Returns: A configuration ready for `NIOSSLContext(configuration:)`.
    /// - Throws: ``TLSMaterialError`` naming the unreadable or malformed file.
    public func makeServerConfiguration(clientCertificateAuthorityPath: URL? = nil) throws(TLSMaterialError)
        -> TLSConfiguration
    {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(try SecureFile.readText(certificateChainPath).utf8))
        } catch let error as TLSMaterialError {
            throw error
        } catch {
            throw .malformed(certificateChainPath.path, "invalid certificate chain: \(error)")
        }
        guard !chain.isEmpty else {
            throw .malformed(certificateChainPath.path, "no CERTIFICATE block")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(try SecureFile.readText(privateKeyPath).utf8), format: .pem)
        } catch let error as TLSMaterialError {
            throw error
        } catch {
            throw .malformed(privateKeyPath.path, "invalid private key: \(error)")
        }

        var configuration: TLSConfiguration
        if let clientCertificateAuthorityPath {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMBytes(Array(try SecureFile.readText(clientCertificateAuthorityPath).utf8))
            } catch let error as TLSMaterialError {
                throw error
            } catch {
                throw .malformed(clientCertificateAuthorityPath.path, "invalid CA certificate: \(error)")
            }
            guard !roots.isEmpty else {
                throw .malformed(clientCertificateAuthorityPath.path, "no CERTIFICATE block")
            }
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key),
                trustRoots: .certificates(roots)
            )
            configuration.sendCANameList = true
        } else {
            configuration = .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
        }
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = Self.serverCipherSuites
        return configuration
    }
}
