import Testing

@testable import PomonaCore

@Suite struct LogTextTests {
    @Test(arguments: [
        ("host-1", "host-1"),
        ("evil\n2026-12-07T00:00:00Z info pomona : host enrolled", "evil\\n2026-12-07T00:00:00Z info pomona : host enrolled"),
        ("a\r\nb", "a\\r\\nb"),
        ("nul\u{0}byte", "nul\\0byte"),
        ("tab\there", "tab\\there"),
        ("\u{1B}[31mred", "\\u{1B}[31mred"),
        ("del\u{7F}", "del\\u{7F}"),
        ("c1\u{85}next-line", "c1\\u{85}next-line"),
        ("line\u{2028}sep", "line\\u{2028}sep"),
        ("bidi\u{202E}txt.exe", "bidi\\u{202E}txt.exe"),
        ("back\\slash", "back\\\\slash"),
        ("a forged \\n escape", "a forged \\\\n escape"),
        ("Münchën 東京 ✓", "Münchën 東京 ✓"),
    ])
    func controlCharactersBecomeVisibleEscapes(_ raw: String, _ expected: String) {
        let escaped = LogText.escaped(raw)
        #expect(escaped == expected)
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" })
    }

    @Test func longValuesAreCutAndSaySo() {
        let long = String(repeating: "x", count: 2000)
        let escaped = LogText.escaped(long, maxBytes: 100)
        #expect(escaped == String(repeating: "x", count: 100) + "…(cut, 1900 more bytes)")
        // An escape is never split.
        #expect(LogText.escaped("ab\ncd", maxBytes: 3) == "ab…(cut, 3 more bytes)")
    }
}
