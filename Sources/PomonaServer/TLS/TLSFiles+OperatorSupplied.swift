public import Foundation
import X509

extension TLSFiles {
    /// Uses a certificate and key the operator provides; nothing is generated.
    ///
    /// The files are read and parsed now, so a typo or a permission problem is reported at start-up
    /// with the path concerned, and the key must match the first certificate of the chain.
    ///
    /// ```swift
    /// let files = try TLSFiles.operatorSupplied(
    ///     certificateChainPath: URL(filePath: "/etc/pomona/fullchain.pem"),
    ///     privateKeyPath: URL(filePath: "/etc/pomona/privkey.pem")
    /// )
    /// ```
    ///
    /// - Parameters:
    ///   - certificateChainPath: PEM file with the server certificate first, then intermediates.
    ///   - privateKeyPath: PEM file with the matching unencrypted private key (PKCS#8, SEC1 or PKCS#1).
    ///   - caCertificatePath: Optional PEM file with the CA agents should trust (used for agent kits).
    /// - Throws: ``TLSMaterialError`` naming the file that is unreadable or malformed.
    public static func operatorSupplied(
        certificateChainPath: URL,
        privateKeyPath: URL,
        caCertificatePath: URL? = nil
    ) throws(TLSMaterialError) -> TLSFiles {
        let chain = try PEMCodec.certificates(at: certificateChainPath)
        let key = try PEMCodec.privateKey(at: privateKeyPath)
        guard chain[0].publicKey == key.publicKey else {
            throw .inconsistent(
                privateKeyPath.path,
                "the private key does not match the first certificate in \(certificateChainPath.path)"
            )
        }
        if let caCertificatePath {
            _ = try PEMCodec.certificates(at: caCertificatePath)
        }
        return TLSFiles(
            caCertificatePath: caCertificatePath,
            certificateChainPath: certificateChainPath,
            privateKeyPath: privateKeyPath
        )
    }
}
