import Foundation
import SwiftASN1
import X509

/// Reads and writes the PEM documents of the TLS directory, mapping every failure to a
/// ``TLSMaterialError`` that names the file.
enum PEMCodec {
    /// All certificates in a PEM file, in order; at least one.
    static func certificates(at url: URL) throws(TLSMaterialError) -> [Certificate] {
        let text = try SecureFile.readText(url)
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw .malformed(url.path, "not PEM: \(error)")
        }
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }
        guard !certificates.isEmpty else {
            throw .malformed(url.path, "no CERTIFICATE block")
        }
        var result: [Certificate] = []
        for document in certificates {
            do {
                result.append(try Certificate(pemDocument: document))
            } catch {
                throw .malformed(url.path, "invalid certificate: \(error)")
            }
        }
        return result
    }

    /// The private key in a PEM file (PKCS#8, SEC1 or PKCS#1).
    static func privateKey(at url: URL) throws(TLSMaterialError) -> Certificate.PrivateKey {
        let text = try SecureFile.readText(url)
        do {
            return try Certificate.PrivateKey(pemEncoded: text)
        } catch {
            throw .malformed(url.path, "invalid private key: \(error)")
        }
    }

    /// PEM text of one or more certificates, concatenated.
    static func pem(_ certificates: [Certificate]) throws -> String {
        try certificates.map { try $0.serializeAsPEM().pemString + "\n" }.joined()
    }

    /// PEM text (PKCS#8) of a private key.
    static func pem(_ key: Certificate.PrivateKey) throws -> String {
        try key.serializeAsPEM().pemString + "\n"
    }
}
