import ArgumentParser
import Foundation

/// Options every client command shares: which config file and context, and overrides for the
/// server address and TLS trust.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "CLI config file (default $XDG_CONFIG_HOME/pomona/config.yml or ~/.config/pomona/config.yml; env POMONA_CLI_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Named context in the config file (default: the current one, else \"default\").")
    var context: String?

    @Option(name: .long, help: "Admin listener address, e.g. https://127.0.0.1:9443 (overrides the context).")
    var address: String?

    @Option(name: .long, help: "PEM file of the CA to trust for the admin listener (the server's data dir tls/ca.pem).")
    var ca: String?

    @Flag(name: .long, help: "Do not verify the server's TLS certificate (testing only).")
    var insecure = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var configPath: String {
        CLIConfigFile.path(override: config, environment: environment, home: NSHomeDirectory())
    }

    /// The context the command works with: the stored one with this invocation's overrides.
    func resolve() throws(CLIError) -> ResolvedContext {
        let path = configPath
        let file = try CLIConfigFile.load(path: path)
        let name = context ?? environment["POMONA_CONTEXT"] ?? file.currentContext ?? CLIConfigFile.defaultContextName
        var stored = file.contexts[name] ?? CLIContext()
        if context != nil, file.contexts[name] == nil, address == nil {
            throw CLIError("no context named \"\(name)\" in \(path); create it with `pomona login --context \(name) --address …`")
        }
        if let address { stored.address = CLIContext.normalizedAddress(address) }
        if let ca { stored.rootca = Self.absolutePath(ca) }
        if insecure { stored.tlsSkipVerify = true }
        if let token = environment["POMONA_API_TOKEN"], !token.isEmpty { stored.token = token }
        return ResolvedContext(name: name, configPath: path, file: file, context: stored)
    }

    static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// A context ready to use, with where it came from so it can be saved back.
struct ResolvedContext: Sendable {
    var name: String
    var configPath: String
    var file: CLIConfigFile
    var context: CLIContext

    /// Stores `context` under `name` and makes it current.
    func save(_ context: CLIContext) throws(CLIError) {
        var file = self.file
        file.contexts[name] = context
        file.currentContext = name
        try file.save(path: configPath)
    }

    /// When no CA is configured, the CA `pomona serve` generated in the usual data directories
    /// (`$POMONA_DATA_DIR/tls/ca.pem`, `./pomona-data/tls/ca.pem`), so that `setup`/`login` on the
    /// server machine work without `--ca`. Only these two commands use it, and they store the path.
    func discoveredCA(environment: [String: String]) -> String? {
        guard context.rootca == nil, context.tlsSkipVerify != true else { return nil }
        var candidates: [String] = []
        if let dataDir = environment["POMONA_DATA_DIR"], !dataDir.isEmpty { candidates.append(dataDir + "/tls/ca.pem") }
        candidates.append("pomona-data/tls/ca.pem")
        return candidates.map(ClientOptions.absolutePath).first { FileManager.default.isReadableFile(atPath: $0) }
    }
}
