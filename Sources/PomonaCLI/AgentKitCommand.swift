import ArgumentParser
import Foundation
import PomonaServer
import PomonaStore

struct AgentKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-kit",
        abstract: "Write what a host needs to enroll: osquery.flags, the CA certificate and the enroll secret.",
        discussion: "Then on the host: osqueryd --flagfile <dir>/osquery.flags (see INSTALL.txt in the kit).")

    @OptionGroup var server: ServerOptions

    @Option(name: .long, help: "Directory to write the kit to.")
    var out: String

    @Option(name: .long, help: "host:port agents connect to (must match a name in the server certificate). Default <hostname>:<agent port>.")
    var serverAddress: String?

    @Option(name: .long, help: "Enroll secret to put in the kit (default: the newest active one).")
    var enrollSecret: String?

    @Option(name: .long, help: "Where the kit's files will live on the host.")
    var installPrefix: String = "/var/osquery"

    func run() async throws {
        let configuration = try server.load()
        let store = try Datastore(path: configuration.databasePath)
        let secret: String
        if let enrollSecret {
            secret = enrollSecret
        } else {
            guard let newest = try await store.enrollSecrets().last else {
                throw ValidationError("no active enroll secret in \(configuration.databasePath); start `pomona serve` once or add one")
            }
            secret = newest.secret
        }
        let caPath = configuration.tlsCertificatePath ?? (configuration.tlsDirectory as NSString).appendingPathComponent("ca.pem")
        guard let caPEM = try? String(contentsOfFile: caPath, encoding: .utf8) else {
            throw ValidationError("cannot read the CA certificate \(caPath); start `pomona serve` once to generate it")
        }
        let address = serverAddress ?? "\(ProcessInfo.processInfo.hostName):\(configuration.agentPort)"
        let (host, port) = try ServeCommand.split(address, "--server-address")
        try AgentKit.write(
            to: URL(fileURLWithPath: out), serverHost: host, serverPort: port, caCertificatePEM: caPEM, enrollSecret: secret,
            installPrefix: installPrefix)
        print("wrote agent kit to \(out) for https://\(host):\(port) (see \(out)/INSTALL.txt)")
    }
}
