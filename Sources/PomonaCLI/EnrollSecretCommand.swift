import ArgumentParser
import Foundation
import PomonaServer
import PomonaCore
import PomonaStore

struct EnrollSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-secret",
        abstract: "List, add or revoke enroll secrets (several can be active: rotate without downtime).",
        subcommands: [List.self, Add.self, Revoke.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Flag(help: "Include revoked secrets.") var all = false

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            for s in try await store.enrollSecrets(includeRevoked: all) {
                let state = s.revokedAt == nil ? "active" : "revoked"
                print("\(s.secret)\t\(state)\t\(s.name)")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Argument(help: "The secret (default: a new random one).") var secret: String?
        @Option(help: "A label for the secret.") var name = ""

        func run() async throws {
            let value = secret ?? EnrollSecretGenerator.make()
            guard value.count >= 16 else { throw ValidationError("an enroll secret must be at least 16 characters") }
            let store = try Datastore(path: try server.load().databasePath)
            _ = try await store.addEnrollSecret(value, name: name)
            try await store.recordActivity(actor: "cli", type: "added_enroll_secret", details: .object([("name", .string(name))]))
            print(value)
        }
    }

    struct Revoke: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Argument(help: "The secret to revoke. Hosts already enrolled keep working.") var secret: String

        func run() async throws {
            let store = try Datastore(path: try server.load().databasePath)
            guard try await store.revokeEnrollSecret(secret) else { throw ValidationError("no active enroll secret matches") }
            try await store.recordActivity(actor: "cli", type: "revoked_enroll_secret")
            print("revoked; new enrollments with it are refused within seconds")
        }
    }
}
