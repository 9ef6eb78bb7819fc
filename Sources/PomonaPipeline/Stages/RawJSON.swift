/// Why the bytes of an event are not a JSON object we can work on, with the byte offset.
public struct RawJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// One `"key": value` pair of an object, as byte offsets into the document.
///
/// `key` covers the key's characters between the quotes (still escaped, if it had escapes);
/// `value` covers the value's bytes exactly. Nothing is decoded until someone asks.
public struct RawJSONMember: Sendable, Equatable {
    public var key: Range<Int>
    public var value: Range<Int>
    /// The key contains a backslash escape, so its raw bytes are not its name.
    public var keyIsEscaped: Bool

    /// Offset of the key's opening quote: where the member starts.
    public var start: Int { key.lowerBound - 1 }
}

/// Byte-level walking of one JSON document held in memory: find members, skip values, decode
/// single strings — without building a tree and without allocating per key.
///
/// PomonaCore's `JSONScanner` decodes every key into a `String`; the hot path here (filters,
/// throttle keys, splitting) only ever compares keys with a handful of known names, so it compares
/// bytes instead. Validation is as strict as `JSONScanner` (RFC 8259 structure) except that, like
/// osquery, bytes inside strings are not checked for valid UTF-8.
public enum RawJSON {
    public static let maxDepth = 64

    // MARK: - Objects

    /// The members of the object whose `{` is at `start` (after optional whitespace), in order,
    /// and the offset just past its `}`.
    public static func members(
        _ bytes: UnsafeRawBufferPointer, objectAt start: Int = 0, depth: Int = 0
    ) throws(RawJSONError) -> (members: [RawJSONMember], end: Int) {
        var members: [RawJSONMember] = []
        members.reserveCapacity(12)
        let end = try forEachMember(bytes, objectAt: start, depth: depth) { member in
            members.append(member)
            return true
        }
        return (members, end)
    }

    /// Calls `body` for each member of the object at `start` until it returns `false`.
    /// Returns the offset just past the object, or the offset where iteration stopped.
    @discardableResult
    public static func forEachMember(
        _ bytes: UnsafeRawBufferPointer, objectAt start: Int, depth: Int = 0,
        _ body: (RawJSONMember) -> Bool
    ) throws(RawJSONError) -> Int {
        var i = skipWhitespace(bytes, start)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { throw RawJSONError(offset: i, reason: "expected an object") }
        guard depth < maxDepth else { throw RawJSONError(offset: i, reason: "nesting deeper than \(maxDepth)") }
        i = skipWhitespace(bytes, i + 1)
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { return i + 1 }
        while true {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw RawJSONError(offset: i, reason: "expected a string key") }
            let (keyEnd, escaped) = try skipString(bytes, i)
            let key = (i + 1)..<(keyEnd - 1)
            i = skipWhitespace(bytes, keyEnd)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw RawJSONError(offset: i, reason: "expected ':' after a key") }
            let valueStart = skipWhitespace(bytes, i + 1)
            let valueEnd = try skipValue(bytes, valueStart, depth: depth + 1)
            if !body(RawJSONMember(key: key, value: valueStart..<valueEnd, keyIsEscaped: escaped)) { return valueEnd }
            i = skipWhitespace(bytes, valueEnd)
            guard i < bytes.count else { throw RawJSONError(offset: i, reason: "unterminated object") }
            if bytes[i] == UInt8(ascii: "}") { return i + 1 }
            guard bytes[i] == UInt8(ascii: ",") else { throw RawJSONError(offset: i, reason: "expected ',' or '}' in object") }
            i = skipWhitespace(bytes, i + 1)
        }
    }

    /// The first member named `name` of the object at `start`, or `nil`.
    ///
    /// The object is only validated up to that member: enough for reading fields of an event that
    /// was validated when it was accepted.
    public static func member(
        named name: [UInt8], in bytes: UnsafeRawBufferPointer, objectAt start: Int
    ) throws(RawJSONError) -> RawJSONMember? {
        var found: RawJSONMember?
        try forEachMember(bytes, objectAt: start) { member in
            if keyEquals(bytes, member, name) { found = member; return false }
            return true
        }
        return found
    }

    /// Calls `body` with the byte range of each element of the array at `start`; returns the
    /// offset just past the array.
    @discardableResult
    public static func forEachElement(
        _ bytes: UnsafeRawBufferPointer, arrayAt start: Int, depth: Int = 0, _ body: (Range<Int>) -> Void
    ) throws(RawJSONError) -> Int {
        var i = skipWhitespace(bytes, start)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { throw RawJSONError(offset: i, reason: "expected an array") }
        guard depth < maxDepth else { throw RawJSONError(offset: i, reason: "nesting deeper than \(maxDepth)") }
        i = skipWhitespace(bytes, i + 1)
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { return i + 1 }
        while true {
            let end = try skipValue(bytes, i, depth: depth + 1)
            body(i..<end)
            i = skipWhitespace(bytes, end)
            guard i < bytes.count else { throw RawJSONError(offset: i, reason: "unterminated array") }
            if bytes[i] == UInt8(ascii: "]") { return i + 1 }
            guard bytes[i] == UInt8(ascii: ",") else { throw RawJSONError(offset: i, reason: "expected ',' or ']' in array") }
            i = skipWhitespace(bytes, i + 1)
        }
    }

    // MARK: - Keys

    /// Whether the member's key is exactly `name` (escaped keys are decoded first).
    @inline(__always)
    public static func keyEquals(_ bytes: UnsafeRawBufferPointer, _ member: RawJSONMember, _ name: [UInt8]) -> Bool {
        if member.keyIsEscaped {
            return Array(decodeStringContents(bytes, member.key, escaped: true).utf8) == name
        }
        guard member.key.count == name.count else { return false }
        var j = member.key.lowerBound
        for byte in name {
            if bytes[j] != byte { return false }
            j += 1
        }
        return true
    }

    /// The member's key as text.
    public static func keyString(_ bytes: UnsafeRawBufferPointer, _ member: RawJSONMember) -> String {
        decodeStringContents(bytes, member.key, escaped: member.keyIsEscaped)
    }

    // MARK: - Values

    @inline(__always)
    public static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return i
            }
        }
        return i
    }

    /// Validates the value starting exactly at `start` and returns the offset just past it.
    public static func skipValue(_ bytes: UnsafeRawBufferPointer, _ start: Int, depth: Int = 0) throws(RawJSONError) -> Int {
        guard start < bytes.count else { throw RawJSONError(offset: start, reason: "unexpected end of input") }
        switch bytes[start] {
        case UInt8(ascii: "\""): return try skipString(bytes, start).end
        case UInt8(ascii: "{"):
            return try forEachMember(bytes, objectAt: start, depth: depth) { _ in true }
        case UInt8(ascii: "["):
            return try forEachElement(bytes, arrayAt: start, depth: depth) { _ in }
        case UInt8(ascii: "t"): return try literal(bytes, start, "true")
        case UInt8(ascii: "f"): return try literal(bytes, start, "false")
        case UInt8(ascii: "n"): return try literal(bytes, start, "null")
        default: return try skipNumber(bytes, start)
        }
    }

    static func literal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ word: StaticString) throws(RawJSONError) -> Int {
        let count = word.utf8CodeUnitCount
        guard start + count <= bytes.count else { throw RawJSONError(offset: start, reason: "unexpected end of input") }
        for k in 0..<count where bytes[start + k] != word.utf8Start[k] {
            throw RawJSONError(offset: start, reason: "invalid literal")
        }
        return start + count
    }

    static func skipNumber(_ bytes: UnsafeRawBufferPointer, _ start: Int) throws(RawJSONError) -> Int {
        var i = start
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw RawJSONError(offset: start, reason: "invalid value") }
        if bytes[i] == 0x30 { i += 1 } else { while i < bytes.count, isDigit(bytes[i]) { i += 1 } }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw RawJSONError(offset: i, reason: "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw RawJSONError(offset: i, reason: "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        return i
    }

    /// Skips the string whose opening quote is at `start`; returns the offset past the closing
    /// quote and whether it contained escapes. Raw bytes ≥ 0x80 are accepted as they are.
    @inline(__always)
    static func skipString(_ bytes: UnsafeRawBufferPointer, _ start: Int) throws(RawJSONError) -> (end: Int, escaped: Bool) {
        var i = start + 1
        var escaped = false
        while i < bytes.count {
            // Eight bytes at a time while none of them is a quote, a backslash or a control byte.
            while i + 8 <= bytes.count {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if wordNeedsAttention(word) { break }
                i += 8
            }
            guard i < bytes.count else { break }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { return (i + 1, escaped) }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < bytes.count else { break }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= bytes.count, hex4(bytes, i + 2) != nil else {
                        throw RawJSONError(offset: i, reason: "invalid \\u escape")
                    }
                    i += 6
                default: throw RawJSONError(offset: i, reason: "invalid escape")
                }
                continue
            }
            if b < 0x20 { throw RawJSONError(offset: i, reason: "control character in string") }
            i += 1
        }
        throw RawJSONError(offset: start, reason: "unterminated string")
    }

    /// Whether any byte of `word` is `"`, `\\` or below 0x20 (the SWAR "has zero byte" and "has
    /// byte less than" tests).
    @inline(__always)
    static func wordNeedsAttention(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & highs
        let hasBackslash = (backslash &- ones) & ~backslash & highs
        let hasControl = (word &- ones &* 0x20) & ~word & highs
        return (hasQuote | hasBackslash | hasControl) != 0
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            let b = bytes[at + k]
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    // MARK: - Decoding one string

    /// Decodes the characters of a string literal (the range between its quotes). Invalid UTF-8
    /// becomes U+FFFD, as it does everywhere else in Pomona.
    public static func decodeStringContents(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, escaped: Bool) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard escaped else { return String(decoding: slice, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var i = 0
        while i < slice.count {
            let b = slice[i]
            guard b == UInt8(ascii: "\\"), i + 1 < slice.count else { out.append(b); i += 1; continue }
            let kind = slice[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(slice, i) else { continue }
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= slice.count, slice[i] == UInt8(ascii: "\\"),
                    slice[i + 1] == UInt8(ascii: "u"), let low = hex4(slice, i + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: out.append(kind)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `text` as a JSON string literal (quotes included).
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
