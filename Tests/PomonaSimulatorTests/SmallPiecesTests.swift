import Foundation
import Testing

@testable import PomonaSimulator

@Suite("CarvePlan")
struct CarvePlanTests {
    @Test("block splitting", arguments: [(0, 4, 0), (1, 4, 1), (4, 4, 1), (5, 4, 2), (8192 * 2 + 10, 8192, 3)])
    func blockCount(_ size: Int, _ blockSize: Int, _ expected: Int) {
        let plan = CarvePlan(data: Data(repeating: 7, count: size), blockSize: blockSize)
        #expect(plan.blockCount == expected)
        #expect(plan.carveSize == size)
        var total = 0
        for id in 0..<plan.blockCount {
            let block = plan.block(id)
            if id < plan.blockCount - 1 { #expect(block.count == blockSize) }
            total += block.count
        }
        #expect(total == size)
    }

    @Test func blocksAreStandardBase64AndReassemble() throws {
        let data = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let plan = CarvePlan(data: data, blockSize: 300)
        #expect(plan.blockCount == 4)
        #expect(plan.block(3).count == 100)
        var joined = Data()
        for id in 0..<plan.blockCount {
            let text = plan.base64Block(id)
            #expect(!text.contains("\n"))
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || "+/=".contains($0) })
            joined.append(try #require(Data(base64Encoded: text)))
        }
        #expect(joined == data)
        #expect(CarvePlan(data: Data([0xFB, 0xFF]), blockSize: 8).base64Block(0) == "+/8=")
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test func compactWriterMatchesRapidJSON() {
        let value: JSONValue = ["a/b": "é\n\u{01}\"\\", "n": 1, "d": 2.0, "t": true, "z": nil, "arr": [1, "x"]]
        #expect(value.compactString() == #"{"a/b":"é\n\u0001\"\\","n":1,"d":2.0,"t":true,"z":null,"arr":[1,"x"]}"#)
    }

    @Test func roundTrip() throws {
        let text = #"{"k":[1,-2,3.5,1e3,true,false,null,"\u00e9\ud83c\udf50",{}],"k2":{"x":"y"}}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["k"]?.arrayValue?[7] == "é🍐")
        #expect(value["k"]?.arrayValue?[3] == .double(1000))
        #expect(try JSONValue.parse(value.compactData()) == value)
    }

    @Test("rejects", arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "-", "1.", "1e", "\"\\ud800\"", "\"a\nb\"", "{}}", "NaN", "Infinity"])
    func rejects(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }
}

@Suite("LatencyRecorder")
struct LatencyRecorderTests {
    @Test func percentilesAndErrors() throws {
        let recorder = LatencyRecorder()
        for ms in 1...100 { recorder.record(.config, duration: .milliseconds(ms), success: ms % 10 != 0) }
        recorder.record(.log, duration: .milliseconds(5), success: true)
        let summary = recorder.summary()
        let config = try #require(summary[.config])
        #expect(config.count == 100)
        #expect(config.errors == 10)
        #expect(config.p50 == .milliseconds(50))
        #expect(config.p90 == .milliseconds(90))
        #expect(config.p99 == .milliseconds(99))
        #expect(config.max == .milliseconds(100))
        #expect(summary[.log]?.p99 == .milliseconds(5))
        #expect(summary[.enroll] == nil)
        recorder.reset()
        #expect(recorder.summary().isEmpty)
    }

    @Test func steadyStateKeepsOnlyLaterSamples() throws {
        let recorder = LatencyRecorder()
        recorder.record(.enroll, duration: .seconds(4), success: true)
        recorder.record(.log, duration: .seconds(2), success: false)
        #expect(recorder.steadySummary() == nil)
        recorder.beginSteadyState()
        for ms in 1...10 { recorder.record(.log, duration: .milliseconds(ms), success: true) }
        let steady = try #require(recorder.steadySummary())
        #expect(steady[.enroll] == nil)
        #expect(steady[.log]?.count == 10)
        #expect(steady[.log]?.errors == 0)
        #expect(steady[.log]?.max == .milliseconds(10))
        // The whole-run figures still have everything.
        #expect(recorder.summary()[.log]?.count == 11)
        #expect(recorder.summary()[.log]?.max == .seconds(2))
        #expect(recorder.totals() == (requests: 12, errors: 1))
    }

    @Test func concurrentRecording() async {
        let recorder = LatencyRecorder()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<1000 { recorder.record(.log, duration: .microseconds(i), success: (i + task) % 2 == 0) }
                }
            }
        }
        #expect(recorder.summary()[.log]?.count == 8000)
        #expect(recorder.summary()[.log]?.errors == 4000)
    }
}

@Suite("LogBuffer")
struct LogBufferTests {
    @Test func headOfLineBatches() {
        var buffer = LogBuffer()
        buffer.append((0..<5).map { Data(#"{"i":\#($0)}"#.utf8) })
        let first = buffer.nextBatch(maxLines: 2, maxLineSize: 1 << 20)
        // Not committed (the POST failed): the same oldest batch comes back.
        #expect(buffer.nextBatch(maxLines: 2, maxLineSize: 1 << 20) == first)
        #expect(first?.payload == [["i": 0], ["i": 1]])
        buffer.commit(first!)
        #expect(buffer.nextBatch(maxLines: 2, maxLineSize: 1 << 20)?.payload == [["i": 2], ["i": 3]])
        #expect(buffer.count == 3)
    }

    @Test func invalidAndOversizedLinesAreDroppedWithTheBatch() {
        var buffer = LogBuffer()
        buffer.append([Data("not json".utf8), Data(#"{"big":"\#(String(repeating: "x", count: 100))"}"#.utf8), Data("[1]".utf8)])
        let batch = buffer.nextBatch(maxLines: 10, maxLineSize: 50)!
        #expect(batch.payload.isEmpty)
        #expect(batch.dropped == 3)
        #expect(batch.lineCount == 3)
        buffer.commit(batch)
        #expect(buffer.count == 0)
        #expect(buffer.nextBatch(maxLines: 10, maxLineSize: 50) == nil)
    }
}

@Suite("DistributedWork")
struct DistributedWorkTests {
    @Test func acceptsQueriesDiscoveryAndIntegerAccelerate() throws {
        let object = try #require(
            try JSONValue.parse(Array(#"{"queries":{"b":"SELECT 2","a":"SELECT 1"},"discovery":{"a":"SELECT 1 FROM os_version"},"accelerate":60}"#.utf8))
                .objectValue)
        let work = DistributedWork(response: object)
        #expect(work.queries.map(\.name) == ["b", "a"])
        #expect(work.discovery == ["a": "SELECT 1 FROM os_version"])
        #expect(work.accelerate == 60)
        #expect(work.rejection == nil)
    }

    @Test func stringAccelerateIsIgnored() {
        #expect(DistributedWork(response: ["accelerate": "60"]).accelerate == nil)
        #expect(DistributedWork(response: ["accelerate": 60.0]).accelerate == nil)
    }

    @Test func badDiscoveryRejectsEverything() {
        let work = DistributedWork(response: ["queries": ["a": "SELECT 1"], "discovery": ["a": 5]])
        #expect(work.queries.isEmpty)
        #expect(work.rejection != nil)
    }

    @Test func badQueryStopsProcessingButKeepsEarlierOnes() {
        let work = DistributedWork(response: ["queries": ["a": "SELECT 1", "b": "", "c": "SELECT 3"]])
        #expect(work.queries.map(\.name) == ["a"])
        #expect(work.rejection != nil)
    }

    @Test func writeBodyShape() throws {
        let body = OsqueryAgent.distributedWriteBody(results: [
            "id1": .rows([["version": "5.23.1", "pid": "4242"]]), "bad": .failure("no such table: nope"),
        ])
        #expect(body.keys == ["queries", "statuses", "messages", "stats"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: JSONValue.object(body).compactData()) as? [String: Any])
        #expect((parsed["queries"] as? [String: [[String: String]]])?["id1"]?.first?["pid"] == "4242")
        #expect((parsed["queries"] as? [String: [Any]])?["bad"]?.isEmpty == true)
        #expect((parsed["statuses"] as? [String: Int]) == ["id1": 0, "bad": 1])
        #expect((parsed["messages"] as? [String: String]) == ["id1": "", "bad": "no such table: nope"])
        let stats = try #require((parsed["stats"] as? [String: [String: Int]])?["id1"])
        #expect(Set(stats.keys) == ["wall_time_ms", "user_time", "system_time", "memory"])
    }
}

@Suite("SourceAddressRange")
struct SourceAddressRangeTests {
    @Test func hostsGetTheRangesAddressesInOrderAndWrapAround() throws {
        let range = try #require(SourceAddressRange("127.1.0.0/16"))
        #expect(range.count == 65_534)
        #expect(range.address(for: 0) == "127.1.0.1")
        #expect(range.address(for: 255) == "127.1.1.0")
        #expect(range.address(for: 65_533) == "127.1.255.254")
        #expect(range.address(for: 65_534) == "127.1.0.1")
        let small = try #require(SourceAddressRange("10.9.8.77/30"))
        #expect(small.description == "10.9.8.76/30")
        #expect((0..<3).map(small.address(for:)) == ["10.9.8.77", "10.9.8.78", "10.9.8.77"])
    }

    @Test(arguments: ["127.1.0.0", "127.1.0.0/7", "127.1.0.0/31", "127.1.0/16", "127.1.0.256/16", "::1/64", "a.b.c.d/8", "127.1.0.0/x"])
    func rejects(_ text: String) {
        #expect(SourceAddressRange(text) == nil)
    }
}
