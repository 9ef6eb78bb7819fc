import ArgumentParser
import Foundation
import PomonaCore
import PomonaServer
import PomonaStore

struct PacksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packs",
        abstract: "Import, list and delete osquery query packs.",
        subcommands: [Import.self, List.self, Delete.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import osquery pack files (as osquery ships them) and serve their queries to agents.",
            discussion: """
                Each file becomes a pack named after the file (incident-response.conf → incident-response), \
                replacing a pack of that name. Every query is checked against the osquery table facts for its \
                platforms; queries that would fail on every host are skipped with a warning, the rest are imported.
                """)

        @OptionGroup var server: ServerOptions
        @Argument(help: "Pack files (JSON, with osquery's backslash line continuations).") var files: [String]
        @Option(help: "Pack name (only with a single file).") var name: String?
        @Flag(help: "Fail instead of skipping queries that do not validate.") var strict = false

        func validate() throws {
            if name != nil && files.count != 1 { throw ValidationError("--name needs exactly one file") }
        }

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            let validator = QueryValidator(checker: OsquerySchemaChecker())
            var imported: [(QueryPack, [String])] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                let packName = name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                let result: OsqueryPackImport
                do {
                    result = try OsqueryPackImporter.importPack(data: data, packName: packName, validator: validator)
                } catch {
                    throw ValidationError("\(file): \(error)")
                }
                if strict && !result.warnings.isEmpty {
                    throw ValidationError("\(file):\n  " + result.warnings.joined(separator: "\n  "))
                }
                imported.append((result.validPack, result.warnings))
            }
            // Parse and validate everything first, then save: a bad file leaves nothing half-imported.
            for (pack, warnings) in imported {
                try await store.savePack(pack)
                try await store.recordActivity(
                    actor: "cli", type: "imported_pack",
                    details: .object([("pack", .string(pack.name)), ("queries", .number(String(pack.queries.count)))]))
                print("imported pack \(pack.name): \(pack.queries.count) queries")
                for warning in warnings { print("  warning: \(warning)") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            for pack in try await store.packs() {
                let platform = pack.platform.isEmpty ? "all" : pack.platform
                print("\(pack.name)\t\(pack.queries.count) queries\tplatform: \(platform)\(pack.disabled ? "\tdisabled" : "")")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Argument var name: String

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            guard try await store.deletePack(named: name) else { throw ValidationError("no pack named \(name)") }
            try await store.recordActivity(actor: "cli", type: "deleted_pack", details: .object([("pack", .string(name))]))
            print("deleted pack \(name)")
        }
    }
}
