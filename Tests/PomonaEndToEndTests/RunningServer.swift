import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL
import PomonaServer
import PomonaSimulator
import Synchronization
import Testing

/// A real `PomonaServer` on ephemeral loopback ports with TLS, in a temporary data directory.
///
/// Started as `pomona serve` would start it; stopped with the same graceful shutdown as SIGTERM.
final class RunningServer: Sendable {
    let server: PomonaServer
    let addresses: ServerAddresses
    let task: Task<Void, any Error>
    let dataDirectory: URL

    static let secret = "end-to-end-enroll-secret-0001"

    static func start(dataDirectory: URL? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("pomona-e2e-\(UUID().uuidString)")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory.path
        configuration.agentAddress = "127.0.0.1"
        configuration.agentPort = 0
        configuration.adminPort = 0
        configuration.enrollSecret = secret
        configure(&configuration)
        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let server = try await PomonaServer(configuration: configuration, logger: logger)
        let (stream, continuation) = AsyncStream.makeStream(of: ServerAddresses.self)
        let task = Task { try await server.run { continuation.yield($0) } }
        var iterator = stream.makeAsyncIterator()
        guard let addresses = await iterator.next() else { throw CancellationError() }
        return RunningServer(server: server, addresses: addresses, task: task, dataDirectory: directory)
    }

    private init(server: PomonaServer, addresses: ServerAddresses, task: Task<Void, any Error>, dataDirectory: URL) {
        self.server = server
        self.addresses = addresses
        self.task = task
        self.dataDirectory = dataDirectory
    }

    var baseURL: String { "https://localhost:\(addresses.agentPort)" }

    var caPEM: String {
        get throws { try String(contentsOf: server.tlsFiles.caCertificatePath!, encoding: .utf8) }
    }

    /// Stops like SIGTERM would and waits until the database is closed.
    func stop() async {
        await server.shutdown()
        _ = try? await task.value
    }

    func agentConfiguration(endpoints: AgentEndpoints = .standard, secret: String = RunningServer.secret) throws -> OsqueryAgentConfiguration {
        var configuration = try OsqueryAgentConfiguration(baseURL: baseURL, caPEM: caPEM, enrollSecret: secret)
        configuration.endpoints = endpoints
        configuration.identifierMode = .uuid
        configuration.enrollMaxAttempts = 1
        configuration.sleep = { _ in }  // retries at once: the behaviour is tested, not the waiting
        return configuration
    }

    func agent(index: Int, platform: OsqueryPlatformName = .darwin, endpoints: AgentEndpoints = .standard) throws -> OsqueryAgent {
        try OsqueryAgent(
            profile: HostProfile(seed: 42, index: index, platform: platform.value), configuration: try agentConfiguration(endpoints: endpoints))
    }
}

import PomonaCore

/// Platform choice for test agents without spelling out the core enum in every test.
enum OsqueryPlatformName {
    case darwin, linux, windows
    var value: OsqueryPlatform {
        switch self {
        case .darwin: .darwin
        case .linux: .linux
        case .windows: .windows
        }
    }
}

/// Runs `body` with an HTTP client for raw requests (HTTP/1.1, no decompression), shutting it down afterwards.
func withAgentClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration(decompression: .disabled)
    configuration.httpVersion = .http1Only
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
