import Foundation
import NIOCore
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAgentAPI

extension AgentFixture {
    static let carveSQL = "SELECT * FROM carves WHERE carve = 1 AND path LIKE '/var/log/%'"

    func hostID(key: String) throws -> Int64 {
        try #require(service.registry.authenticate(AgentService.digest(key), now: Date()))
    }

    /// Queues `sql` for `hostIDs` as a live query would, and has the host with `key` answer it
    /// with one row announcing `carveID`, as osquery answers a carve query.
    func answerCarveQuery(
        key: String, carveID: String, sql: String = carveSQL, queuedFor hostIDs: [Int64]? = nil, campaign: Int64 = 77
    ) async throws {
        let name = LiveQueryName.name(campaignID: campaign)
        service.registry.enqueue(name: name, sql: sql, hostIDs: try hostIDs ?? [hostID(key: key)])
        let row = #"{"carve_guid":"\#(carveID)","request_id":"a8e0","status":"SCHEDULED","path":"/var/log/a","carve":"1"}"#
        _ = try await service.distributedWrite(
            body: Self.buffer(#"{"node_key":"\#(key)","queries":{"\#(name)":[\#(row)]},"statuses":{"\#(name)":0}}"#), authorization: nil)
    }

    func carveBegin(key: String, carveID: String, size: Int = 20_000, blockSize: Int = 8192) async throws(AgentError) -> [UInt8] {
        let count = (size + blockSize - 1) / blockSize
        return try await service.carveBegin(
            body: Self.buffer(
                #"{"block_count":\#(count),"block_size":\#(blockSize),"carve_size":\#(size),"carve_id":"\#(carveID)","request_id":"r-1","node_key":"\#(key)"}"#),
            authorization: nil)
    }
}

@Suite struct ExpectedCarvesTests {
    @Test(arguments: [
        ("SELECT * FROM carves WHERE carve = 1 AND path LIKE '/tmp/%'", true),
        ("select carve(path) from file where path like '/etc/%%'", true),
        ("SELECT CARVE (path) FROM file", true),
        ("SELECT * FROM main.carves", true),
        ("SELECT * FROM osquery_info", false),
        ("SELECT carved FROM x", false),
        ("SELECT 'carve(' AS x", true),  // conservative: a string that looks like a call counts
        ("SELECT carve_guid FROM y", false),
    ])
    func carveQueriesAreRecognised(_ sql: String, _ expected: Bool) {
        #expect(ExpectedCarves.isCarveQuery(sql) == expected)
    }

    @Test func guidsComeFromTheRowsAndLookLikeIDs() {
        let rows = #"[{"carve_guid":"2f6c-aa"},{"carve_guid":"2f6c-aa"},{"carve_guid":"bad id\n"},{"x":1},{"carve_guid":"b"},{"carve_guid":"c"},{"carve_guid":"d"},{"carve_guid":"e"}]"#
        #expect(ExpectedCarves.carveGUIDs(Array(rows.utf8)) == ["2f6c-aa", "b", "c", "d"], "distinct, plausible, at most four")
        #expect(ExpectedCarves.carveGUIDs(Array("not json".utf8)).isEmpty)
        #expect(!ExpectedCarves.isPlausibleCarveID(String(repeating: "a", count: 65)))
    }

    @Test func anExpectationIsPerHostAndLastsADay() {
        var expected = ExpectedCarves()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        expected.expect(hostID: 1, rowsJSON: Array(#"[{"carve_guid":"g1"}]"#.utf8), now: t0)
        #expect(expected.isExpected(hostID: 1, carveID: "g1", now: t0.addingTimeInterval(3600)))
        #expect(!expected.isExpected(hostID: 2, carveID: "g1", now: t0), "another host cannot start it")
        #expect(!expected.isExpected(hostID: 1, carveID: "g2", now: t0))
        #expect(!expected.isExpected(hostID: 1, carveID: "g1", now: t0.addingTimeInterval(ExpectedCarves.lifetime)))
    }
}

/// `carve/begin` accepts only carves Pomona asked the host for, within the size limit.
@Suite struct CarveRequestTests {
    @Test func anUnrequestedCarveIsRefusedAndNothingIsStored() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        await #expect(throws: AgentError.badRequest("carve c-1 was not requested from this host (run a carve query for it first)")) {
            try await f.carveBegin(key: key, carveID: "c-1")
        }
        #expect(try await f.store.carves().isEmpty)
    }

    @Test func aCarveAnnouncedInAnswerToACarveQueryMayStart() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        try await f.answerCarveQuery(key: key, carveID: "c-1")
        let begin = try JSONValue.parse(try await f.carveBegin(key: key, carveID: "c-1"))
        #expect(begin["session_id"]?.stringValue?.isEmpty == false)
        #expect(try await f.store.carves().map(\.carveID) == ["c-1"])
    }

    @Test func onlyTheHostTheCarveQueryWentToMayAnnounceACarve() async throws {
        let f = try await AgentFixture()
        let victim = try await f.enroll(identifier: "victim")
        let other = try await f.enroll(identifier: "other")
        // The query was queued for the victim only; the other host answers it anyway.
        try await f.answerCarveQuery(key: other, carveID: "c-x", queuedFor: [try await f.hostID(key: victim)])
        await #expect(throws: AgentError.self) { try await f.carveBegin(key: other, carveID: "c-x") }
        // Nor may it start a carve the victim announced.
        try await f.answerCarveQuery(key: victim, carveID: "c-v", campaign: 78)
        await #expect(throws: AgentError.self) { try await f.carveBegin(key: other, carveID: "c-v") }
        #expect(try await f.store.carves().isEmpty)
    }

    @Test func aCarveGuidInTheAnswerToAnOrdinaryQueryStartsNothing() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        try await f.answerCarveQuery(key: key, carveID: "c-1", sql: "SELECT * FROM osquery_info")
        await #expect(throws: AgentError.self) { try await f.carveBegin(key: key, carveID: "c-1") }
    }

    @Test func aCarveOverTheSizeLimitIsRefusedAsTooLarge() async throws {
        var limits = AgentBodyLimits()
        limits.maxCarveSize = 1 << 20
        let f = try await AgentFixture(limits: limits)
        let key = try await f.enroll()
        try await f.answerCarveQuery(key: key, carveID: "big")
        await #expect(throws: AgentError.tooLarge("carve_size 1048577 exceeds this server's limit of 1048576 bytes (carves.max_size_mb)")) {
            try await f.carveBegin(key: key, carveID: "big", size: (1 << 20) + 1, blockSize: 1 << 16)
        }
        _ = try await f.carveBegin(key: key, carveID: "big", size: 1 << 20, blockSize: 1 << 16)
        #expect(try await f.store.carves().count == 1)
    }

    @Test func aRetriedStartReplacesTheUnfinishedSessionAndAFinishedCarveIsNotTakenTwice() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        try await f.answerCarveQuery(key: key, carveID: "c-1")
        _ = try await f.carveBegin(key: key, carveID: "c-1", size: 10, blockSize: 8192)
        let second = try JSONValue.parse(try await f.carveBegin(key: key, carveID: "c-1", size: 10, blockSize: 8192))
        let session = try #require(second["session_id"]?.stringValue)
        #expect(try await f.store.carves().map(\.sessionID) == [session], "one session per carve")
        let data = Data(repeating: 7, count: 10).base64EncodedString()
        _ = try await f.service.carveBlock(
            body: AgentFixture.buffer(#"{"block_id":0,"session_id":"\#(session)","request_id":"r-1","data":"\#(data)"}"#), authorization: nil)
        await #expect(throws: AgentError.badRequest("carve c-1 was already received in full")) {
            try await f.carveBegin(key: key, carveID: "c-1", size: 10, blockSize: 8192)
        }
    }
}
