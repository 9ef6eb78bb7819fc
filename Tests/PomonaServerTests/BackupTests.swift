import Foundation
import PomonaStore
import Testing

@testable import PomonaServer

@Suite struct TarArchiveTests {
    @Test func headerRoundTripsNameAndSize() async throws {
        for size: Int64 in [0, 1, 511, 512, 513, 0o77777777776, 10 << 30] {
            let header = try TarArchive.header(name: "pomona-backup/pomona.sqlite", size: size, mode: 0o600, mtime: 1_700_000_000)
            #expect(header.count == 512)
            #expect(try TarArchive.parse(header) == .init(name: "pomona-backup/pomona.sqlite", size: size), "size \(size)")
        }
        #expect(try TarArchive.parse([UInt8](repeating: 0, count: 512)) == nil, "the zero block ends an archive")
    }

    @Test func damagedOrForeignHeadersAreRefused() async throws {
        var header = try TarArchive.header(name: "pomona-backup/pomona.sqlite", size: 10, mode: 0o600, mtime: 0)
        header[3] ^= 1
        #expect(throws: BackupError("archive header checksum mismatch: not a Pomona backup, or damaged")) { try TarArchive.parse(header) }
        #expect(throws: BackupError("archive member name too long: \(String(repeating: "a", count: 101))")) {
            try TarArchive.header(name: String(repeating: "a", count: 101), size: 0, mode: 0, mtime: 0)
        }
    }

    @Test func onlyTheMembersABackupWritesAreAccepted() async throws {
        #expect(try PomonaBackup.memberName("pomona-backup/pomona.sqlite") == "pomona.sqlite")
        #expect(try PomonaBackup.memberName("pomona-backup/tls/ca.key") == "tls/ca.key")
        #expect(try PomonaBackup.memberName("pomona-backup/config/pomona.yml") == "config/pomona.yml")
        for bad in ["pomona-backup/../etc/passwd", "pomona-backup/tls/../../x", "/etc/passwd", "pomona-backup/tls/a/b", "pomona-backup/tls/..",
            "pomona-backup/other", "elsewhere/pomona.sqlite", "pomona-backup/tls/"]
        {
            #expect(throws: BackupError("unexpected archive member \(bad)")) { try PomonaBackup.memberName(bad) }
        }
    }
}

@Suite struct BackupTests {
    /// A data directory with a database holding one host, and TLS files.
    static func makeDataDirectory() async throws -> (TemporaryDirectory, ServerConfiguration) {
        let directory = try TemporaryDirectory()
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory.url.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: configuration.tlsDirectory, withIntermediateDirectories: true)
        let store = try Datastore(path: configuration.databasePath)
        _ = try await store.addEnrollSecret("backup-test-secret-0001", name: "test")
        try await store.close()
        try "CA".write(toFile: configuration.tlsDirectory + "/ca.pem", atomically: true, encoding: .utf8)
        try "KEY".write(toFile: configuration.tlsDirectory + "/ca.key", atomically: true, encoding: .utf8)
        return (directory, configuration)
    }

    @Test func backupRestoresIntoAnEmptyDirectoryWithConfigBeside() async throws {
        let (directory, configuration) = try await Self.makeDataDirectory()
        defer { directory.remove() }
        let config = directory.url.appendingPathComponent("pomona.yml").path
        try "log_level: info\n".write(toFile: config, atomically: true, encoding: .utf8)
        let archive = directory.url.appendingPathComponent("b.tar").path
        let summary = try PomonaBackup.create(configuration: configuration, configFile: config, out: archive)
        #expect(summary.members == ["pomona.sqlite", "tls/ca.key", "tls/ca.pem", "config/pomona.yml"])
        #expect(try TemporaryDirectory.mode(of: URL(fileURLWithPath: archive)) == 0o600, "it holds the CA key")
        #expect(!FileManager.default.fileExists(atPath: archive + ".partial"))
        #expect(throws: BackupError("\(archive) exists; choose a new file name (nothing was written)")) {
            try PomonaBackup.create(configuration: configuration, configFile: nil, out: archive)
        }

        let target = directory.url.appendingPathComponent("restored").path
        let restored = try PomonaBackup.restore(archive: archive, dataDirectory: target)
        #expect(restored.configDirectory == target + "/restored-config")
        #expect(try String(contentsOfFile: target + "/restored-config/pomona.yml", encoding: .utf8) == "log_level: info\n")
        #expect(try String(contentsOfFile: target + "/tls/ca.key", encoding: .utf8) == "KEY")
        #expect(try TemporaryDirectory.mode(of: URL(fileURLWithPath: target)) == 0o700)
        let store = try Datastore(path: target + "/pomona.sqlite")
        #expect(try await store.integrityCheck() == "ok")
        #expect(try await store.enrollSecrets().map(\.secret).contains("backup-test-secret-0001"))
    }

    @Test func restoreRefusesANonEmptyDirectoryAndChangesNothing() async throws {
        let (directory, configuration) = try await Self.makeDataDirectory()
        defer { directory.remove() }
        let archive = directory.url.appendingPathComponent("b.tar").path
        _ = try PomonaBackup.create(configuration: configuration, configFile: nil, out: archive)
        #expect(throws: BackupError("\(configuration.dataDirectory) is not empty; restore into an empty or new data directory (nothing was changed)")) {
            try PomonaBackup.restore(archive: archive, dataDirectory: configuration.dataDirectory)
        }
        #expect(try String(contentsOfFile: configuration.tlsDirectory + "/ca.key", encoding: .utf8) == "KEY")
    }

    @Test func aDamagedArchiveIsRefusedAndLeavesNoDataDirectory() async throws {
        let (directory, configuration) = try await Self.makeDataDirectory()
        defer { directory.remove() }
        let archive = directory.url.appendingPathComponent("b.tar").path
        _ = try PomonaBackup.create(configuration: configuration, configFile: nil, out: archive)
        // Flip one byte inside the database member (the second member, after the manifest).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let manifest = try #require(try TarArchive.parse(Array(bytes[0..<512])))
        let databaseStart = 512 + Int(manifest.size) + TarArchive.padding(manifest.size).count + 512
        bytes[databaseStart + 100] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: archive))
        let target = directory.url.appendingPathComponent("restored").path
        #expect(throws: BackupError("archive member pomona.sqlite is damaged (SHA-256 mismatch)")) {
            try PomonaBackup.restore(archive: archive, dataDirectory: target)
        }
        #expect(!FileManager.default.fileExists(atPath: target))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.contains(".restore-") }
        #expect(leftovers.isEmpty, "the staging directory is removed")
        // A truncated archive too.
        try bytes.prefix(databaseStart + 1000).write(to: URL(fileURLWithPath: archive))
        #expect(throws: BackupError("archive truncated inside pomona.sqlite")) {
            try PomonaBackup.restore(archive: archive, dataDirectory: target)
        }
    }

    @Test func somethingElseIsNotTakenForABackup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("x.tar").path
        try Data(count: 4096).write(to: URL(fileURLWithPath: file))
        #expect(throws: BackupError("not a Pomona backup: it does not start with pomona-backup/manifest.json")) {
            try PomonaBackup.restore(archive: file, dataDirectory: directory.url.appendingPathComponent("d").path)
        }
    }
}
