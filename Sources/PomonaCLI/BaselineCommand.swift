import ArgumentParser
import Foundation
import PomonaCore
import PomonaServer
import PomonaStore

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Show, remove or reinstall the built-in macOS baseline schedule.",
        subcommands: [Show.self, Remove.self, Install.self])

    struct Show: ParsableCommand {
        func run() {
            for q in MacOSBaseline.queries {
                print("\(q.name)\t\(q.logging.rawValue)\t\(q.interval)s\t\(q.platform)")
            }
            print("\nosquery flags the baseline needs (pomona agent-kit writes them):")
            for line in MacOSBaseline.flagfileLines { print("  \(line)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            let count = try await store.deleteBuiltinQueries(marker: PomonaServer.baselineMarker)
            try await store.recordActivity(actor: "cli", type: "removed_macos_baseline")
            print("removed \(count) baseline queries (they stay removed across restarts)")
        }
    }

    struct Install: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            for q in MacOSBaseline.queries { try await store.saveQuery(q, builtin: PomonaServer.baselineMarker) }
            try await store.recordActivity(actor: "cli", type: "installed_macos_baseline")
            print("installed \(MacOSBaseline.queries.count) baseline queries")
        }
    }
}
