import NIOCore
import Testing
@testable import PomonaAgentAPI

@Suite struct CollectorBodyTests {
    func parse(_ text: String, max: Int = 1 << 20) throws(CollectorBody.Refusal) -> [String] {
        try CollectorBody.events(ByteBuffer(string: text), maxEventBytes: max).map { String(buffer: $0) }
    }

    func refusal(_ text: String, max: Int = 1 << 20) -> CollectorBody.Refusal? {
        refusal(bytes: Array(text.utf8), max: max)
    }

    func refusal(bytes: [UInt8], max: Int = 1 << 20) -> CollectorBody.Refusal? {
        do {
            _ = try CollectorBody.events(ByteBuffer(bytes: bytes), maxEventBytes: max)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsAnObjectAnArrayAndNDJSON() throws {
        #expect(try parse(#" {"a":1} "#) == [#"{"a":1}"#])
        #expect(try parse(#"[{"a":1}, {"b":[2]}]"#) == [#"{"a":1}"#, #"{"b":[2]}"#])
        #expect(try parse("{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":\"é\"}\n") == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":"é"}"#])
    }

    @Test func refusalsNameTheLineOrElement() {
        #expect(refusal("")?.message.contains("empty body") == true)
        #expect(refusal("[]")?.message.contains("empty array") == true)
        #expect(refusal(#"[{"a":1}, 3]"#)?.message == "element 1 is not a JSON object")
        #expect(refusal("{\"a\":1}\n{\"b\":}\n")?.message.hasPrefix("line 2: invalid JSON at byte") == true)
        #expect(refusal("{\"a\":1}\n\n[1]\n")?.message == "line 3: expected a JSON object")
        var bytes = Array("{\"a\":1}\n{\"b\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        #expect(refusal(bytes: bytes)?.message.contains("invalid UTF-8 at byte 14 (line 2)") == true)
        bytes = Array(#"{"big":"0123456789"}"#.utf8)
        #expect(refusal(String(decoding: bytes, as: UTF8.self), max: 10)?.tooLarge == true)
    }

    @Test func utf8ValidationRejectsOverlongsAndSurrogates() {
        func check(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBufferPointer { CollectorBody.firstInvalidUTF8($0) } }
        #expect(check(Array("plain ascii é 漢 😀".utf8)) == nil)
        #expect(check([0x41, 0xC0, 0x80]) == 1)  // overlong NUL
        #expect(check([0xED, 0xA0, 0x80]) == 0)  // UTF-16 surrogate
        #expect(check([0xF4, 0x90, 0x80, 0x80]) == 0)  // above U+10FFFF
        #expect(check([0xE2, 0x82]) == 0)  // truncated
    }
}

