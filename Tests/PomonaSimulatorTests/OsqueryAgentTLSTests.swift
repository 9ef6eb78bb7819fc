import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PomonaCore
import Synchronization
import Testing

@testable import PomonaSimulator

/// The agent against ``CannedTLSServer`` over real TLS with the test CA pinned.
@Suite("OsqueryAgent over TLS", .serialized)
struct OsqueryAgentTLSTests {
    /// A fake server's memory: which keys are valid and how many were issued.
    final class ServerState: Sendable {
        struct Values {
            var validKeys: Set<String> = []
            var issued = 0
            var logAnswers: [String] = []
        }
        let values = Mutex(Values())
    }

    static func responder(_ state: ServerState) -> @Sendable (CannedTLSServer.Request) -> CannedTLSServer.Response {
        { request in
            let body = (try? JSONValue.parse(request.body))?.objectValue ?? [:]
            return state.values.withLock { values in
                switch request.path {
                case "/api/osquery/enroll":
                    guard body["enroll_secret"] == "s3cret" else {
                        return .json(#"{"node_invalid":true,"error":"invalid enroll secret"}"#, status: .unauthorized)
                    }
                    values.issued += 1
                    let key = "k\(values.issued)"
                    values.validKeys.insert(key)
                    // A 500 status with a key is still an enrollment: status codes never matter.
                    return .json(#"{"node_key":"\#(key)","node_invalid":false}"#, status: .internalServerError)
                case "/api/osquery/config":
                    guard let key = body["node_key"]?.stringValue, values.validKeys.contains(key) else {
                        return .json(#"{"node_invalid":true}"#, status: .unauthorized)
                    }
                    return .json(#"{"options":{"distributed_interval":10},"schedule":{},"node_invalid":false}"#)
                case "/api/osquery/distributed/read":
                    return .json(
                        #"{"queries":{"q_os":"SELECT * FROM os_version","q_bad":"SELECT * FROM nope","q_gated":"SELECT * FROM users"},"discovery":{"q_gated":"SELECT 1 FROM users"}}"#
                    )
                case "/api/osquery/log":
                    return .json(values.logAnswers.isEmpty ? "{}" : values.logAnswers.removeFirst())
                case "/api/osquery/carve/begin":
                    return .json(#"{"session_id":"SESSION1"}"#)
                default:
                    return .json("{}")
                }
            }
        }
    }

    final class SleepLog: Sendable {
        let sleeps = Mutex<[Duration]>([])
    }

    func withAgent(
        caPEM: String = TestCertificates.caPEM,
        host: String = "localhost",
        configure: (inout OsqueryAgentConfiguration) -> Void = { _ in },
        _ body: (OsqueryAgent, CannedTLSServer, ServerState, SleepLog) async throws -> Void
    ) async throws {
        let state = ServerState()
        let server = try await CannedTLSServer.start(responder: Self.responder(state))
        let sleepLog = SleepLog()
        var configuration = try OsqueryAgentConfiguration(
            baseURL: "https://\(host):\(server.port)", caPEM: caPEM, enrollSecret: "s3cret")
        configuration.sleep = { duration in sleepLog.sleeps.withLock { $0.append(duration) } }
        configuration.requestTimeout = .seconds(5)
        configure(&configuration)
        let agent = try OsqueryAgent(
            profile: HostProfile(seed: 1, index: 1, platform: .linux), configuration: configuration, recorder: LatencyRecorder())
        do {
            try await body(agent, server, state, sleepLog)
        } catch {
            await agent.disconnect()
            try? await server.shutdown()
            throw error
        }
        await agent.disconnect()
        try await server.shutdown()
    }

    @Test func enrollConfigNodeInvalidReenroll() async throws {
        try await withAgent { agent, server, state, sleepLog in
            let enrolled = try await agent.enroll()
            #expect(enrolled.nodeKey == "k1")
            let first = try await agent.fetchConfig()
            #expect(first.config["options"]?["distributed_interval"] == .integer(10))
            #expect(first.attempts == 1)
            #expect(String(decoding: first.raw, as: UTF8.self).hasPrefix(#"{"options""#))

            // The server forgets k1: config → node_invalid → 1 s → enroll → config with k2.
            _ = state.values.withLock { $0.validKeys.remove("k1") }
            let second = try await agent.fetchConfig()
            #expect(second.attempts == 2)
            #expect(await agent.nodeKey == "k2")
            #expect(sleepLog.sleeps.withLock { $0 } == [.seconds(1)])

            let requests = server.requests
            #expect(requests.map(\.path) == [
                "/api/osquery/enroll", "/api/osquery/config", "/api/osquery/config", "/api/osquery/enroll", "/api/osquery/config",
            ])
            let enroll = requests[0]
            #expect(enroll.method == "POST")
            #expect(enroll.header("Authorization") == nil)
            #expect(enroll.header("Content-Type") == "application/json")
            #expect(enroll.header("Accept") == "application/json")
            #expect(enroll.header("User-Agent") == "osquery/5.23.1")
            #expect(enroll.header("Content-Encoding") == nil)
            let enrollBody = try #require(try JSONValue.parse(enroll.body).objectValue)
            #expect(enrollBody.keys == ["enroll_secret", "host_identifier", "platform_type", "host_details"])
            #expect(enrollBody["platform_type"] == "9")
            #expect(enrollBody["host_identifier"] == .string(await agent.profile.hostname))
            #expect(enrollBody["node_key"] == nil)

            #expect(requests[1].header("Authorization") == "NodeKey k1")
            #expect(requests[4].header("Authorization") == "NodeKey k2")
            #expect(String(decoding: requests[4].body, as: UTF8.self) == #"{"node_key":"k2"}"#)

            let summary = try #require(await agent.recorder?.summary())
            #expect(summary[.config]?.count == 3)
            #expect(summary[.config]?.errors == 1)
            #expect(summary[.enroll]?.count == 2)
        }
    }

    @Test func firstCallEnrollsImplicitlyAndHeaderIsOptional() async throws {
        try await withAgent(configure: { $0.sendsAuthorizationHeader = false }) { agent, server, _, _ in
            _ = try await agent.fetchConfig()
            #expect(server.requests.map(\.path) == ["/api/osquery/enroll", "/api/osquery/config"])
            #expect(server.requests[1].header("Authorization") == nil)
        }
    }

    @Test func wrongSecretFailsEnrollAfterConfiguredAttempts() async throws {
        try await withAgent(configure: { $0.enrollSecret = "wrong"; $0.enrollMaxAttempts = 3 }) { agent, server, _, sleepLog in
            await #expect(throws: AgentError.self) { try await agent.enroll() }
            #expect(server.requests.count == 3)
            #expect(sleepLog.sleeps.withLock { $0 } == [.seconds(1), .seconds(4)])
        }
    }

    @Test func untrustedCAIsATransportFailure() async throws {
        try await withAgent(caPEM: TestCertificates.untrustedCAPEM, configure: { $0.enrollMaxAttempts = 1 }) { agent, server, _, _ in
            do {
                try await agent.enroll()
                Issue.record("enroll must fail against an untrusted chain")
            } catch let error as AgentError {
                guard case .failure(.transport) = error.verdict else {
                    Issue.record("expected a transport failure, got \(error.verdict)")
                    return
                }
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func ipAddressSANIsVerified() async throws {
        try await withAgent(host: "127.0.0.1") { agent, _, _, _ in
            let enrolled = try await agent.enroll()
            #expect(enrolled.nodeKey == "k1")
        }
    }

    @Test func distributedRoundTrip() async throws {
        try await withAgent { agent, server, _, _ in
            let run = try await agent.runDistributedOnce()
            #expect(run.wrote)
            #expect(run.work.queries.count == 3)
            #expect(run.work.rejection == nil)
            #expect(Set(run.answers.keys) == ["q_os", "q_bad", "q_gated"])
            let write = try #require(server.requests.last)
            #expect(write.path == "/api/osquery/distributed/write")
            let body = try #require(try JSONValue.parse(write.body).objectValue)
            #expect(body.keys == ["queries", "statuses", "messages", "stats", "node_key"])
            #expect(body["queries"]?.objectValue?.keys == ["q_bad", "q_gated", "q_os"])
            #expect(body["queries"]?["q_bad"] == .array([]))
            #expect(body["statuses"]?["q_bad"] == .integer(1))
            #expect(body["statuses"]?["q_os"] == .integer(0))
            #expect(body["messages"]?["q_bad"] == "no such table: nope")
            #expect(body["messages"]?["q_os"] == "")
            #expect(write.header("Authorization") == "NodeKey k1")
            #expect(await agent.pendingDistributedResults.isEmpty)
        }
    }

    @Test func logsAreGzippedAndHeadOfLineRetried() async throws {
        try await withAgent { agent, server, state, _ in
            state.values.withLock { $0.logAnswers = [#"{"error":"try later"}"#, "{}"] }
            let formatter = await agent.logFormatter()
            let lines = formatter.eventLines(name: "q", added: [["a": "1"], ["a": "2"]], removed: [], unixTime: 1_785_844_801, counter: 1)
            let failed = await agent.sendLogs(type: .result, lines: lines, gzip: true)
            #expect(!failed.delivered)
            #expect(failed.remaining == 2)
            let more = formatter.eventLines(name: "q", added: [["a": "3"]], removed: [], unixTime: 1_785_844_802, counter: 2)
            let retried = await agent.sendLogs(type: .result, lines: more, gzip: true)
            #expect(retried.delivered)
            #expect(retried.remaining == 0)

            let logRequests = server.requests.filter { $0.path == "/api/osquery/log" }
            #expect(logRequests.count == 2)
            for request in logRequests {
                #expect(request.header("Content-Encoding") == "gzip")
                #expect(request.header("Content-Type") == "application/json")
                let inflated = try #require(AgentResponseJudgement.inflateGzip(request.body))
                let body = try #require(try JSONValue.parse(inflated).objectValue)
                #expect(body["log_type"] == "result")
                #expect(body["node_key"] == "k1")
            }
            // The failed batch is resent whole, with the newer line behind it.
            let second = try JSONValue.parse(AgentResponseJudgement.inflateGzip(logRequests[1].body)!)
            #expect(second["data"]?.arrayValue?.count == 3)
        }
    }

    @Test func carveUploadsBlocksInOrder() async throws {
        try await withAgent { agent, server, _, _ in
            let data = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0) })
            let result = try await agent.carve(data: data, blockSize: 4096)
            #expect(result.blockCount == 3)
            #expect(result.sessionID == "SESSION1")
            let begin = try #require(server.requests.first { $0.path == "/api/osquery/carve/begin" })
            let beginBody = try #require(try JSONValue.parse(begin.body).objectValue)
            #expect(beginBody["block_count"] == 3)
            #expect(beginBody["carve_size"] == 10_000)
            #expect(beginBody["node_key"] == "k1")
            let blocks = server.requests.filter { $0.path == "/api/osquery/carve/block" }
            #expect(blocks.count == 3)
            var joined = Data()
            for (id, block) in blocks.enumerated() {
                let body = try #require(try JSONValue.parse(block.body).objectValue)
                #expect(body["block_id"] == .integer(Int64(id)))
                #expect(body["node_key"] == nil)
                #expect(block.header("Authorization") == "NodeKey k1")
                joined.append(Data(base64Encoded: body["data"]?.stringValue ?? "") ?? Data())
            }
            #expect(joined == data)
        }
    }
}
