import ArgumentParser
import Foundation
import PomonaServer

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup (database, TLS material, config) to one archive, while the server runs.",
        discussion: """
            The database is copied with SQLite's VACUUM INTO from a read-only connection: a snapshot of \
            the last commit, taken without stopping or blocking the server. The archive (a tar file, mode \
            0600: it holds the CA key and enroll secrets) also holds <data-dir>/tls/ and, with --config, \
            the config file and any tls.certificate/tls.private_key it names. Restore it with `pomona restore`.
            """)

    @OptionGroup var server: ServerOptions

    @Option(name: .long, help: "The archive to write (must not exist).")
    var out: String

    func run() throws {
        let configuration = try server.load()
        do {
            let summary = try PomonaBackup.create(configuration: configuration, configFile: server.config, out: out)
            print("wrote \(summary.archive): \(summary.members.joined(separator: ", ")) (database \(summary.databaseBytes) bytes)")
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a `pomona backup` archive into an empty data directory.",
        discussion: """
            Every file is checked against the archive's manifest (SHA-256) and the database must pass \
            integrity_check and have a schema this release knows before anything appears in the data \
            directory. A backed-up config lands in <data-dir>/restored-config/ for you to compare with the \
            live one. Start the server with the same --data-dir afterwards; older schemas are migrated then.
            """)

    @Argument(help: "The archive written by `pomona backup`.")
    var archive: String

    @Option(name: .long, help: "Data directory to restore into (must be empty or absent). Default ./pomona-data")
    var dataDir: String = "./pomona-data"

    func run() throws {
        do {
            let summary = try PomonaBackup.restore(archive: archive, dataDirectory: dataDir)
            print("restored the backup of \(summary.createdAt) (Pomona \(summary.pomonaVersion)) into \(summary.dataDirectory)")
            if let config = summary.configDirectory { print("the backed-up configuration is in \(config)") }
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
    }
}
