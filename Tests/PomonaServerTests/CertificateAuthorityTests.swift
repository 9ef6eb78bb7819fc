import Foundation
import PomonaServer
// Transitive (via X509): PEM parsing initialisers live in SwiftASN1.
import SwiftASN1
import Testing
import X509

@Suite("CertificateAuthority")
struct CertificateAuthorityTests {
    /// Verifies `server.pem` against `ca.pem` alone, as an agent pinning the CA would.
    func verify(_ files: TLSFiles, hostname: String?, ip: String?) async throws -> Bool {
        let roots = try certificates(files.caCertificatePath!)
        let chain = try certificates(files.certificateChainPath)
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: hostname, serverIP: ip)
        }
        let result = await verifier.validate(leaf: chain[0], intermediates: CertificateStore(chain.dropFirst()))
        if case .validCertificate = result { return true }
        return false
    }

    func certificates(_ url: URL) throws -> [Certificate] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.components(separatedBy: "-----END CERTIFICATE-----")
            .filter { $0.contains("-----BEGIN CERTIFICATE-----") }
            .map { try Certificate(pemEncoded: $0 + "-----END CERTIFICATE-----\n") }
    }

    @Test func createsFilesWithModes() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let dir = temp.url.appendingPathComponent("tls")
        let files = try CertificateAuthority.loadOrCreate(directory: dir, serverNames: [])

        #expect(files.caCertificatePath == dir.appendingPathComponent("ca.pem"))
        #expect(files.certificateChainPath == dir.appendingPathComponent("server.pem"))
        #expect(files.privateKeyPath == dir.appendingPathComponent("server.key"))
        #expect(try TemporaryDirectory.mode(of: dir) == 0o700)
        #expect(try TemporaryDirectory.mode(of: dir.appendingPathComponent("ca.key")) == 0o600)
        #expect(try TemporaryDirectory.mode(of: dir.appendingPathComponent("server.key")) == 0o600)
        #expect(try TemporaryDirectory.mode(of: dir.appendingPathComponent("ca.pem")) == 0o644)

        let ca = try certificates(files.caCertificatePath!)[0]
        #expect(ca.subject.description.contains("Pomona Local CA "))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let chain = try certificates(files.certificateChainPath)
        #expect(chain.count == 2)
        #expect(chain[1] == ca)
        #expect(try chain[0].extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        let days = chain[0].notValidAfter.timeIntervalSince(chain[0].notValidBefore) / 86_400
        #expect(days > 824 && days < 827)
    }

    @Test func clientTrustingOnlyTheCAAcceptsLocalNamesAndRejectsOthers() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let files = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: ["pomona.test", "10.1.2.3"])

        #expect(try await verify(files, hostname: "localhost", ip: nil))
        #expect(try await verify(files, hostname: nil, ip: "127.0.0.1"))
        #expect(try await verify(files, hostname: nil, ip: "::1"))
        #expect(try await verify(files, hostname: "pomona.test", ip: nil))
        #expect(try await verify(files, hostname: nil, ip: "10.1.2.3"))
        let host = ProcessInfo.processInfo.hostName
        #expect(try await verify(files, hostname: host, ip: nil))
        #expect(try await !verify(files, hostname: "example.com", ip: nil))
        #expect(try await !verify(files, hostname: nil, ip: "192.0.2.1"))
    }

    @Test func secondCallKeepsEverything() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: ["pomona.test"])
        let ca1 = try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8)
        let server1 = try String(contentsOf: temp.url.appendingPathComponent("server.pem"), encoding: .utf8)

        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: ["POMONA.test"])
        #expect(try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8) == ca1)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("server.pem"), encoding: .utf8) == server1)
    }

    @Test func newServerNameReissuesFromTheSameCA() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        let ca1 = try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8)
        let key1 = try String(contentsOf: temp.url.appendingPathComponent("server.key"), encoding: .utf8)

        let files = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: ["fleet.example.org"])
        #expect(try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8) == ca1)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("server.key"), encoding: .utf8) != key1)
        #expect(try await verify(files, hostname: "fleet.example.org", ip: nil))
        #expect(try await verify(files, hostname: "localhost", ip: nil))
    }

    @Test func serverCertificateNearExpiryIsReissued() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let start = Date()
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [], now: start)
        let ca1 = try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8)
        let server1 = try String(contentsOf: temp.url.appendingPathComponent("server.pem"), encoding: .utf8)

        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [], now: start + 700 * 86_400)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("server.pem"), encoding: .utf8) == server1)

        let later = start + 800 * 86_400
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [], now: later)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("ca.pem"), encoding: .utf8) == ca1)
        let leaf = try certificates(temp.url.appendingPathComponent("server.pem"))[0]
        #expect(leaf.notValidAfter > later + 800 * 86_400)
    }

    @Test func missingCAKeyIsAnErrorNotANewCA() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        let caKey = temp.url.appendingPathComponent("ca.key")
        try FileManager.default.removeItem(at: caKey)

        let error = #expect(throws: TLSMaterialError.self) {
            try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        }
        #expect(error?.code == .inconsistent)
        #expect(error?.path == caKey.path)
    }

    @Test func garbageFileIsReportedWithItsPath() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        let caPEM = temp.url.appendingPathComponent("ca.pem")
        try "not a certificate".write(to: caPEM, atomically: true, encoding: .utf8)

        let error = #expect(throws: TLSMaterialError.self) {
            try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        }
        #expect(error?.code == .malformed)
        #expect(error?.description.contains(caPEM.path) == true)
    }

    @Test func invalidServerNameIsRejected() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let error = #expect(throws: TLSMaterialError.self) {
            try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: ["bad name!"])
        }
        #expect(error?.code == .invalidServerName)
    }

    @Test func operatorSuppliedFilesAreCheckedAndUnreadableOnesNamed() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let generated = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        let files = try TLSFiles.operatorSupplied(
            certificateChainPath: generated.certificateChainPath,
            privateKeyPath: generated.privateKeyPath
        )
        #expect(files.caCertificatePath == nil)

        let missing = temp.url.appendingPathComponent("nope.pem")
        let error = #expect(throws: TLSMaterialError.self) {
            try TLSFiles.operatorSupplied(certificateChainPath: missing, privateKeyPath: generated.privateKeyPath)
        }
        #expect(error?.code == .unreadable)
        #expect(error?.path == missing.path)

        let mismatch = #expect(throws: TLSMaterialError.self) {
            try TLSFiles.operatorSupplied(
                certificateChainPath: generated.certificateChainPath,
                privateKeyPath: temp.url.appendingPathComponent("ca.key")
            )
        }
        #expect(mismatch?.code == .inconsistent)
    }
}
