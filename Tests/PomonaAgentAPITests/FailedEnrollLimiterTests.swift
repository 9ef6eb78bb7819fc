import Foundation
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization
import Testing

@testable import PomonaAgentAPI

/// Keeps every log record, for tests that count lines or read what was written.
final class CapturedLog: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let records = Mutex<[Record]>([])

    var logger: Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    func lines(atLeast level: Logger.Level) -> [Record] { records.withLock { $0.filter { $0.level >= level } } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let record = Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })
            log.records.withLock { $0.append(record) }
        }
    }
}

/// The limiter behind a reference, so its mutating calls can sit inside `#expect`.
final class Limiter {
    var value: FailedEnrollLimiter
    init(_ settings: FailedEnrollLimiter.Settings) { value = FailedEnrollLimiter(settings: settings) }
    func admit(_ address: String, now: Date) -> Bool { value.admit(address, now: now) }
    func recordFailure(_ address: String, reason: String, now: Date) -> FailedEnrollLimiter.Report? {
        value.recordFailure(address, reason: reason, now: now)
    }
    func report(now: Date) -> [FailedEnrollLimiter.Report] { value.report(now: now) }
    var sources: [String: FailedEnrollLimiter.Source] { value.sources }
}

@Suite struct FailedEnrollLimiterTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func anAddressGetsItsBurstThenWaitsForTheBucketToRefill() {
        let limiter = Limiter(.init(perMinute: 3))
        for i in 0..<3 {
            #expect(limiter.admit("198.51.100.7", now: t0))
            _ = limiter.recordFailure("198.51.100.7", reason: "invalid enroll secret", now: t0.addingTimeInterval(Double(i) * 0.001))
        }
        #expect(!limiter.admit("198.51.100.7", now: t0.addingTimeInterval(1)), "burst spent")
        #expect(limiter.admit("198.51.100.8", now: t0.addingTimeInterval(1)), "another address has its own bucket")
        // 3 per minute: one token back after 20 s.
        #expect(!limiter.admit("198.51.100.7", now: t0.addingTimeInterval(19)))
        #expect(limiter.admit("198.51.100.7", now: t0.addingTimeInterval(20.1)))
        _ = limiter.recordFailure("198.51.100.7", reason: "invalid enroll secret", now: t0.addingTimeInterval(20.1))
        #expect(!limiter.admit("198.51.100.7", now: t0.addingTimeInterval(21)))
    }

    @Test func successesTakeNoTokens() {
        let limiter = Limiter(.init(perMinute: 1))
        for _ in 0..<100 { #expect(limiter.admit("203.0.113.1", now: t0)) }
        _ = limiter.recordFailure("203.0.113.1", reason: "x", now: t0)
        #expect(!limiter.admit("203.0.113.1", now: t0))
    }

    @Test func theFirstFailureIsLoggedAtOnceAndTheRestOnceAMinute() {
        let limiter = Limiter(.init(perMinute: 10))
        let a = "192.0.2.44"
        #expect(limiter.recordFailure(a, reason: "invalid enroll secret", now: t0) == .first(source: a, reason: "invalid enroll secret"))
        var refused = 0
        for i in 1...500 {
            let now = t0.addingTimeInterval(Double(i) * 0.1)
            if limiter.admit(a, now: now) {
                #expect(limiter.recordFailure(a, reason: "invalid enroll secret", now: now) == nil, "summed up, not logged")
            } else {
                refused += 1
            }
            #expect(limiter.report(now: now).isEmpty || now.timeIntervalSince(t0) >= 60)
        }
        let reports = limiter.report(now: t0.addingTimeInterval(60))
        #expect(reports == [.summary(source: a, failures: 500, refused: refused, lastReason: "invalid enroll secret", seconds: 60)])
        #expect(reports.first?.message == "500 failed enrolls from 192.0.2.44 in the last minute")
        #expect(refused > 400, "most of them were refused by the limit")

        // Still failing: the next failure is summed, not logged on its own.
        #expect(limiter.admit(a, now: t0.addingTimeInterval(70)))
        #expect(limiter.recordFailure(a, reason: "missing host_identifier", now: t0.addingTimeInterval(70)) == nil)
        #expect(limiter.report(now: t0.addingTimeInterval(120)) == [
            .summary(source: a, failures: 1, refused: 0, lastReason: "missing host_identifier", seconds: 60)
        ])
        // A quiet minute closes the span; the next failure is logged at once again.
        #expect(limiter.report(now: t0.addingTimeInterval(180)).isEmpty)
        #expect(limiter.recordFailure(a, reason: "r", now: t0.addingTimeInterval(181)) == .first(source: a, reason: "r"))
    }

    @Test func addressesThatWentQuietAreForgotten() {
        let limiter = Limiter(.init(perMinute: 2))
        _ = limiter.recordFailure("192.0.2.1", reason: "r", now: t0)
        #expect(limiter.sources.count == 1)
        _ = limiter.report(now: t0.addingTimeInterval(60))  // closes the span (nothing after the first)
        _ = limiter.report(now: t0.addingTimeInterval(120))
        #expect(limiter.sources.isEmpty)
    }

    @Test func ipv6CountsPerSlash64() {
        #expect(FailedEnrollLimiter.sourceKey("2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(FailedEnrollLimiter.sourceKey("2001:db8:1:2:ffff:ffff:ffff:5") == "2001:db8:1:2::/64")
        #expect(FailedEnrollLimiter.sourceKey("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(FailedEnrollLimiter.sourceKey("::1") == "0:0:0:0::/64")
        #expect(FailedEnrollLimiter.sourceKey("fe80::1%eth0") == "fe80:0:0:0::/64")
        #expect(FailedEnrollLimiter.sourceKey("::ffff:192.0.2.1") == "192.0.2.1")
        #expect(FailedEnrollLimiter.sourceKey("192.0.2.1") == "192.0.2.1")
        #expect(FailedEnrollLimiter.sourceKey("not:an:address") == "not:an:address")

        let limiter = Limiter(.init(perMinute: 1))
        _ = limiter.recordFailure("2001:db8:1:2::1", reason: "r", now: t0)
        #expect(!limiter.admit("2001:db8:1:2::99", now: t0), "a new address in the same /64 shares the bucket")
    }

    @Test func beyondTheTrackedAddressesFailuresAreSummedInOneLine() {
        let limiter = Limiter(.init(perMinute: 5, maxSources: 2))
        _ = limiter.recordFailure("192.0.2.1", reason: "r", now: t0)
        _ = limiter.recordFailure("192.0.2.2", reason: "r", now: t0)
        for i in 3..<10 { #expect(limiter.recordFailure("192.0.2.\(i)", reason: "r", now: t0) == nil) }
        #expect(limiter.sources.count == 2)
        #expect(limiter.report(now: t0.addingTimeInterval(60)).contains(.untracked(failures: 7, seconds: 60)))
    }
}

/// The limiter at the enroll endpoint: refused before any work, and few log lines.
@Suite struct EnrollRateLimitTests {
    static func enrollBody(secret: String, identifier: String = "host-1") -> ByteBuffer {
        ByteBuffer(string: #"{"enroll_secret":"\#(secret)","host_identifier":"\#(identifier)"}"#)
    }

    @Test(.timeLimit(.minutes(1))) func anAddressOverItsLimitIsRefusedEvenWithTheRightSecretAndNothingIsStored() async throws {
        let fixture = try await AgentFixture(enrollLimits: .init(perMinute: 5))
        let table = AgentEndpointTable(service: fixture.service)
        let enroll = try #require(table.endpoint(target: "/api/osquery/enroll"))
        let attacker = AgentRequestHeaders(authorization: nil, contentEncoding: nil, remoteIP: "198.51.100.9")
        for _ in 0..<5 {
            let answer = await table.answer(enroll, body: Self.enrollBody(secret: "wrong"), headers: attacker, path: "/api/osquery/enroll")
            #expect(String(decoding: answer.body, as: UTF8.self) == #"{"error":"invalid enroll secret","node_invalid":true}"#)
        }
        let limited = await table.answer(enroll, body: Self.enrollBody(secret: AgentFixture.secret), headers: attacker, path: "/api/osquery/enroll")
        #expect(limited.status == 401)
        #expect(String(decoding: limited.body, as: UTF8.self) == #"{"error":"too many failed enrolls from this address; retry later","node_invalid":true}"#)
        #expect(try await fixture.store.hostCount() == 0, "no enrollment was stored")

        // Another address enrolls as usual.
        let other = AgentRequestHeaders(authorization: nil, contentEncoding: nil, remoteIP: "198.51.100.10")
        let ok = await table.answer(enroll, body: Self.enrollBody(secret: AgentFixture.secret), headers: other, path: "/api/osquery/enroll")
        #expect(ok.status == 200)
        #expect(try await fixture.store.hostCount() == 1)
    }

    @Test(.timeLimit(.minutes(1))) func aThousandFailuresWriteOneLineAndThenASum() async throws {
        let log = CapturedLog()
        let fixture = try await AgentFixture(enrollLimits: .init(perMinute: 30), logger: log.logger)
        let t0 = Date()
        for i in 0..<1000 {
            let now = t0.addingTimeInterval(Double(i) * 0.01)
            if fixture.service.admitEnroll(from: "203.0.113.5", now: now) != nil { continue }
            _ = try? await fixture.service.enroll(body: Self.enrollBody(secret: "nope"), remoteIP: "203.0.113.5", now: now)
        }
        var warnings = log.lines(atLeast: .warning)
        #expect(warnings.count == 1)
        #expect(warnings.first?.message == "enroll refused")
        #expect(warnings.first?.metadata["remote"] == "203.0.113.5")
        fixture.service.reportFailedEnrolls(now: t0.addingTimeInterval(61))
        warnings = log.lines(atLeast: .warning)
        #expect(warnings.count == 2)
        #expect(warnings.last?.message == "999 failed enrolls from 203.0.113.5 in the last minute")
    }
}

/// Agent-supplied values reach the log escaped (a host identifier cannot forge a line).
@Suite struct AgentLogInjectionTests {
    static func noRawControl(_ records: [CapturedLog.Record]) -> Bool {
        records.allSatisfy { record in
            (record.message + record.metadata.values.joined()).unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        }
    }

    @Test(.timeLimit(.minutes(1))) func hostIdentifierAndUUIDAreEscapedWhenAHostEnrolls() async throws {
        let log = CapturedLog()
        let f = try await AgentFixture(logger: log.logger)
        let body = #"{"enroll_secret":"\#(AgentFixture.secret)","host_identifier":"h\nfake info pomona : host enrolled\u0000","host_details":{"system_info":{"uuid":"U\r\n\u001b[2J"}}}"#
        _ = try await f.service.enroll(body: AgentFixture.buffer(body), remoteIP: "192.0.2.3")
        let enrolled = try #require(log.records.withLock { $0 }.first { $0.message == "host enrolled" })
        #expect(enrolled.metadata["host_identifier"] == #"h\nfake info pomona : host enrolled\0"#)
        #expect(Self.noRawControl(log.records.withLock { $0 }))
    }

    @Test(.timeLimit(.minutes(1))) func refusalsAndCarveIDsAreEscaped() async throws {
        let log = CapturedLog()
        let f = try await AgentFixture(logger: log.logger)
        let key = try await f.enroll()
        let table = AgentEndpointTable(service: f.service)
        let endpoint = try #require(table.endpoint(target: "/api/osquery/log"))
        let answer = await table.answer(
            endpoint, body: AgentFixture.buffer(#"{"node_key":"\#(key)","log_type":"x\ny\u0000","data":[]}"#),
            headers: AgentRequestHeaders(authorization: nil, contentEncoding: nil, remoteIP: "192.0.2.3"), path: "/api/osquery/log")
        #expect(answer.status == 400)
        let refusal = try #require(log.records.withLock { $0 }.first { $0.message == "agent request refused" })
        #expect(refusal.metadata["error"]?.contains(#"x\ny\0"#) == true)

        await #expect(throws: AgentError.self) { try await f.carveBegin(key: key, carveID: "c\n1") }
        try await f.answerCarveQuery(key: key, carveID: "c-ok")
        _ = try await f.carveBegin(key: key, carveID: "c-ok")
        #expect(Self.noRawControl(log.records.withLock { $0 }))
    }
}
