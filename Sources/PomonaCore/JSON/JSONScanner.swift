/// Why a JSON document was rejected, with the byte offset where the problem was seen.
public struct JSONScanError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A byte-level JSON scanner over a borrowed buffer.
///
/// It validates syntax strictly (RFC 8259: no comments, no trailing commas, no NaN, no BOM) but does
/// not validate UTF-8 inside strings, because osquery does not either. It can either build a
/// ``JSONValue`` or skip over a value and report its byte range, which is how log lines are kept as
/// the agent's own bytes from ingest to outputs without being decoded.
public struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position: Int = 0
    let maxDepth: Int
    var depth = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 64) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    // MARK: - Structure

    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    public func fail(_ reason: String) -> JSONScanError { JSONScanError(offset: position, reason: reason) }

    /// Peeks the next non-whitespace byte.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    public mutating func expect(_ byte: UInt8) throws(JSONScanError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw fail("expected '\(Character(UnicodeScalar(byte)))'")
        }
        position += 1
    }

    /// Checks that only whitespace follows.
    public mutating func expectEnd() throws(JSONScanError) {
        skipWhitespace()
        if position != bytes.count { throw fail("unexpected data after the JSON value") }
    }

    /// Iterates the members of an object: calls `body` with each key, positioned at the value, which
    /// `body` must consume (parse or skip).
    public mutating func forEachMember(
        _ body: (inout JSONScanner, String) throws(JSONScanError) -> Void
    ) throws(JSONScanError) {
        try expect(UInt8(ascii: "{"))
        try enter()
        defer { depth -= 1 }
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return
            default: throw fail("expected ',' or '}' in object")
            }
        }
    }

    /// Iterates the elements of an array: calls `body` positioned at each element, which it must consume.
    public mutating func forEachElement(_ body: (inout JSONScanner) throws(JSONScanError) -> Void) throws(JSONScanError) {
        try expect(UInt8(ascii: "["))
        try enter()
        defer { depth -= 1 }
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            skipWhitespace()
            try body(&self)
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return
            default: throw fail("expected ',' or ']' in array")
            }
        }
    }

    mutating func enter() throws(JSONScanError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
    }

    /// Skips one value, validating it, and returns its byte range.
    @discardableResult
    public mutating func skipValue() throws(JSONScanError) -> Range<Int> {
        skipWhitespace()
        let start = position
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): try forEachMember { (s: inout JSONScanner, _: String) throws(JSONScanError) in try s.skipValue() }
        case UInt8(ascii: "["): try forEachElement { (s: inout JSONScanner) throws(JSONScanError) in try s.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try scanNumber()
        }
        return start..<position
    }

    /// Parses one value into a ``JSONValue``.
    public mutating func parseValue() throws(JSONScanError) -> JSONValue {
        guard let byte = peek() else { throw fail("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            var members: [(String, JSONValue)] = []
            try forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in members.append((key, try s.parseValue())) }
            return .object(members)
        case UInt8(ascii: "["):
            var items: [JSONValue] = []
            try forEachElement { (s: inout JSONScanner) throws(JSONScanError) in items.append(try s.parseValue()) }
            return .array(items)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            let range = try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONScanError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end of input") }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
            throw fail("invalid literal")
        }
        position += count
    }

    mutating func scanNumber() throws(JSONScanError) -> Range<Int> {
        let start = position
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid value") }
        if bytes[position] == 0x30 {
            position += 1
        } else {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        return start..<position
    }

    // MARK: - Strings

    mutating func skipString() throws(JSONScanError) {
        position += 1  // opening quote
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { position += 1; return }
            if byte == UInt8(ascii: "\\") {
                try skipEscape()
                continue
            }
            if byte < 0x20 { throw fail("control character in string") }
            position += 1
        }
        throw fail("unterminated string")
    }

    mutating func skipEscape() throws(JSONScanError) {
        guard position + 1 < bytes.count else { throw fail("unterminated string") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            guard position + 6 <= bytes.count, (2..<6).allSatisfy({ JSONScanner.hexValue(bytes[position + $0]) != nil }) else {
                throw fail("invalid \\u escape")
            }
            position += 6
        default: throw fail("invalid escape")
        }
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Parses a string literal at the current position (must be at the opening quote).
    public mutating func parseString() throws(JSONScanError) -> String {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = position + 1
        // Fast path: no escapes.
        var scan = start
        while scan < bytes.count {
            let b = bytes[scan]
            if b == UInt8(ascii: "\"") {
                position = scan + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<scan]), as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { position = scan; throw fail("control character in string") }
            scan += 1
        }
        var out: [UInt8] = Array(bytes[start..<scan])
        position = scan
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") { out.append(b); position += 1; continue }
            let escStart = position
            try skipEscape()
            let kind = bytes[escStart + 1]
            switch kind {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = (2..<6).reduce(UInt32(0)) { $0 << 4 | JSONScanner.hexValue(bytes[escStart + $1])! }
                if (0xD800..<0xDC00).contains(scalar), position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u"),
                    let low = JSONScanner.hex4(bytes, at: position + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    position += 6
                }
                let unicode = UnicodeScalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: out.append(kind)
            }
        }
        throw fail("unterminated string")
    }

    static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            guard let h = hexValue(bytes[index + i]) else { return nil }
            value = value << 4 | h
        }
        return value
    }
}
