import Foundation

/// A parsed JSON value that keeps numbers as their source text and tolerates invalid UTF-8.
///
/// osquery writes strings with RapidJSON, which does not validate UTF-8, so agent payloads can hold raw
/// invalid bytes (protocol spec §4.3, §10.8). Foundation's decoders reject such documents outright;
/// this parser decodes strings lossily (invalid bytes become U+FFFD) so one odd byte in a software
/// name never costs a whole distributed write. Object members keep their order; the first occurrence
/// of a duplicate key wins on lookup, as in RapidJSON.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written, e.g. `"42"`, `"-1.5e3"`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed).
    /// - Throws: ``JSONScanError`` with the byte offset of the problem.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONScanError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(JSONScanError) -> JSONValue in
            var scanner = JSONScanner(buffer, maxDepth: maxDepth)
            let value = try scanner.parseValue()
            try scanner.expectEnd()
            return value
        }
    }

    // MARK: - Access

    /// The member named `key` of an object (first occurrence), or `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectMembers: [(String, JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An integer from a JSON number or a numeric string (osquery sends both, spec §10.22).
    public var intValue: Int? {
        switch self {
        case .number(let text): return Int(text) ?? Double(text).flatMap { $0.isFinite && $0 == $0.rounded() ? Int(exactly: $0) : nil }
        case .string(let text): return Int(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .number(let text): return Double(text)
        case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// A row value as osquery means it: strings as-is, numbers as their text, everything else `nil`.
    public var textValue: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "1" : "0"
        default: return nil
        }
    }

    /// An array of row objects as `[column: text]` dictionaries; non-object items are skipped.
    public var rows: [[String: String]] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { item in
            guard case .object(let members) = item else { return nil }
            var row: [String: String] = [:]
            for (key, value) in members where row[key] == nil { row[key] = value.textValue ?? "" }
            return row
        }
    }

    // MARK: - Encoding

    /// Compact JSON text (no whitespace), numbers written as they were parsed.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .number(let n): out.append(contentsOf: Array(n.utf8))
        case .string(let s): JSONValue.encodeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.encodeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes `s` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as raw UTF-8 (as osquery does).
    public static func encodeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
