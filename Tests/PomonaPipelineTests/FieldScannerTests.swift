import NIOCore
import PomonaCore
import Testing

@testable import PomonaPipeline

@Suite("Field reader and byte editing")
struct FieldScannerTests {
    func path(_ text: String) throws -> FieldPath { try FieldPath(text) }

    @Test("top-level and dotted fields as text")
    func reads() throws {
        var event = draft(resultLine(columns: #"{"cmdline":"/usr/sbin/sshd -D","pid":812,"ok":true,"none":null,"obj":{"a":1}}"#))
        #expect(event.text(at: try path("name")) == "pack_it_processes")
        #expect(event.text(at: try path("hostIdentifier")) == "web-01")
        #expect(event.text(at: try path("unixTime")) == "1785844801")
        #expect(event.text(at: try path("numerics")) == "false")
        #expect(event.text(at: try path("columns.cmdline")) == "/usr/sbin/sshd -D")
        #expect(event.text(at: try path("columns.pid")) == "812")
        #expect(event.text(at: try path("columns.ok")) == "true")
        #expect(event.text(at: try path("columns.none")) == nil)
        #expect(event.text(at: try path("columns.obj")) == nil)
        #expect(event.text(at: try path("columns.obj.a")) == "1")
        #expect(event.text(at: try path("decorations.hostname")) == "web-01.example.com")
        #expect(event.text(at: try path("columns.missing")) == nil)
        #expect(event.text(at: try path("name.deeper")) == nil)
        #expect(event.text(at: try path("@sourcetype")) == "osquery:result")
        #expect(event.text(at: try path("@input")) == "osquery")
    }

    @Test("escaped keys and values are decoded; the first duplicate wins")
    func escapes() throws {
        var event = draft(#"{"a\u0062":"x\n\"y\" \u00e9 \ud83d\ude00","k":"first","k":"second"}"#)
        #expect(event.text(at: try path("ab")) == "x\n\"y\" é 😀")
        #expect(event.text(at: try path("k")) == "first")
    }

    @Test("invalid UTF-8 in a value reads as U+FFFD, never a crash")
    func invalidUTF8() throws {
        var bytes = Array(#"{"name":"a"#.utf8)
        bytes += [0xFF, 0xC3]
        bytes += Array(#"b"}"#.utf8)
        var event = EventDraft(bytes: bytes)
        #expect(event.text(at: try path("name")) == "a\u{FFFD}\u{FFFD}b")
    }

    @Test("a body that is not an object has no fields")
    func notAnObject() throws {
        for body in ["[1,2]", "\"x\"", "{\"a\":", ""] {
            var event = draft(body)
            #expect(event.text(at: try path("a")) == nil)
        }
    }

    @Test("bad paths are refused", arguments: ["", ".a", "a.", "a..b", "@host"])
    func badPaths(text: String) {
        #expect(throws: FieldPathError.self) { try FieldPath(text) }
    }

    @Test("adding a top-level member replaces an existing one and keeps the rest byte for byte")
    func setTopLevel() throws {
        var event = draft(#"{"a":1,"host":"old","b":"x"}"#)
        event.setTopLevel(name: "host", rawValue: Array(#"{"hostname":"h"}"#.utf8))
        #expect(text(event.body) == #"{"a":1,"b":"x","host":{"hostname":"h"}}"#)
        var empty = draft("{}")
        empty.setTopLevel(name: "host", rawValue: Array("1".utf8))
        #expect(text(empty.body) == #"{"host":1}"#)
        var spaced = draft(" { \"a\" : 1 } \n")
        spaced.setTopLevel(name: "b", rawValue: Array("2".utf8))
        #expect(try json(spaced.body) == json(#"{"a":1,"b":2}"#))
        // Not an object: left alone (no member is spliced into a nested object).
        for body in [#"[1,{"x":2}]"#, #""}""#, "", "{"] {
            var other = draft(body)
            other.setTopLevel(name: "host", rawValue: Array("1".utf8))
            #expect(text(other.body) == body)
        }
    }

    @Test("an unedited event keeps its buffer")
    func noCopy() throws {
        let original = buffer(resultLine())
        var event = EventDraft(body: original, sourcetype: "s", input: "i")
        _ = event.text(at: try path("columns.name"))
        #expect(event.body == original)
        let same = original.withUnsafeReadableBytes { a in event.body.withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress } }
        #expect(same)
    }

    @Test("RawJSON validates like a strict parser on nested input")
    func rawValidation() throws {
        let good = Array(#"{"a":[1,-2.5e-3,{"b":[]},"\u00e9",true,false,null],"c":{}}"#.utf8)
        let members = try good.withUnsafeBytes { try RawJSON.members($0).members }
        #expect(members.count == 2)
        for bad in [#"{"a":01}"#, #"{"a":1.}"#, #"{"a":[1 2]}"#, #"{"a" 1}"#, #"{a:1}"#] {
            #expect(throws: RawJSONError.self) { try Array(bad.utf8).withUnsafeBytes { _ = try RawJSON.members($0) } }
        }
    }
}
