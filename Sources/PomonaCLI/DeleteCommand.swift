import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

/// `pomona delete <kind> <name>`: removes a query, pack, label or policy by name, or a host by id.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a query, pack, label or policy by name, or a host by id.",
        discussion: "Deleting a host only forgets it: an agent that still runs enrolls again at its next check-in.")

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case query, pack, label, policy, host
    }

    @OptionGroup var client: ClientOptions
    @Argument(help: "What to delete: query, pack, label, policy or host.") var kind: Kind
    @Argument(help: "Its name (host: its id, or hostname/UUID/serial).") var name: String

    func run() async throws {
        let context = try client.resolve().context
        let what = try await APIClient.with(context) { api in try await Self.delete(kind, name, api: api) }
        print("Deleted \(what).")
    }

    static func delete(_ kind: Kind, _ name: String, api: APIClient) async throws(CLIError) -> String {
        let encoded = APIClient.percentEncoded(name)
        switch kind {
        case .query:
            _ = try await api.fleet(.DELETE, "/queries/\(encoded)")
        case .pack:
            _ = try await api.fleet(.DELETE, "/packs/\(encoded)")
        case .label:
            _ = try await api.fleet(.DELETE, "/labels/\(encoded)")
        case .policy:
            let policies = try await SpecSource(api: api).listAll("/global/policies", key: "policies")
            guard let id = policies.first(where: { $0["name"]?.stringValue == name })?["id"]?.intValue else {
                throw CLIError("no policy named \"\(name)\"")
            }
            _ = try await api.fleet(.POST, "/global/policies/delete", body: .object([("ids", .array([.number(String(id))]))]))
        case .host:
            let host = try await GetCommand.host(name, api: api)
            guard let id = host["id"]?.intValue else { throw CLIError("no host \"\(name)\"") }
            _ = try await api.fleet(.DELETE, "/hosts/\(id)")
            return "host \(id) (\(host["hostname"]?.stringValue ?? name))"
        }
        return "\(kind.rawValue) \"\(name)\""
    }
}
