import ArgumentParser
import PomonaCore

/// `pomona`: the appliance and its tools in one binary.
@available(macOS 10.15, *)
public struct PomonaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pomona",
        abstract: "A single-binary osquery fleet server: agent API, SQLite store, log pipeline.",
        version: PomonaVersion.current,
        subcommands: [ServeCommand.self, AgentKitCommand.self, PacksCommand.self, EnrollSecretCommand.self, BaselineCommand.self, SimulateCommand.self,
            SetupCommand.self, LoginCommand.self, LogoutCommand.self, GetCommand.self, ApplyCommand.self, DeleteCommand.self,
            QueryCommand.self, DebugCommand.self, PipelineCommand.self, BackupCommand.self, RestoreCommand.self],
        defaultSubcommand: nil)

    public init() {}
}

