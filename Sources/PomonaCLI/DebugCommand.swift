import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

/// `pomona debug`: the running server's state in one screen — version, uptime, database size and
/// health, writer queue, pipeline counters, recent errors.
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Show the server's version, uptime, database, writer queue, pipeline stats and recent errors.",
        discussion: "Needs an admin session. --integrity also runs SQLite's integrity_check, which reads the whole database.")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Run SQLite's integrity_check (slow on a large database).") var integrity = false
    @Flag(help: "Print the raw answers as one JSON object.") var json = false

    func run() async throws {
        let context = try client.resolve().context
        let report = try await APIClient.with(context) { api in try await Self.collect(api: api, integrity: integrity) }
        if json {
            print(String(decoding: JSONValue.object(report.map { ($0.0, $0.1 ?? .null) }).encoded(), as: UTF8.self))
            return
        }
        print("cli version:  \(PomonaVersion.current)")
        print("server:       \(context.address)")
        for (name, value) in report {
            guard let value else {
                print("\n\(name): not offered by this server")
                continue
            }
            print("\n\(name):")
            print(KeyValueListing.render(value, skipping: ["recent_errors"]).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        let errors = report.first { $0.0 == "debug" }?.1?["recent_errors"]?.arrayValue ?? []
        print("\nrecent errors: \(errors.isEmpty ? "none" : "")")
        for entry in errors.suffix(20) {
            print("  \(CellText.time(entry["time"])) [\(CellText.of(entry["label"]))] \(CellText.of(entry["message"]))")
        }
    }

    /// Each source, or `nil` when this server does not offer it (404); other errors stop the command.
    static func collect(api: APIClient, integrity: Bool) async throws(CLIError) -> [(String, JSONValue?)] {
        func optional(_ path: String, query: [(String, String)] = [], authenticated: Bool = true) async throws(CLIError) -> JSONValue? {
            do {
                return try await api.send(.GET, path, query: query, authenticated: authenticated)
            } catch where error.status == 404 {
                return nil
            }
        }
        var report: [(String, JSONValue?)] = []
        report.append(("health", try await optional("/healthz", query: [("check", "db")], authenticated: false)))
        report.append(("version", try await optional(APIClient.prefix + "/version")))
        report.append(("debug", try await optional("/api/v1/pomona/debug", query: integrity ? [("check", "integrity")] : [])))
        report.append(("pipeline", try await optional("/api/v1/pomona/pipeline/stats")))
        return report
    }
}
