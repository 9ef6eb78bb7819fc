import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PomonaCore
import PomonaSimulator
import PomonaStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `pomona` binary as a separate process, so it can be killed with SIGKILL.
final class PomonaProcess: Sendable {
    let process: Process
    let port: Int
    let dataDirectory: URL

    /// The binary SwiftPM built next to the test bundle.
    static var binary: URL {
        // The test runner lives in the products directory (Linux) or inside a bundle there (macOS).
        let products = Bundle.main.bundleURL
        let candidates = [products.appendingPathComponent("pomona"), products.deletingLastPathComponent().appendingPathComponent("pomona")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// A TCP port that was free a moment ago (the server binds it right after).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(dataDirectory: URL, port: Int? = nil) throws {
        self.dataDirectory = dataDirectory
        self.port = try port ?? Self.freePort()
        let adminPort = try Self.freePort()
        process = Process()
        process.executableURL = Self.binary
        process.arguments = [
            "serve", "--data-dir", dataDirectory.path, "--agent-listen", "127.0.0.1:\(self.port)",
            "--admin-listen", "127.0.0.1:\(adminPort)", "--log-level", "warning",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["POMONA_ENROLL_SECRET"] = RunningServer.secret
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var caPEM: String { get throws { try String(contentsOf: dataDirectory.appendingPathComponent("tls/ca.pem"), encoding: .utf8) } }

    func waitUntilReady(client: HTTPClient) async throws {
        for _ in 0..<200 {
            if let ca = try? caPEM,
                let response = try? await RawAgentRequest.get(client: client, url: "https://localhost:\(port)/healthz", caPEM: ca),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct ProcessCrashTests {
    /// Logs acknowledged with `{}` must survive SIGKILL: the server answers only after the spool's
    /// fdatasync, and the output delivers them after the restart (at-least-once). Hosts that got a
    /// node key while the kill landed must still be enrolled after the restart.
    @Test func acknowledgedLogsSurviveKill9() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: PomonaProcess.binary.path), "pomona binary at \(PomonaProcess.binary.path)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-kill-\(UUID().uuidString)")
        let server = try PomonaProcess(dataDirectory: directory)
        let acknowledged = AcknowledgedLines()
        try await withAgentClient { client in
            try await server.waitUntilReady(client: client)
            var configuration = try OsqueryAgentConfiguration(baseURL: "https://localhost:\(server.port)", caPEM: server.caPEM, enrollSecret: RunningServer.secret)
            configuration.enrollMaxAttempts = 1
            configuration.sleep = { _ in }
            let transport = try AgentTransport(tlsConfiguration: configuration.tlsConfiguration)
            let agents = (0..<4).map { OsqueryAgent(profile: HostProfile(seed: 9, index: $0, platform: .linux), configuration: configuration, transport: transport) }
            for agent in agents { _ = try await agent.enroll() }
            let newHostConfiguration = configuration

            // Four agents post batches as fast as they can; SIGKILL lands in the middle.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (a, agent) in agents.enumerated() {
                    group.addTask {
                        for batch in 0..<10_000 {
                            let marks = (0..<20).map { "a\(a)-b\(batch)-l\($0)" }
                            let lines = marks.map { PomonaSimulator.JSONValue.object(["name": .string("crash_test"), "mark": .string($0)]) }
                            let result = await agent.sendLogs(type: .result, lines: lines)
                            if !result.delivered { return }  // the server is gone
                            acknowledged.lines.withLock { $0.formUnion(marks) }
                        }
                    }
                }
                // New hosts enroll one after another meanwhile.
                group.addTask {
                    for index in 100..<10_000 {
                        let agent = OsqueryAgent(
                            profile: HostProfile(seed: 9, index: index, platform: .darwin), configuration: newHostConfiguration, transport: transport)
                        do { _ = try await agent.enroll() } catch { return }  // the server is gone
                        let uuid = await agent.profile.hardwareUUID
                        acknowledged.enrolled.withLock { $0.append(uuid) }
                    }
                }
                // The kill lands mid-load: once some batches and enrollments were acknowledged (a
                // loaded CI machine gets there later than a quiet one; 30 s at most).
                group.addTask {
                    for _ in 0..<300 {
                        let lines = acknowledged.lines.withLock { $0.count }
                        let hosts = acknowledged.enrolled.withLock { $0.count }
                        if lines > 500 && hosts > 10 { break }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    server.kill9()
                }
                try await group.waitForAll()
            }
        }
        let acked = acknowledged.lines.withLock { $0 }
        #expect(acked.count > 100, "the kill should land after some batches were acknowledged")

        // Acknowledged means durable in the spool; the default file output delivers it. After the
        // restart every acknowledged line reaches the file, whole.
        let restarted = try PomonaProcess(dataDirectory: directory)
        defer { restarted.terminate() }
        try await withAgentClient { client in try await restarted.waitUntilReady(client: client) }
        var written = Set<String>()
        for _ in 0..<600 {
            written = []
            let text = (try? String(contentsOf: directory.appendingPathComponent("logs/osquery_result.log"), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                // The file output itself may have been cut mid-line by the kill; what matters is
                // that every acknowledged line arrives whole (the spool redelivers it).
                guard let value = try? PomonaSimulator.JSONValue.parse(Array(line.utf8)) else { continue }
                if let mark = value["mark"]?.stringValue { written.insert(mark) }
            }
            if acked.isSubset(of: written) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(acked.subtracting(written).isEmpty, "lost \(acked.subtracting(written).count) acknowledged lines")

        // The database is intact and the hosts are still known after a restart.
        #expect(try await Datastore(path: directory.appendingPathComponent("pomona.sqlite").path).integrityCheck() == "ok")
        let store = try Datastore(path: directory.appendingPathComponent("pomona.sqlite").path)
        let enrolled = acknowledged.enrolled.withLock { $0 }
        #expect(enrolled.count > 10, "the kill should land after some enrollments were acknowledged")
        // An enrollment whose answer the kill cut off may be stored too, so at least, not exactly.
        #expect(try await store.hostCount() >= 4 + enrolled.count)
        var missing: [String] = []
        for key in enrolled where try await store.hostIDs(HostListFilter(query: key)).isEmpty { missing.append(key) }
        #expect(missing.isEmpty, "hosts that got a node key but are gone after the restart: \(missing)")
    }
}

/// Lines and enrollments the server acknowledged, shared by the agents' tasks.
final class AcknowledgedLines: Sendable {
    let lines = Mutex<Set<String>>([])
    /// Hardware UUIDs of hosts that got a node key.
    let enrolled = Mutex<[String]>([])
}
