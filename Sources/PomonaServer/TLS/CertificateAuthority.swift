public import Foundation
import Crypto
import X509

/// Pomona's own local certificate authority, kept in `<data-dir>/tls/`.
///
/// On first start ``loadOrCreate(directory:serverNames:now:)`` creates
///
/// | File | Content | Mode |
/// |---|---|---|
/// | `ca.pem` | self-signed CA "Pomona Local CA <id>", ECDSA P-256, 10 years | 0644 |
/// | `ca.key` | its private key (PKCS#8) | 0600 |
/// | `server.pem` | server certificate (P-256, 825 days), then `ca.pem` | 0644 |
/// | `server.key` | its private key (PKCS#8) | 0600 |
///
/// Later starts load the files. The server certificate is re-issued, **from the same CA**, when
/// it does not cover every requested name, expires within 30 days, or no longer belongs to the
/// CA or its key. The CA itself is never replaced: agents pin `ca.pem` (`--tls_server_certs`), so
/// a missing `ca.key` next to an existing `ca.pem`, or an expired CA, is an error that the operator
/// must resolve.
///
/// The server certificate carries the SANs `localhost`, the machine's host names, every extra
/// server name, `127.0.0.1` and `::1`; extended key usage `serverAuth`; key usage
/// `digitalSignature`. 825 days is the longest validity Apple platforms accept for TLS server
/// certificates.
///
/// Concurrency: the functions are synchronous and touch only the given directory. Call them once
/// at start-up, before the listeners start; two processes sharing a data directory are not
/// supported.
public enum CertificateAuthority {
    /// Validity of a newly created CA.
    static let caValidity: TimeInterval = 10 * 365 * 86_400
    /// Validity of a newly issued server certificate.
    static let serverValidity: TimeInterval = 825 * 86_400
    /// A server certificate expiring within this interval is re-issued.
    static let renewalWindow: TimeInterval = 30 * 86_400
    /// Certificates are back-dated this much to tolerate clock skew between server and agents.
    static let backdating: TimeInterval = 3_600

    /// Loads the local CA and server certificate from `directory`, creating or re-issuing them as needed.
    ///
    /// ```swift
    /// let files = try CertificateAuthority.loadOrCreate(
    ///     directory: dataDirectory.appending(path: "tls"),
    ///     serverNames: ["pomona.example.net", "10.0.0.5"]
    /// )
    /// ```
    ///
    /// - Parameters:
    ///   - directory: The TLS directory, created with mode 0700 if missing.
    ///   - serverNames: Extra names (DNS names or IP literals) agents use to reach the server, in addition
    ///     to `localhost`, the machine's host names, `127.0.0.1` and `::1`.
    ///   - now: The current time (for tests).
    /// - Returns: The paths of `ca.pem`, `server.pem` and `server.key`.
    /// - Throws: ``TLSMaterialError``: an unreadable or malformed file (naming it), a CA certificate
    ///   without its key, an expired CA, or an invalid server name.
    @discardableResult
    public static func loadOrCreate(directory: URL, serverNames: [String], now: Date = Date()) throws(TLSMaterialError)
        -> TLSFiles
    {
        var wanted: [ServerName] = ServerName.defaults
        for text in serverNames {
            let name = try ServerName(parsing: text)
            if !wanted.contains(name) {
                wanted.append(name)
            }
        }

        let layout = Layout(directory: directory)
        try SecureFile.makeDirectory(directory)

        let authority = try loadOrCreateAuthority(layout: layout, now: now)
        if try !serverCertificateIsUsable(layout: layout, authority: authority, names: wanted, now: now) {
            try issueServerCertificate(layout: layout, authority: authority, names: wanted, now: now)
        }
        return layout.files
    }

    // MARK: - Internals

    /// The file names inside the TLS directory.
    struct Layout {
        var caCertificate: URL
        var caKey: URL
        var serverCertificate: URL
        var serverKey: URL

        init(directory: URL) {
            caCertificate = directory.appendingPathComponent("ca.pem")
            caKey = directory.appendingPathComponent("ca.key")
            serverCertificate = directory.appendingPathComponent("server.pem")
            serverKey = directory.appendingPathComponent("server.key")
        }

        var files: TLSFiles {
            TLSFiles(caCertificatePath: caCertificate, certificateChainPath: serverCertificate, privateKeyPath: serverKey)
        }
    }

    /// A loaded CA: its certificate and private key.
    struct Authority {
        var certificate: Certificate
        var key: Certificate.PrivateKey
    }

    static func loadOrCreateAuthority(layout: Layout, now: Date) throws(TLSMaterialError) -> Authority {
        let haveCertificate = SecureFile.exists(layout.caCertificate)
        let haveKey = SecureFile.exists(layout.caKey)
        switch (haveCertificate, haveKey) {
        case (false, false):
            return try createAuthority(layout: layout, now: now)
        case (true, false):
            throw .inconsistent(
                layout.caKey.path,
                "\(layout.caCertificate.path) exists but its private key is missing; restore it (agents trust this CA), or remove ca.pem to create a new CA and redistribute it to every agent"
            )
        case (false, true):
            throw .inconsistent(
                layout.caCertificate.path,
                "\(layout.caKey.path) exists but the CA certificate is missing; restore it, or remove ca.key to create a new CA and redistribute it to every agent"
            )
        case (true, true):
            let certificates = try PEMCodec.certificates(at: layout.caCertificate)
            let key = try PEMCodec.privateKey(at: layout.caKey)
            let certificate = certificates[0]
            guard certificate.publicKey == key.publicKey else {
                throw .inconsistent(layout.caKey.path, "the CA private key does not match \(layout.caCertificate.path)")
            }
            guard let constraints = try? certificate.extensions.basicConstraints,
                case .isCertificateAuthority = constraints
            else {
                throw .malformed(layout.caCertificate.path, "not a CA certificate (basicConstraints CA:false or missing)")
            }
            guard certificate.notValidAfter > now else {
                throw .expired(
                    layout.caCertificate.path,
                    "the local CA expired on \(certificate.notValidAfter); remove the TLS directory to create a new CA and redistribute ca.pem to every agent"
                )
            }
            return Authority(certificate: certificate, key: key)
        }
    }

    static func createAuthority(layout: Layout, now: Date) throws(TLSMaterialError) -> Authority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let shortID = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0 ... .max)) }.joined()
        let certificate: Certificate
        let certificatePEM: String
        let keyPEM: String
        do {
            let name = try DistinguishedName {
                OrganizationName("Pomona")
                CommonName("Pomona Local CA \(shortID)")
            }
            certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now - backdating,
                notValidAfter: now + caValidity,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: key.publicKey)
                },
                issuerPrivateKey: key
            )
            certificatePEM = try PEMCodec.pem([certificate])
            keyPEM = try PEMCodec.pem(key)
        } catch {
            throw .inconsistent(nil, "could not create the local CA: \(error)")
        }
        // Key first: a crash in between leaves a key without a certificate, which is reported
        // rather than silently replaced.
        try SecureFile.write(keyPEM, to: layout.caKey, mode: 0o600)
        try SecureFile.write(certificatePEM, to: layout.caCertificate, mode: 0o644)
        return Authority(certificate: certificate, key: key)
    }

    /// Whether `server.pem`/`server.key` exist, parse, match, chain to the CA, cover `names`, and
    /// are valid for more than the renewal window.
    static func serverCertificateIsUsable(
        layout: Layout,
        authority: Authority,
        names: [ServerName],
        now: Date
    ) throws(TLSMaterialError) -> Bool {
        guard SecureFile.exists(layout.serverCertificate), SecureFile.exists(layout.serverKey) else {
            return false
        }
        let chain = try PEMCodec.certificates(at: layout.serverCertificate)
        let key = try PEMCodec.privateKey(at: layout.serverKey)
        let leaf = chain[0]
        guard leaf.publicKey == key.publicKey,
            leaf.issuer == authority.certificate.subject,
            authority.certificate.publicKey.isValidSignature(leaf.signature, for: leaf),
            chain.dropFirst().contains(authority.certificate),
            leaf.notValidBefore <= now,
            leaf.notValidAfter > now + renewalWindow
        else {
            return false
        }
        guard let sans = try? leaf.extensions.subjectAlternativeNames else {
            return false
        }
        let covered = Set(sans.compactMap { ServerName($0) })
        return names.allSatisfy(covered.contains)
    }

    static func issueServerCertificate(
        layout: Layout,
        authority: Authority,
        names: [ServerName],
        now: Date
    ) throws(TLSMaterialError) {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let chainPEM: String
        let keyPEM: String
        do {
            let subject = try DistinguishedName {
                OrganizationName("Pomona")
                CommonName(names.first(where: { if case .dns = $0 { true } else { false } })?.description ?? "localhost")
            }
            let authorityKeyID = try authority.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now - backdating,
                notValidAfter: min(now + serverValidity, authority.certificate.notValidAfter),
                issuer: authority.certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names.map(\.generalName))
                    SubjectKeyIdentifier(hash: key.publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                },
                issuerPrivateKey: authority.key
            )
            chainPEM = try PEMCodec.pem([certificate, authority.certificate])
            keyPEM = try PEMCodec.pem(key)
        } catch {
            throw .inconsistent(nil, "could not issue the server certificate: \(error)")
        }
        try SecureFile.write(keyPEM, to: layout.serverKey, mode: 0o600)
        try SecureFile.write(chainPEM, to: layout.serverCertificate, mode: 0o644)
    }
}
