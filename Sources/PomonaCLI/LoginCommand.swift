import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `pomona login`: email + password → a session token stored in the context.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a Pomona server and store the session token in the CLI config.",
        discussion: """
            The password is asked for without echo when stdin is a terminal, else read from the first line \
            of stdin (`echo "$PW" | pomona login --email me@example.com`). The token is stored in the \
            context (mode 0600); API-only users can instead set POMONA_API_TOKEN.
            """)

    @OptionGroup var client: ClientOptions
    @Option(help: "Email of the user.") var email: String?
    @Option(help: "Password (prefer the prompt or stdin: arguments show up in ps).") var password: String?

    func run() async throws {
        var resolved = try client.resolve()
        let discovered = resolved.discoveredCA(environment: client.environment)
        if let discovered {
            resolved.context.rootca = discovered
            printError("using the CA in \(discovered)")
        }
        let email = try self.email ?? resolved.context.email ?? Prompt.line("Email: ")
        let password = try self.password ?? Prompt.secret("Password: ")
        var context = resolved.context
        context.token = nil
        let answer = try await APIClient.with(context) { api in
            try await api.send(
                .POST, APIClient.prefix + "/login", body: .object([("email", .string(email)), ("password", .string(password))]), authenticated: false)
        }
        guard let token = answer["token"]?.stringValue, !token.isEmpty else {
            throw CLIError("the server's login answer has no token")
        }
        context.email = email
        context.token = token
        try resolved.save(context)
        let user = answer["user"]
        let role = user?["global_role"]?.stringValue.map { " (\($0))" } ?? ""
        print("Logged in to \(context.address) as \(user?["email"]?.stringValue ?? email)\(role); context \"\(resolved.name)\" saved in \(resolved.configPath)")
    }
}

/// `pomona logout`: ends the session on the server and forgets the token.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "End the session on the server and remove the token from the CLI config.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let resolved = try client.resolve()
        var context = resolved.context
        guard context.token != nil else {
            print("Not logged in (context \"\(resolved.name)\").")
            return
        }
        var note = ""
        do {
            _ = try await APIClient.with(context) { api in try await api.fleet(.POST, "/logout") }
        } catch let error as CLIError where error.status == 401 {
            note = " (the session had already ended)"
        }
        context.token = nil
        try resolved.save(context)
        print("Logged out of \(context.address)\(note).")
    }
}

/// Reading answers from the terminal, or from stdin when it is not one.
enum Prompt {
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    static func line(_ prompt: String) throws(CLIError) -> String {
        if stdinIsTerminal { printError(prompt, terminator: "") }
        guard let text = readLine(strippingNewline: true), !text.isEmpty else {
            throw CLIError("no answer for \"\(prompt.trimmingCharacters(in: .whitespaces))\" (give it as an option)")
        }
        return text
    }

    /// A line read with echo off when stdin is a terminal.
    static func secret(_ prompt: String) throws(CLIError) -> String {
        guard stdinIsTerminal else { return try line(prompt) }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            printError("")
        }
        return try line(prompt)
    }
}

/// Text for people on stderr, so stdout stays clean for pipes.
func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}
