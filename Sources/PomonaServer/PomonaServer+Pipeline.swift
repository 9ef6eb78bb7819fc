import Foundation
import Logging
import NIOCore
import PomonaCore
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

extension PomonaServer {
    /// Live-query results (already stored for the admin API) also go into the pipeline as the
    /// input `live`, sourcetype `osquery:live`: one event per row,
    /// `{"name":"pomona-live-<campaign>","query":…,"host_id":…,"columns":{…},"action":"live"}`.
    /// The hook must not block, so the append runs in its own task; if the spool refuses it (full),
    /// the result is still in the database and the refusal is counted and logged.
    static func forwardLiveQueryResults(registry: HostRegistry, pipeline: Pipeline, logger: Logger) {
        registry.liveQueries.setResultHook { result, sql in
            guard result.rowCount > 0 else { return }
            let events = LiveResultEvents.make(result, sql: sql)
            if events.isEmpty { return }
            Task {
                do { try await pipeline.appendLive(hostID: result.hostID, events: events, receivedAt: result.receivedAt) } catch {
                    logger.warning("live-query results not spooled for the SIEM", metadata: [
                        "campaign": "\(result.campaignID)", "host_id": "\(result.hostID)", "error": "\(error)",
                    ])
                }
            }
        }
    }
}

enum LiveResultEvents {
    static func make(_ result: LiveQueryHostResult, sql: String) -> [ByteBuffer] {
        let bytes = Array(result.rowsJSON.utf8)
        var rows: [Range<Int>] = []
        _ = try? bytes.withUnsafeBufferPointer { buffer throws(JSONScanError) in
            var scanner = JSONScanner(buffer)
            try scanner.forEachElement { (s: inout JSONScanner) throws(JSONScanError) in
                if s.peek() == UInt8(ascii: "{") { rows.append(try s.skipValue()) } else { try s.skipValue() }
            }
        }
        var prefix: [UInt8] = Array(#"{"name":"#.utf8)
        JSONValue.encodeString("pomona-live-\(result.campaignID)", into: &prefix)
        prefix += Array(#","query":"#.utf8)
        JSONValue.encodeString(sql, into: &prefix)
        prefix += Array(#","host_id":\#(result.hostID),"columns":"#.utf8)
        let suffix = Array(#","action":"live"}"#.utf8)
        return rows.map { range in
            var event = ByteBufferAllocator().buffer(capacity: prefix.count + range.count + suffix.count)
            event.writeBytes(prefix)
            event.writeBytes(bytes[range])
            event.writeBytes(suffix)
            return event
        }
    }
}
