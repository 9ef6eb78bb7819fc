import CompressNIO
import Foundation
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization
import Testing

@testable import PomonaAgentAPI

/// A log sink that keeps batches in memory, or fails on demand (a full disk, say).
final class MemoryLogSink: LogSink {
    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "write test: No space left on device" }
    }

    let batches = Mutex<[LogBatch]>([])
    let failing = Mutex(false)
    /// When set, batches are kept but not answered until the test calls what ``takeHeld()`` returns.
    let holding = Mutex(false)
    private let held = Mutex<[@Sendable (Result<Void, any Error>) -> Void]>([])
    /// Called on the thread that appends (the one that inflated and scanned the body).
    let onAppend = Mutex<(@Sendable () -> Void)?>(nil)

    func append(_ batch: LogBatch, done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        if failing.withLock({ $0 }) {
            done(.failure(DiskFull()))
            return
        }
        batches.withLock { $0.append(batch) }
        if holding.withLock({ $0 }) {
            held.withLock { $0.append(done) }
            onAppend.withLock { $0 }?()
            return
        }
        onAppend.withLock { $0 }?()
        done(.success(()))
    }

    func takeHeld() -> [@Sendable (Result<Void, any Error>) -> Void] {
        held.withLock { held in
            defer { held = [] }
            return held
        }
    }
}

/// An AgentService over a fresh SQLite file in a temporary directory.
struct AgentFixture {
    let directory: URL
    let store: Datastore
    let service: AgentService
    let sink = MemoryLogSink()
    static let secret = "test-enroll-secret-0123456789"

    init(
        limits: AgentBodyLimits = AgentBodyLimits(), enrollLimits: FailedEnrollLimiter.Settings = .init(),
        logger: Logger = Logger(label: "test")
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Datastore(path: directory.appendingPathComponent("db.sqlite").path)
        _ = try await store.addEnrollSecret(Self.secret)
        try await store.saveQuery(ScheduledQuery(name: "usb", sql: "SELECT * FROM usb_devices;", interval: 300, platform: "darwin"))
        let config = AgentConfigState(store: store, logger: logger)
        try await config.refresh(force: true)
        service = AgentService(
            store: store, writer: StoreWriter(store: store, logger: logger), registry: HostRegistry(), configState: config,
            logSink: sink, limits: limits, enrollLimits: enrollLimits, logger: logger)
    }

    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    func enroll(identifier: String = "host-1", platform: String = "darwin") async throws -> String {
        let body = """
            {"enroll_secret":"\(Self.secret)","host_identifier":"\(identifier)","platform_type":"21",
             "host_details":{"os_version":{"platform":"\(platform)","name":"macOS","major":"14","minor":"5","patch":"0"},
             "system_info":{"hostname":"\(identifier).local","uuid":"UUID-\(identifier)","hardware_serial":"SER-\(identifier)"},
             "osquery_info":{"version":"5.23.1"}}}
            """
        let response = try JSONValue.parse(try await service.enroll(body: Self.buffer(body), remoteIP: "127.0.0.1"))
        return try #require(response["node_key"]?.stringValue)
    }
}

@Suite struct AgentServiceTests {
    @Test func nodeKeyHeaderSchemeIsCaseInsensitiveAndTheKeyTrimmed() {
        #expect(AgentService.nodeKey(body: nil, authorization: "NodeKey abc") == "abc")
        #expect(AgentService.nodeKey(body: nil, authorization: "nodekey  abc \t") == "abc")
        #expect(AgentService.nodeKey(body: nil, authorization: "NODEKEY abc") == "abc")
        #expect(AgentService.nodeKey(body: nil, authorization: "Bearer abc") == nil)
        #expect(AgentService.nodeKey(body: nil, authorization: "NodeKeys abc") == nil)
        #expect(AgentService.nodeKey(body: nil, authorization: "NodeKey   ") == nil)
        #expect(AgentService.nodeKey(body: nil, authorization: "NodeKey") == nil)
        #expect(AgentService.nodeKey(body: .object([("node_key", .string("from-body"))]), authorization: "NodeKey abc") == "from-body")
    }

    @Test func enrollThenConfigForThePlatform() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        #expect(key.count >= 43, "256-bit key")
        let config = try JSONValue.parse(try f.service.config(body: AgentFixture.buffer(#"{"node_key":"\#(key)"}"#), authorization: nil))
        #expect(config["packs"]?["Global"]?["queries"]?["usb"] != nil)
        #expect(config["options"]?["distributed_interval"] == .number("10"))
    }

    @Test func wrongSecretIsRefusedWithoutNodeKey() async throws {
        let f = try await AgentFixture()
        await #expect {
            _ = try await f.service.enroll(body: AgentFixture.buffer(#"{"enroll_secret":"nope","host_identifier":"h"}"#), remoteIP: "")
        } throws: { error in
            let body = try! JSONValue.parse((error as! AgentError).body)
            return body["node_key"] == nil && body["node_invalid"] == .bool(true) && body["error"] != nil
        }
    }

    @Test func reEnrollReusesTheHostAndInvalidatesTheOldKey() async throws {
        let f = try await AgentFixture()
        let first = try await f.enroll()
        let second = try await f.enroll()
        #expect(first != second)
        #expect(try await f.store.hostCount() == 1)
        #expect(throws: AgentError.nodeInvalid()) {
            try f.service.config(body: AgentFixture.buffer(#"{"node_key":"\#(first)"}"#), authorization: nil)
        }
        // The Authorization header (osquery 5.23+) works when the body has no key.
        _ = try f.service.config(body: AgentFixture.buffer("{}"), authorization: "NodeKey \(second)")
    }

    @Test func unknownKeyGetsNodeInvalidEverywhere() async throws {
        let f = try await AgentFixture()
        let body = AgentFixture.buffer(#"{"node_key":"bogus","log_type":"result","data":[]}"#)
        func expectNodeInvalid(_ error: AgentError) {
            #expect(error.code == .nodeInvalid)
            let text = String(decoding: error.body, as: UTF8.self)
            #expect(text.contains(#""node_invalid":true"#))
        }
        do { _ = try f.service.config(body: body, authorization: nil); Issue.record("config accepted") } catch { expectNodeInvalid(error) }
        do { _ = try f.service.distributedRead(body: body, authorization: nil); Issue.record("read accepted") } catch { expectNodeInvalid(error) }
        do { _ = try await f.service.distributedWrite(body: body, authorization: nil); Issue.record("write accepted") } catch { expectNodeInvalid(error) }
        do {
            _ = try await f.service.log(body: body, contentEncoding: nil, authorization: nil)
            Issue.record("log accepted")
        } catch { expectNodeInvalid(error) }
    }

    @Test func detailQueriesRoundTripIntoTheHostRecord() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let read = try JSONValue.parse(try f.service.distributedRead(body: AgentFixture.buffer(#"{"node_key":"\#(key)"}"#), authorization: nil))
        let queries = try #require(read["queries"]?.objectMembers)
        #expect(queries.contains { $0.0 == "fleet_detail_query_software_macos" })
        // Not sent again while outstanding.
        #expect(try f.service.distributedRead(body: AgentFixture.buffer(#"{"node_key":"\#(key)"}"#), authorization: nil) == AgentService.emptyRead)

        let write = """
            {"node_key":"\(key)","queries":{
              "fleet_detail_query_system_info":[{"hostname":"mac-1.example.com","uuid":"UUID-host-1","hardware_serial":"C02ABC","physical_memory":"17179869184","cpu_brand":"Apple M2"}],
              "fleet_detail_query_software_macos":[{"name":"Safari","version":"17.5","source":"apps","bundle_identifier":"com.apple.Safari","installed_path":"/Applications/Safari.app","last_opened_time":"1700000000"}],
              "fleet_detail_query_users":[{"uid":"501","username":"alice","type":"local","groupname":"staff","shell":"/bin/zsh"}],
              "fleet_detail_query_munki":"",
              "adhoc":[{"x":"1"},{"x":"2"}]},
             "statuses":{"fleet_detail_query_system_info":0,"fleet_detail_query_software_macos":"0","fleet_detail_query_users":0,"adhoc":0,"fleet_detail_query_munki":1},
             "messages":{"fleet_detail_query_munki":"no such table: munki_info"}}
            """
        #expect(try await f.service.distributedWrite(body: AgentFixture.buffer(write), authorization: nil) == Array("{}".utf8))
        let host = try #require(try await f.store.host(id: 1))
        #expect(host.vitals.hostname == "mac-1.example.com")
        #expect(host.vitals.hardwareSerial == "C02ABC")
        #expect(host.detailUpdatedAt != nil)
        #expect(try await f.store.software(hostID: 1).map(\.name) == ["Safari"])
        #expect(try await f.store.users(hostID: 1).map(\.username) == ["alice"])
        let adhoc = try await f.store.distributedResults(name: "adhoc")
        #expect(adhoc.first?.rowCount == 2)
        #expect(adhoc.first?.rowsJSON == #"[{"x":"1"},{"x":"2"}]"#)
        #expect(try f.service.distributedRead(body: AgentFixture.buffer(#"{"node_key":"\#(key)"}"#), authorization: nil) == AgentService.emptyRead)
    }

    @Test func logsAreKeptAsTheAgentsBytes() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let line1 = #"{"name":"pack/Global/usb","hostIdentifier":"host-1","unixTime":1785845100,"columns":{"model":"caf\u00e9"},"action":"added"}"#
        let line2 = #"{"snapshot":[],"action":"snapshot","name":"x"}"#
        let body = #"{"data":[\#(line1), \#(line2)],"log_type":"result","node_key":"\#(key)"}"#
        #expect(try await f.service.log(body: AgentFixture.buffer(body), contentEncoding: nil, authorization: nil) == Array("{}".utf8))
        let batch = try #require(f.sink.batches.withLock { $0.first })
        #expect(batch.kind == .result)
        #expect(batch.lines.map { String(buffer: $0) } == [line1, line2])
    }

    @Test func gzipLogsAndGzipBombs() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        var plain = ByteBuffer(string: #"{"node_key":"\#(key)","log_type":"status","data":[{"severity":"1","message":"m"}]}"#)
        let gz = try plain.compress(with: .gzip())
        _ = try await f.service.log(body: gz, contentEncoding: "gzip", authorization: nil)
        #expect(f.sink.batches.withLock { $0.count } == 1)

        var bomb = ByteBuffer(repeating: UInt8(ascii: " "), count: 300 << 20)
        let compressedBomb = try bomb.compress(with: .gzip())
        await #expect(throws: AgentError.self) {
            try await f.service.log(body: compressedBomb, contentEncoding: "gzip", authorization: nil)
        }
        await #expect(throws: AgentError.self) {
            try await f.service.log(body: ByteBuffer(string: "not gzip"), contentEncoding: "gzip", authorization: nil)
        }
    }

    @Test(arguments: [
        (#"{"log_type":"result","data":[1]}"#, "every data item must be a JSON object"),
        (#"{"log_type":"debug","data":[]}"#, "log_type must be"),
        (#"{"log_type":"result","data":{}}"#, "data must be an array"),
        (#"{"log_type":"result","data":[{"a":1}"#, "malformed"),
        (#"{"data":[{}]}"#, "missing log_type"),
    ])
    func badLogBodiesGetPreciseErrors(_ template: String, _ expected: String) async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let body = template
        do {
            _ = try await f.service.log(body: AgentFixture.buffer(body), contentEncoding: nil, authorization: "NodeKey \(key)")
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(String(decoding: error.body, as: UTF8.self).hasPrefix(#"{"error":"#))
        }
        #expect(f.sink.batches.withLock { $0.isEmpty })
    }

    /// osquery >= 5.23 sends the node key only in `Authorization`; a key in the body wins.
    @Test func logKeyFromTheHeaderOrTheBody() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let line = #""log_type":"result","data":[{"a":1}]"#
        _ = try await f.service.log(body: AgentFixture.buffer("{\(line)}"), contentEncoding: nil, authorization: "NodeKey \(key)")
        #expect(f.sink.batches.withLock { $0.map(\.hostID) } == [1])
        await #expect {
            try await f.service.log(
                body: AgentFixture.buffer(#"{"node_key":"wrong",\#(line)}"#), contentEncoding: nil, authorization: "NodeKey \(key)")
        } throws: { error in
            (error as? AgentError)?.code == .nodeInvalid
        }
        await #expect {
            try await f.service.log(body: AgentFixture.buffer("{\(line)}"), contentEncoding: nil, authorization: nil)
        } throws: { error in
            (error as? AgentError)?.message == "missing node_key"
        }
        #expect(f.sink.batches.withLock { $0.count } == 1)
    }

    @Test func sinkFailureIsAnErrorBodySoTheAgentKeepsTheBatch() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        f.sink.failing.withLock { $0 = true }
        await #expect {
            try await f.service.log(
                body: AgentFixture.buffer(#"{"node_key":"\#(key)","log_type":"result","data":[{"a":1}]}"#), contentEncoding: nil, authorization: nil)
        } throws: { error in
            (error as? AgentError)?.code == .unavailable
        }
    }

    @Test func carveIsStoredInOrderAndReassembled() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let payload = Data((0..<20_000).map { UInt8($0 % 251) })
        try await f.answerCarveQuery(key: key, carveID: "c-1")
        let begin = try JSONValue.parse(try await f.service.carveBegin(
            body: AgentFixture.buffer(#"{"block_count":3,"block_size":8192,"carve_size":20000,"carve_id":"c-1","request_id":"r-1","node_key":"\#(key)"}"#),
            authorization: nil))
        let session = try #require(begin["session_id"]?.stringValue)
        func block(_ id: Int) -> ByteBuffer {
            let chunk = payload[(id * 8192)..<min(payload.count, (id + 1) * 8192)]
            return AgentFixture.buffer(#"{"block_id":\#(id),"session_id":"\#(session)","request_id":"r-1","data":"\#(Data(chunk).base64EncodedString())"}"#)
        }
        await #expect(throws: AgentError.self) { try await f.service.carveBlock(body: block(1), authorization: nil) }
        _ = try await f.service.carveBlock(body: block(0), authorization: nil)
        _ = try await f.service.carveBlock(body: block(0), authorization: nil)  // a resend is fine
        _ = try await f.service.carveBlock(body: block(1), authorization: "NodeKey \(key)")
        _ = try await f.service.carveBlock(body: block(2), authorization: nil)
        let carve = try #require(try await f.store.carves().first)
        #expect(carve.completedAt != nil)
        #expect(try await f.store.carveArchive(id: carve.id) == payload)
    }

    @Test func malformedBodiesNeverCrash() async throws {
        let f = try await AgentFixture()
        for text in ["", "[]", "null", "{", "\u{FEFF}{}", #"{"node_key":5}"#, String(repeating: "[", count: 10_000)] {
            await #expect(throws: AgentError.self) { try f.service.config(body: AgentFixture.buffer(text), authorization: nil) }
            await #expect(throws: AgentError.self) { try await f.service.enroll(body: AgentFixture.buffer(text), remoteIP: "") }
            await #expect(throws: AgentError.self) { try await f.service.distributedWrite(body: AgentFixture.buffer(text), authorization: nil) }
        }
    }
}
