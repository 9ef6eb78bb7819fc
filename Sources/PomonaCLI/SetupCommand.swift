import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

/// `pomona setup`: creates the first admin on a new server (`POST /api/v1/setup`) and logs in.
struct SetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the first admin user of a new Pomona server and store its session token.",
        discussion: "Only works while the server has no user. The password is asked for if not given (stdin when not a terminal).")

    @OptionGroup var client: ClientOptions
    @Option(help: "Email of the first admin.") var email: String
    @Option(help: "Full name of the first admin.") var name: String
    @Option(help: "Password (prefer the prompt or stdin: arguments show up in ps).") var password: String?
    @Option(help: "Organisation name.") var orgName = "Pomona"

    func run() async throws {
        var resolved = try client.resolve()
        if let discovered = resolved.discoveredCA(environment: client.environment) {
            resolved.context.rootca = discovered
            printError("using the CA in \(discovered)")
        }
        let password = try self.password ?? Prompt.secret("Password for \(email): ")
        var context = resolved.context
        context.token = nil
        let body = JSONValue.object([
            (
                "admin",
                .object([
                    ("admin", .bool(true)), ("email", .string(email)), ("name", .string(name)),
                    ("password", .string(password)), ("password_confirmation", .string(password)),
                ])
            ),
            ("org_info", .object([("org_name", .string(orgName))])),
            ("server_url", .string(context.address)),
        ])
        let answer = try await APIClient.with(context) { api in
            try await api.send(.POST, "/api/v1/setup", body: body, authenticated: false)
        }
        guard let token = answer["token"]?.stringValue, !token.isEmpty else {
            throw CLIError("setup succeeded but the answer has no token; run `pomona login --email \(email)`")
        }
        context.email = email
        context.token = token
        try resolved.save(context)
        print("Created admin \(email) on \(context.address) and logged in; context \"\(resolved.name)\" saved in \(resolved.configPath)")
    }
}
