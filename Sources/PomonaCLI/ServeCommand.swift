import ArgumentParser
import Foundation
import Logging
import PomonaPipeline
import PomonaServer
#if canImport(Glibc)
import Glibc
#endif

/// Options shared by every command that opens the data directory or reads the config file.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "YAML config file (every key can also come from POMONA_* variables).")
    var config: String?

    @Option(name: .long, help: "Data directory (database, TLS material, logs). Default ./pomona-data")
    var dataDir: String?

    /// Defaults ← config file ← environment ← these options.
    func load() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let path = config {
            let text: String
            do { text = try BoundedYAML.readFile(path, maxBytes: BoundedYAML.maxConfigBytes) } catch {
                throw ValidationError("cannot read config file \(path): \(error.message)")
            }
            try configuration.apply(yaml: text, source: path)
        }
        try configuration.apply(environment: ProcessInfo.processInfo.environment)
        if let dataDir { configuration.dataDirectory = dataDir }
        return configuration
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Pomona: the agent listener (osquery TLS API) and the admin listener.",
        discussion: """
            Starts with embedded defaults: a data directory with a SQLite database (WAL), a generated CA and \
            server certificate, and an enroll secret printed at first start. Config file keys and their \
            environment variables:

            \(ServerConfiguration.documentation.map { "  \($0.key) (\($0.env)): \($0.help)" }.joined(separator: "\n"))
            """)

    @OptionGroup var server: ServerOptions

    @Option(name: .long, help: "Agent listener as address:port (default 0.0.0.0:8443).")
    var agentListen: String?

    @Option(name: .long, help: "Admin listener as address:port (default 127.0.0.1:9443).")
    var adminListen: String?

    @Option(name: .long, help: "Extra DNS name or IP for the generated server certificate (repeatable).")
    var serverName: [String] = []

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Serve the admin page from this directory (development; default: the copy built into the binary).")
    var webDir: String?

    func run() async throws {
        var configuration = try server.load()
        if let agentListen { (configuration.agentAddress, configuration.agentPort) = try Self.split(agentListen, "--agent-listen") }
        if let adminListen { (configuration.adminAddress, configuration.adminPort) = try Self.split(adminListen, "--admin-listen") }
        configuration.serverNames += serverName
        if let logLevel { configuration.logLevel = logLevel }

        // Errors are also kept in memory for `pomona debug` (GET /api/v1/pomona/debug).
        var logger = Logger(label: "pomona") { label in
            MultiplexLogHandler([StreamLogHandler.standardError(label: label), RecentErrorLogHandler(label: label)])
        }
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let server: PomonaServer
        do {
            server = try await PomonaServer(configuration: configuration, logger: logger, webDirectory: webDir)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        if let secret = server.generatedEnrollSecret {
            print("""

                ==> Generated an enroll secret (stored in \(configuration.databasePath)):

                    \(secret)

                    Write an agent kit for your hosts with:
                    pomona agent-kit --data-dir \(configuration.dataDirectory) --out ./agent-kit --server-address <this-host>:\(configuration.agentPort)

                """)
            fflush(nil)  // flush every output stream (naming `stdout` is not concurrency-safe in Swift 6)
        }
        let readyLogger = logger
        let ready = configuration
        try await server.run { addresses in
            readyLogger.notice(
                "pomona ready",
                metadata: [
                    "agent": "https://\(ready.agentAddress):\(addresses.agentPort)",
                    "admin": "https://\(ready.adminAddress):\(addresses.adminPort)",
                    "ca": "\(server.tlsFiles.caCertificatePath?.path ?? "operator-supplied")",
                ])
        }
    }

    static func split(_ text: String, _ option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) must be address:port, e.g. 0.0.0.0:8443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
