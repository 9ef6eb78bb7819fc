import Foundation
import Testing

@testable import PomonaCore

@Suite struct JSONScannerTests {
    @Test func parsesNestedValuesKeepingNumberText() throws {
        let value = try JSONValue.parse(Array(#"{"a":[1,-2.5e3,true,null],"b":{"c":"d"},"e":0}"#.utf8))
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .null]))
        #expect(value["b"]?["c"]?.stringValue == "d")
        #expect(value["e"]?.intValue == 0)
    }

    @Test func firstDuplicateKeyWinsLikeRapidJSON() throws {
        let value = try JSONValue.parse(Array(#"{"k":"first","k":"second"}"#.utf8))
        #expect(value["k"]?.stringValue == "first")
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue.parse(Array(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00"]"#.utf8))
        #expect(value == .array([.string("a\"b\\c/d\n\té😀")]))
    }

    @Test func toleratesInvalidUTF8InsideStrings() throws {
        // osquery's RapidJSON writer sends raw invalid bytes (spec §4.3); we replace them, not reject.
        var bytes = Array(#"{"name":"caf"#.utf8)
        bytes.append(0xE9)
        bytes.append(contentsOf: Array(#""}"#.utf8))
        let value = try JSONValue.parse(bytes)
        #expect(value["name"]?.stringValue == "caf\u{FFFD}")
    }

    @Test func keepsLegacyBackslashXEscapesAsText() throws {
        // Pre-5.22 agents write the four characters \xC3 (JSON-escaped as \\xC3).
        let value = try JSONValue.parse(Array(#"{"v":"\\xC3\\xA9"}"#.utf8))
        #expect(value["v"]?.stringValue == #"\xC3\xA9"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "NaN", "{\"a\":01}", "{\"a\":1} x", "\u{FEFF}{}", "{\"a\":\"\u{01}\"}",
        "[1 2]", "{\"a\" 1}", "\"\\x41\"", "{\"a\":tru}", "-", "1.", "1e",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: JSONScanError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func limitsNestingDepth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONScanError.self) { try JSONValue.parse(Array(deep.utf8), maxDepth: 64) }
    }

    @Test func skipValueReportsExactRanges() throws {
        let text = Array(#"{"data":[{"a":1}, {"b":[2,3]}]}"#.utf8)
        var ranges: [Range<Int>] = []
        try text.withUnsafeBufferPointer { buffer throws(JSONScanError) in
            var scanner = JSONScanner(buffer)
            try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                #expect(key == "data")
                try s.forEachElement { (e: inout JSONScanner) throws(JSONScanError) in ranges.append(try e.skipValue()) }
            }
        }
        #expect(ranges.map { String(decoding: text[$0], as: UTF8.self) } == [#"{"a":1}"#, #"{"b":[2,3]}"#])
    }

    @Test func encodingRoundTrips() throws {
        let text = #"{"q":"SELECT \"x\" FROM t\n","n":[1,2.5],"o":{},"e":""}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(String(decoding: value.encoded(), as: UTF8.self) == text)
        #expect(try JSONValue.parse(value.encoded()) == value)
    }

    @Test func rowsAcceptNumbersAndSkipNonObjects() throws {
        let value = try JSONValue.parse(Array(#"[{"a":"1","b":2},"x",{"a":""}]"#.utf8))
        #expect(value.rows == [["a": "1", "b": "2"], ["a": ""]])
    }
}
