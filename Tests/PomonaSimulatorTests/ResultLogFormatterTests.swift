import Foundation
import Testing

@testable import PomonaSimulator

@Suite("Result and status log lines")
struct ResultLogFormatterTests {
    static let unixTime: Int64 = 1_785_844_801

    @Test("calendarTime", arguments: [
        (Int64(1_462_228_052), "Mon May  2 22:27:32 2016 UTC"),
        (0, "Thu Jan  1 00:00:00 1970 UTC"),
        (1_785_844_801, "Tue Aug  4 12:00:01 2026 UTC"),
        (951_782_400, "Tue Feb 29 00:00:00 2000 UTC"),
        (1_704_067_199, "Sun Dec 31 23:59:59 2023 UTC"),
        (-1, "Wed Dec 31 23:59:59 1969 UTC"),
    ])
    func calendarTime(_ unixTime: Int64, _ expected: String) {
        #expect(CalendarTime.format(unixTime: unixTime) == expected)
    }

    @Test func calendarTimeMatchesFoundationAsctime() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM d HH:mm:ss yyyy"
        var generator = SeededGenerator(seed: 1)
        for _ in 0..<500 {
            let time = Int64(generator.next() % 4_102_444_800)
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time)))
            // asctime pads the day with a space to two characters.
            let parts = expected.split(separator: " ")
            let day = parts[2].count == 1 ? " " + parts[2] : String(parts[2])
            #expect(CalendarTime.format(unixTime: time) == "\(parts[0]) \(parts[1]) \(day) \(parts[3]) \(parts[4]) UTC")
        }
    }

    @Test("escaping", arguments: [
        (ResultEscaping.legacy, "é\n", #"\xC3\xA9\x0A"#),
        (.utf8Aware, "é\n", #"é\x0A"#),
        (.none, "é\n", "é\n"),
        (.legacy, "plain ~ text", "plain ~ text"),
        (.utf8Aware, "tab\there", #"tab\x09here"#),
        (.legacy, "日", #"\xE6\x97\xA5"#),
        (.utf8Aware, "日本🍐", "日本🍐"),
    ])
    func escaping(_ mode: ResultEscaping, _ input: String, _ expected: String) {
        #expect(mode.escape(input) == expected)
    }

    @Test func utf8AwareEscapesInvalidBytes() {
        #expect(ResultEscaping.utf8Aware.escape([0x41, 0xFF, 0x42]) == #"A\xFFB"#)
        #expect(ResultEscaping.utf8Aware.escape([0xC3]) == #"\xC3"#)  // truncated sequence
        #expect(ResultEscaping.utf8Aware.escape([0xC0, 0xAF]) == #"\xC0\xAF"#)  // overlong
        #expect(ResultEscaping.utf8Aware.escape([0xED, 0xA0, 0x80]) == #"\xED\xA0\x80"#)  // surrogate
        #expect(ResultEscaping.legacy.escape([0x7F]) == "\u{7F}")
    }

    private func parse(_ line: JSONValue) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: line.compactData()) as? [String: Any])
    }

    @Test func eventLinesShapeAndOrder() throws {
        let formatter = ResultLogFormatter(hostIdentifier: "h1", osqueryVersion: "5.23.1", decorations: ["host_uuid": "U"])
        let lines = formatter.eventLines(
            name: "pack_p_q", added: [["pid": "2", "name": "b"]], removed: [["pid": "1", "name": "a"]],
            unixTime: Self.unixTime, counter: 3)
        #expect(lines.count == 2)
        #expect(lines[0]["action"] == "removed")
        #expect(lines[1]["action"] == "added")
        #expect(
            lines[1].objectValue?.keys
                == ["name", "hostIdentifier", "calendarTime", "unixTime", "epoch", "counter", "numerics", "decorations", "columns", "action"])
        #expect(lines[1]["columns"]?.objectValue?.keys == ["name", "pid"])
        #expect(
            lines[1].compactString()
                == #"{"name":"pack_p_q","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":3,"numerics":false,"decorations":{"host_uuid":"U"},"columns":{"name":"b","pid":"2"},"action":"added"}"#
        )
        let parsed = try parse(lines[1])
        #expect(parsed["unixTime"] as? Int == 1_785_844_801)
        #expect(parsed["counter"] as? Int == 3)
        #expect(parsed["epoch"] as? Int == 0)
        #expect(parsed["numerics"] as? Bool == false)
        #expect(parsed["calendarTime"] as? String == "Tue Aug  4 12:00:01 2026 UTC")
        #expect((parsed["columns"] as? [String: Any])?.values.allSatisfy { $0 is String } == true)
        #expect(formatter.eventLines(name: "n", added: [], removed: [], unixTime: 1, counter: 0).isEmpty)
    }

    @Test func osqueryUnitTestLineIsReproduced() {
        let formatter = ResultLogFormatter(hostIdentifier: "unknown_test_host", osqueryVersion: "5.23.1")
        var line = formatter.eventLines(name: "test_query", added: [["test_column": "test_value"]], removed: [], unixTime: 0, counter: 0)[0]
            .objectValue!
        line["calendarTime"] = "no_time"
        #expect(
            JSONValue.object(line).compactString()
                == #"{"name":"test_query","hostIdentifier":"unknown_test_host","calendarTime":"no_time","unixTime":0,"epoch":0,"counter":0,"numerics":false,"columns":{"test_column":"test_value"},"action":"added"}"#
        )
    }

    @Test func differentialValuesAreEscapedSnapshotsAreNot() {
        let legacy = ResultLogFormatter(hostIdentifier: "h", osqueryVersion: "5.21.0", escaping: .legacy)
        #expect(legacy.eventLines(name: "n", added: [["v": "é"]], removed: [], unixTime: 1, counter: 1)[0]["columns"]?["v"] == #"\xC3\xA9"#)
        #expect(legacy.snapshotLine(name: "n", rows: [["v": "é"]], unixTime: 1)["snapshot"]?.arrayValue?.first?["v"] == "é")
        let batch = legacy.batchLine(name: "n", added: [["v": "\n"]], removed: [], unixTime: 1, counter: 1)
        #expect(batch["diffResults"]?["added"]?.arrayValue?.first?["v"] == #"\x0A"#)
    }

    @Test func snapshotLineShape() throws {
        let formatter = ResultLogFormatter(hostIdentifier: "h1", osqueryVersion: "5.23.1", decorations: ["hostname": "x"])
        let line = formatter.snapshotLine(name: "osquery_info", rows: [["version": "5.23.1"]], unixTime: Self.unixTime)
        #expect(line.objectValue?.keys.prefix(3) == ["snapshot", "action", "name"])
        #expect(line.objectValue?.keys.last == "decorations")
        let parsed = try parse(line)
        #expect(parsed["action"] as? String == "snapshot")
        #expect(parsed["counter"] as? Int == 0)
        #expect((parsed["snapshot"] as? [[String: String]])?.first?["version"] == "5.23.1")
        #expect(formatter.snapshotLine(name: "e", rows: [], unixTime: 1)["snapshot"] == .array([]))
    }

    @Test func batchLineShape() throws {
        let formatter = ResultLogFormatter(hostIdentifier: "h1", osqueryVersion: "5.23.1")
        let line = formatter.batchLine(name: "processes", added: [], removed: [], unixTime: Self.unixTime, counter: 0)
        #expect(line.objectValue?.keys.first == "diffResults")
        #expect(line["action"] == nil)
        #expect(line["diffResults"]?.compactString() == #"{"removed":[],"added":[]}"#)
    }

    @Test func statusLineNumbersAndLegacyStrings() throws {
        var formatter = ResultLogFormatter(hostIdentifier: "h1", osqueryVersion: "5.23.1", decorations: ["host_uuid": "U"])
        let modern = try parse(formatter.statusLine(severity: .warning, filename: "packs.cpp", line: 215, message: "m", unixTime: Self.unixTime))
        #expect(modern["unixTime"] as? Int == 1_785_844_801)
        #expect(modern["severity"] as? Int == 1)
        #expect(modern["line"] as? Int == 215)
        #expect(modern["version"] as? String == "5.23.1")
        #expect(modern["calendarTime"] as? String == "Tue Aug  4 12:00:01 2026 UTC")
        #expect((modern["decorations"] as? [String: String])?["host_uuid"] == "U")
        formatter.stringTypedStatus = true
        let legacy = try parse(formatter.statusLine(severity: .warning, filename: "packs.cpp", line: 215, message: "m", unixTime: Self.unixTime))
        #expect(legacy["unixTime"] as? String == "1785844801")
        #expect(legacy["severity"] as? String == "1")
        #expect(legacy["line"] as? String == "215")
    }

    @Test func decorationsTopLevelAndNumerics() {
        let formatter = ResultLogFormatter(
            hostIdentifier: "h1", osqueryVersion: "5.23.1", decorations: ["hostname": "d", "name": "overwritten"],
            decorationsTopLevel: true, numerics: true)
        let line = formatter.eventLines(name: "n", added: [["pid": "12", "path": "/x"]], removed: [], unixTime: 1, counter: 1)[0]
        #expect(line["decorations"] == nil)
        #expect(line["hostname"] == "d")
        #expect(line["name"] == "overwritten")
        #expect(line["numerics"] == true)
        #expect(line["columns"]?["pid"] == .integer(12))
        #expect(line["columns"]?["path"] == "/x")
    }
}
