import NIOCore
import PomonaCore
import Testing

@testable import PomonaPipeline

@Suite("OsqueryLogSplitter")
struct SplitterTests {
    let splitter = OsqueryLogSplitter()

    @Test("event-format lines pass through as the same bytes")
    func eventFormatPassesThrough() throws {
        let line = buffer(resultLine())
        let events = try splitter.split(line)
        #expect(events.count == 1)
        #expect(events[0] == line)
        // Same storage: no copy was made.
        let same = line.withUnsafeReadableBytes { a in events[0].withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress } }
        #expect(same)
    }

    @Test("batch-format diffResults become one event per row, removed first, other members kept")
    func batchFormat() throws {
        let line = #"{"diffResults":{"added":[{"pid":"97830","name":"osqueryd"},{"pid":"1","name":"launchd"}],"removed":[{"pid":"97650","name":"osqueryd"}]},"name":"processes","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":1,"numerics":false,"decorations":{"host_uuid":"U1"}}"#
        let events = try splitter.split(buffer(line))
        #expect(events.count == 3)
        let first = try json(events[0])
        #expect(first["action"] == .string("removed"))
        #expect(first["columns"]?["pid"] == .string("97650"))
        #expect(first["name"] == .string("processes"))
        #expect(first["hostIdentifier"] == .string("h1"))
        #expect(first["unixTime"] == .number("1785844801"))
        #expect(first["counter"] == .number("1"))
        #expect(first["numerics"] == .bool(false))
        #expect(first["decorations"]?["host_uuid"] == .string("U1"))
        #expect(first["diffResults"] == nil)
        #expect(try json(events[1])["action"] == .string("added"))
        #expect(try json(events[2])["columns"]?["name"] == .string("launchd"))
        // Exact bytes: the line's members in order, then columns, then action.
        #expect(text(events[1]) == #"{"name":"processes","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":1,"numerics":false,"decorations":{"host_uuid":"U1"},"columns":{"pid":"97830","name":"osqueryd"},"action":"added"}"#)
    }

    @Test("an empty diffResults (fresh baseline with no rows) yields no event")
    func emptyDiff() throws {
        let line = #"{"diffResults":{"removed":[],"added":[]},"name":"q","hostIdentifier":"h1","unixTime":1,"epoch":0,"counter":0,"numerics":false}"#
        #expect(try splitter.split(buffer(line)).isEmpty)
    }

    @Test("snapshot lines: one event per row, or the whole line")
    func snapshots() throws {
        let line = #"{"snapshot":[{"parent":"0","path":"/sbin/launchd","pid":"1"},{"parent":"1","path":"/usr/sbin/syslogd","pid":"50"}],"action":"snapshot","name":"process_snapshot","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":0,"numerics":false}"#
        let rows = try splitter.split(buffer(line))
        #expect(rows.count == 2)
        #expect(text(rows[0]) == #"{"name":"process_snapshot","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":0,"numerics":false,"columns":{"parent":"0","path":"/sbin/launchd","pid":"1"},"action":"snapshot"}"#)
        let whole = try OsqueryLogSplitter(snapshotMode: .perSnapshot).split(buffer(line))
        #expect(whole.map(text) == [line])
        let empty = #"{"snapshot":[],"action":"snapshot","name":"q","hostIdentifier":"h1","unixTime":1}"#
        #expect(try splitter.split(buffer(empty)).count == 1, "a marker (see emptySnapshotMarker)")
        #expect(try OsqueryLogSplitter(snapshotMode: .perSnapshot).split(buffer(empty)).map(text) == [empty])
    }

    /// "The query ran and found nothing" must reach the SIEM: for a finding-style query it is the
    /// answer, and without a trace it cannot be told from "the host never ran it".
    @Test("an empty per-row snapshot makes one marker event: no columns, snapshot_empty true")
    func emptySnapshotMarker() throws {
        let line = #"{"snapshot":[ ],"action":"snapshot","name":"pack_it_firewall_off","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":0,"numerics":false,"decorations":{"host_uuid":"U1"}}"#
        let events = try splitter.split(buffer(line))
        #expect(events.map(text) == [
            #"{"name":"pack_it_firewall_off","hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":0,"numerics":false,"decorations":{"host_uuid":"U1"},"action":"snapshot","snapshot_empty":true}"#
        ])
        // The fields routes, throttles and accounting key on are where they are in row events.
        let marker = try #require(try JSONValue.parse(Array(events[0].readableBytesView)))
        #expect(marker["name"] == .string("pack_it_firewall_off") && marker["unixTime"]?.intValue == 1785844801)
        #expect(marker["columns"] == nil && marker["snapshot_empty"] == .bool(true))
        // A line that is nothing but the empty snapshot still makes a valid object.
        #expect(try splitter.split(buffer(#"{"snapshot":[]}"#)).map(text) == [#"{"action":"snapshot","snapshot_empty":true}"#])
        // A snapshot with rows has no marker, and an empty diff still makes nothing (no change).
        #expect(try splitter.split(buffer(#"{"snapshot":[{"a":"1"}],"name":"q"}"#)).map(text) == [#"{"name":"q","columns":{"a":"1"},"action":"snapshot"}"#])
        #expect(try splitter.split(buffer(#"{"diffResults":{"added":[],"removed":[]},"name":"q"}"#)).isEmpty)
    }

    @Test("status lines, old and new, pass through")
    func statusLines() throws {
        let new = #"{"hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"severity":0,"filename":"scheduler.cpp","line":83,"message":"Executing scheduled query pack_x_y: SELECT 1","version":"5.23.1","decorations":{"host_uuid":"U"}}"#
        let old = #"{"hostIdentifier":"h1","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":"1785844801","severity":"0","filename":"scheduler.cpp","line":"83","message":"x","version":"5.9.1"}"#
        #expect(try splitter.split(buffer(new)).map(text) == [new])
        #expect(try splitter.split(buffer(old)).map(text) == [old])
    }

    @Test("invalid UTF-8 and escapes inside strings travel byte for byte")
    func weirdBytes() throws {
        var bytes = Array(#"{"snapshot":[{"name":"caf"#.utf8)
        bytes += [0xC3, 0x28, 0xFF]  // invalid UTF-8
        bytes += Array(#"\u00e9 \"q\" \\x0A"}],"action":"snapshot","name":"apps","hostIdentifier":"h\u0001"}"#.utf8)
        let events = try splitter.split(buffer(bytes))
        #expect(events.count == 1)
        let out = Array(events[0].readableBytesView)
        var expected = Array(#"{"name":"apps","hostIdentifier":"h\u0001","columns":{"name":"caf"#.utf8)
        expected += [0xC3, 0x28, 0xFF]
        expected += Array(#"\u00e9 \"q\" \\x0A"},"action":"snapshot"}"#.utf8)
        #expect(out == expected)
    }

    @Test("decorations_top_level members and unknown members are copied too")
    func extraMembers() throws {
        let line = #"{"diffResults":{"added":[{"a":"1"}],"removed":[]},"name":"q","host_uuid":"U","custom":{"x":[1,2]}}"#
        let events = try splitter.split(buffer(line))
        #expect(events.map(text) == [#"{"name":"q","host_uuid":"U","custom":{"x":[1,2]},"columns":{"a":"1"},"action":"added"}"#])
    }

    @Test("a line with only diffResults still makes valid events")
    func onlyDiff() throws {
        let events = try splitter.split(buffer(#"{"diffResults":{"added":[{"a":"1"}]}}"#))
        #expect(events.map(text) == [#"{"columns":{"a":"1"},"action":"added"}"#])
    }

    @Test("malformed lines are refused with a reason, never a crash", arguments: [
        "", "   ", "[]", "\"text\"", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"diffResults\":[]}",
        "{\"diffResults\":{\"added\":{}}}", "{\"snapshot\":{}}", "{\"snapshot\":[1,}", "{\"a\":\"unterminated}",
        "{\"a\":\"\u{01}\"}", "{\"a\":tru}", "{\"a\":-}", "{\"a\":\"\\q\"}", "{\"a\":\"\\u12\"}",
        String(repeating: "[", count: 100), "{\"a\":" + String(repeating: "[", count: 80) + String(repeating: "]", count: 80) + "}",
    ])
    func malformed(line: String) {
        #expect(throws: OsqueryLogSplitError.self) { try splitter.split(buffer(line)) }
    }

    @Test("every prefix of a valid line is refused or accepted without crashing")
    func truncations() throws {
        let line = Array(#"{"diffResults":{"removed":[{"pid":"1","x":"\u00e9\n"}],"added":[{"pid":2.5e3,"b":[true,false,null]}]},"name":"q"}"#.utf8)
        for cut in 0..<line.count {
            #expect(throws: OsqueryLogSplitError.self) { try splitter.split(buffer(Array(line[0..<cut]))) }
        }
        #expect(try splitter.split(buffer(line)).count == 2)
    }

    @Test("split(into:) appends to the caller's array")
    func appends() throws {
        var events: [ByteBuffer] = [buffer("{}")]
        try splitter.split(buffer(#"{"diffResults":{"added":[{"a":"1"},{"a":"2"}]}}"#), into: &events)
        #expect(events.count == 3)
    }
}
