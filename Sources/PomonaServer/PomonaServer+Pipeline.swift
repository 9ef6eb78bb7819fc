import Foundation
import Logging
import PomonaPipeline
import ServiceLifecycle

extension PomonaServer {
    /// Builds the pipeline from the configuration: every output (checked now, so a bad URL or
    /// unreadable CA file stops the start with the key named), the stages per output, the spool.
    /// With no outputs configured, one `file` output named `logs` writes
    /// `<logs.directory>/{sourcetype}.log` (`osquery_result.log`, `osquery_status.log`, …) with
    /// the `logs.*` settings, as before the pipeline existed.
    static func makePipeline(_ configuration: ServerConfiguration, hosts: any HostFactsProvider, logger: Logger) throws -> Pipeline {
        var pipelineConfiguration = configuration.pipeline.configuration
        if pipelineConfiguration.outputs.isEmpty {
            let path = (configuration.resolvedLogDirectory as NSString).appendingPathComponent("{sourcetype}.log")
            try FileManager.default.createDirectory(atPath: configuration.resolvedLogDirectory, withIntermediateDirectories: true)
            pipelineConfiguration.outputs = [.file(FileOutputConfiguration(
                name: "logs", path: path, maxFileMB: configuration.logMaxFileMB, keepFiles: configuration.logKeepFiles, fsync: configuration.logSync))]
        }
        var outputs: [any EventOutput] = []
        do {
            for output in pipelineConfiguration.outputs { outputs.append(try makeOutput(output, logger: logger)) }
        } catch {
            for output in outputs { Task { await output.shutdown() } }
            throw ConfigurationError("pipeline.outputs: \(error)")
        }
        var processors: [String: any DeliveryProcessing] = [:]
        if !pipelineConfiguration.routes.isEmpty {
            for output in outputs {
                processors[output.name] = OutputProcessor(outputName: output.name, routes: pipelineConfiguration.routes, hosts: hosts)
            }
        }
        do {
            return try Pipeline(
                configuration: pipelineConfiguration, dataDirectory: URL(fileURLWithPath: configuration.dataDirectory), outputs: outputs,
                processors: processors, logger: logger)
        } catch {
            throw ConfigurationError("cannot open the pipeline spool in \(configuration.dataDirectory)/spool: \(error)")
        }
    }
}

/// Runs the pipeline inside the service group. Listed before the listeners, so on shutdown the
/// listeners stop first (no request is left waiting on an append), then the outputs drain.
struct PipelineService: Service {
    let pipeline: Pipeline

    func run() async throws {
        let pipeline = self.pipeline
        await withGracefulShutdownHandler {
            await pipeline.run()
        } onGracefulShutdown: {
            Task { await pipeline.shutdown() }
        }
    }
}
