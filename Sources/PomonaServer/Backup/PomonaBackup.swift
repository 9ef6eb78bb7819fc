import Crypto
import Foundation
import PomonaCore
import PomonaStore

/// `pomona backup` and `pomona restore`: the database (a consistent online snapshot), the TLS
/// material and the configuration in one tar archive, restorable into an empty data directory.
///
/// Archive layout (all under `pomona-backup/`): `manifest.json` first (format, Pomona version,
/// schema migrations, and the SHA-256 and size of every other member), `pomona.sqlite`, `tls/*`
/// (the data directory's CA and server certificate with their keys), and `config/*` (the config
/// file and operator-supplied TLS files, when given). Restore checks every hash, the database's
/// `integrity_check` and its schema before anything appears in the data directory.
///
/// Not included: the spool (events in flight to outputs, re-sent by agents' own buffers only if
/// not acknowledged) and the log files, which are the outputs' job.
public enum PomonaBackup {
    static let root = "pomona-backup"
    static let format = "pomona-backup 1"

    struct Manifest: Codable, Equatable {
        struct File: Codable, Equatable {
            var sha256: String
            var bytes: Int64
        }
        var format: String
        var pomonaVersion: String
        var createdAt: String
        var schema: [String]
        /// Member name (below `pomona-backup/`) → hash and size.
        var files: [String: File]

        enum CodingKeys: String, CodingKey {
            case format, schema, files
            case pomonaVersion = "pomona_version"
            case createdAt = "created_at"
        }
    }

    /// What a backup wrote.
    public struct Summary: Sendable {
        public var archive: String
        public var members: [String]
        public var databaseBytes: Int64
    }

    /// Writes the archive to `out` (which must not exist), atomically: a `.partial` file is
    /// synced and renamed, so a failed backup leaves no archive that looks whole.
    public static func create(configuration: ServerConfiguration, configFile: String?, out: String) throws -> Summary {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: out) else { throw BackupError("\(out) exists; choose a new file name (nothing was written)") }
        guard fm.fileExists(atPath: configuration.databasePath) else {
            throw BackupError("no database at \(configuration.databasePath): is --data-dir right?")
        }
        let work = URL(fileURLWithPath: out).deletingLastPathComponent()
            .appendingPathComponent(".pomona-backup-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(at: work) }

        // 1. The database snapshot, then every member's hash: the manifest goes first.
        let snapshot = work.appendingPathComponent("pomona.sqlite")
        try Datastore.snapshot(databaseAt: configuration.databasePath, to: snapshot.path)
        var members: [(name: String, file: URL, mode: Int)] = [("pomona.sqlite", snapshot, 0o600)]
        let tls = URL(fileURLWithPath: configuration.tlsDirectory)
        for name in ((try? fm.contentsOfDirectory(atPath: tls.path)) ?? []).sorted() {
            var isDirectory: ObjCBool = false
            let file = tls.appendingPathComponent(name)
            if fm.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                members.append(("tls/" + name, file, name.hasSuffix(".key") ? 0o600 : 0o644))
            }
        }
        if let configFile { members.append(("config/" + URL(fileURLWithPath: configFile).lastPathComponent, URL(fileURLWithPath: configFile), 0o600)) }
        if let cert = configuration.tlsCertificatePath { members.append(("config/tls-certificate.pem", URL(fileURLWithPath: cert), 0o644)) }
        if let key = configuration.tlsPrivateKeyPath { members.append(("config/tls-private-key.pem", URL(fileURLWithPath: key), 0o600)) }
        var files: [String: Manifest.File] = [:]
        for member in members {
            guard files[member.name] == nil else { throw BackupError("two files would be archived as \(member.name)") }
            files[member.name] = try hash(member.file)
        }
        let manifest = Manifest(
            format: format, pomonaVersion: PomonaVersion.current, createdAt: ISO8601DateFormatter().string(from: Date()),
            schema: try Datastore.appliedMigrations(atPath: snapshot.path), files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]

        // 2. The archive, owner-only: it holds the CA key and every enroll secret.
        let partial = out + ".partial"
        guard fm.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw BackupError("cannot create \(partial)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
            defer { try? handle.close() }
            try TarArchive.append(name: root + "/manifest.json", data: try encoder.encode(manifest), mode: 0o600, to: handle)
            for member in members {
                var hasher = SHA256()
                try TarArchive.append(name: root + "/" + member.name, file: member.file, mode: member.mode, to: handle) { hasher.update(data: $0) }
                // A TLS file replaced between hashing and archiving would fail its restore: catch it now.
                guard hex(hasher.finalize()) == files[member.name]?.sha256 else {
                    throw BackupError("\(member.file.path) changed while the backup was taken; run it again")
                }
            }
            try TarArchive.finish(handle)
            try handle.synchronize()
        } catch {
            try? fm.removeItem(atPath: partial)
            throw error
        }
        guard rename(partial, out) == 0 else {
            try? fm.removeItem(atPath: partial)
            throw BackupError("cannot rename \(partial) to \(out): \(String(cString: strerror(errno)))")
        }
        return Summary(archive: out, members: members.map(\.name), databaseBytes: files["pomona.sqlite"]?.bytes ?? 0)
    }

    /// What a restore put where.
    public struct RestoreSummary: Sendable {
        public var dataDirectory: String
        /// Where the backed-up config file and operator TLS files were put, if the backup had any.
        public var configDirectory: String?
        public var createdAt: String
        public var pomonaVersion: String
    }

    /// Restores `archive` into `dataDirectory`, which must be empty or absent. Everything is
    /// extracted and checked in a sibling directory first and moved into place last, so a bad
    /// archive leaves the data directory as it was.
    public static func restore(archive: String, dataDirectory: String) throws -> RestoreSummary {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: dataDirectory).standardizedFileURL
        if fm.fileExists(atPath: target.path) {
            let contents = try fm.contentsOfDirectory(atPath: target.path)
            guard contents.isEmpty else {
                throw BackupError("\(target.path) is not empty; restore into an empty or new data directory (nothing was changed)")
            }
        }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).restore-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var moved = false
        defer { if !moved { try? fm.removeItem(at: staging) } }

        let input: FileHandle
        do { input = try FileHandle(forReadingFrom: URL(fileURLWithPath: archive)) } catch {
            throw BackupError("cannot read \(archive): \(error.localizedDescription)")
        }
        defer { try? input.close() }
        let manifest = try readManifest(input)
        var seen: Set<String> = []
        while let header = try TarArchive.readExactly(TarArchive.block, from: input), let member = try TarArchive.parse(header) {
            let name = try memberName(member.name)
            guard let expected = manifest.files[name] else { throw BackupError("archive member \(name) is not in its manifest") }
            guard expected.bytes == member.size, seen.insert(name).inserted else { throw BackupError("archive member \(name) does not match its manifest") }
            let destination = staging.appendingPathComponent(name)
            try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard fm.createFile(atPath: destination.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw BackupError("cannot create \(destination.path)")
            }
            let output = try FileHandle(forWritingTo: destination)
            var hasher = SHA256()
            var left = member.size
            while left > 0 {
                guard let data = try input.read(upToCount: Int(min(Int64(TarArchive.chunk), left))), !data.isEmpty else {
                    try? output.close()
                    throw BackupError("archive truncated inside \(name)")
                }
                hasher.update(data: data)
                try output.write(contentsOf: data)
                left -= Int64(data.count)
            }
            try output.synchronize()
            try output.close()
            _ = try TarArchive.readExactly(TarArchive.padding(member.size).count, from: input)
            guard hex(hasher.finalize()) == expected.sha256 else { throw BackupError("archive member \(name) is damaged (SHA-256 mismatch)") }
        }
        let missing = Set(manifest.files.keys).subtracting(seen)
        guard missing.isEmpty else { throw BackupError("archive is missing \(missing.sorted().joined(separator: ", "))") }

        let database = staging.appendingPathComponent("pomona.sqlite").path
        let integrity = try Datastore.integrityCheck(atPath: database)
        guard integrity == "ok" else { throw BackupError("the backed-up database fails integrity_check: \(integrity)") }
        let applied = try Datastore.appliedMigrations(atPath: database)
        let unknown = applied.filter { !Datastore.knownMigrations.contains($0) }
        guard unknown.isEmpty else {
            throw BackupError(
                NewerSchemaError(path: "in \(archive)", unknownMigrations: unknown).description.replacingOccurrences(
                    of: ", or restore a backup taken with this one (pomona restore)", with: " to restore it"))
        }
        // Config files go beside, not over, the live config: the operator compares and picks.
        let configDirectory = seen.contains { $0.hasPrefix("config/") } ? target.appendingPathComponent("restored-config").path : nil
        if configDirectory != nil {
            try fm.moveItem(at: staging.appendingPathComponent("config"), to: staging.appendingPathComponent("restored-config"))
        }
        if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }  // empty, checked above
        guard rename(staging.path, target.path) == 0 else {
            throw BackupError("cannot move the restored files to \(target.path): \(String(cString: strerror(errno)))")
        }
        moved = true
        return RestoreSummary(
            dataDirectory: target.path, configDirectory: configDirectory, createdAt: manifest.createdAt, pomonaVersion: manifest.pomonaVersion)
    }

    /// The first member must be the manifest of a format this release reads.
    static func readManifest(_ input: FileHandle) throws -> Manifest {
        guard let header = try TarArchive.readExactly(TarArchive.block, from: input), let member = try TarArchive.parse(header),
            member.name == root + "/manifest.json", member.size < 1 << 20
        else { throw BackupError("not a Pomona backup: it does not start with \(root)/manifest.json") }
        guard let bytes = try TarArchive.readExactly(Int(member.size), from: input) else { throw BackupError("archive truncated in its manifest") }
        _ = try TarArchive.readExactly(TarArchive.padding(member.size).count, from: input)
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes)) } catch {
            throw BackupError("the backup's manifest is not readable: \(error)")
        }
        guard manifest.format == format else { throw BackupError("unknown backup format \"\(manifest.format)\" (this Pomona reads \"\(format)\")") }
        guard manifest.files["pomona.sqlite"] != nil else { throw BackupError("the backup has no database") }
        for name in manifest.files.keys { _ = try memberName(root + "/" + name) }
        return manifest
    }

    /// The member's name below the root, refused unless it is one a backup writes: the
    /// database, `tls/<file>` or `config/<file>` (no `..`, no absolute paths, no deeper levels).
    static func memberName(_ full: String) throws -> String {
        guard full.hasPrefix(root + "/") else { throw BackupError("unexpected archive member \(full)") }
        let name = String(full.dropFirst(root.count + 1))
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let fileOK: (Substring) -> Bool = { !$0.isEmpty && $0 != "." && $0 != ".." }
        let allowed = name == "pomona.sqlite" || (parts.count == 2 && (parts[0] == "tls" || parts[0] == "config") && fileOK(parts[1]))
        guard allowed else { throw BackupError("unexpected archive member \(full)") }
        return name
    }

    static func hash(_ file: URL) throws -> Manifest.File {
        let input = try FileHandle(forReadingFrom: file)
        defer { try? input.close() }
        var hasher = SHA256()
        var bytes: Int64 = 0
        while let data = try input.read(upToCount: TarArchive.chunk), !data.isEmpty {
            hasher.update(data: data)
            bytes += Int64(data.count)
        }
        return Manifest.File(sha256: hex(hasher.finalize()), bytes: bytes)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
