/// A field of an event named in the configuration: a top-level key (`name`), a dotted path into
/// nested objects (`columns.cmdline`, `decorations.hostname`), or one of the event's metadata
/// values, which are not in the JSON: `@sourcetype` and `@input`.
///
/// Keys that themselves contain a dot cannot be addressed; osquery never produces them.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public enum Metadata: String, Sendable, Hashable {
        case sourcetype = "@sourcetype"
        case input = "@input"
    }

    /// The path as written in the configuration.
    public let text: String
    /// Each component as UTF-8 bytes, compared against raw keys without decoding them.
    let components: [[UInt8]]
    let metadata: Metadata?

    public var description: String { text }

    /// - Throws: ``FieldPathError`` when the text is empty, has an empty component (`a..b`, `.a`)
    ///   or names unknown metadata (`@foo`).
    public init(_ text: String) throws(FieldPathError) {
        self.text = text
        if text.hasPrefix("@") {
            guard let metadata = Metadata(rawValue: text) else {
                throw FieldPathError(path: text, reason: "unknown metadata field (use @sourcetype or @input)")
            }
            self.metadata = metadata
            self.components = []
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw FieldPathError(path: text, reason: "a field path is one or more non-empty names separated by dots")
        }
        self.metadata = nil
        self.components = parts.map { Array($0.utf8) }
    }

    /// The last component's name (the key a rename or flatten works on).
    var lastName: String { metadata?.rawValue ?? String(decoding: components.last ?? [], as: UTF8.self) }
}

public struct FieldPathError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "invalid field path \"\(path)\": \(reason)" }
}

/// A value found in an event, as a byte range into the event; decoded only on request.
public enum FieldValue: Sendable, Equatable {
    /// The characters between the quotes.
    case string(Range<Int>, escaped: Bool)
    case number(Range<Int>)
    case bool(Bool)
    case null
    case object(Range<Int>)
    case array(Range<Int>)

    /// Classifies the value whose bytes are exactly `range` (already validated).
    static func classify(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> FieldValue? {
        guard let first = range.first.map({ bytes[$0] }) else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
            var escaped = false
            for i in inner where bytes[i] == UInt8(ascii: "\\") { escaped = true; break }
            return .string(inner, escaped: escaped)
        case UInt8(ascii: "{"): return .object(range)
        case UInt8(ascii: "["): return .array(range)
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "n"): return .null
        default: return .number(range)
        }
    }

    /// The value as text, the way conditions and keys see it: strings decoded, numbers as written,
    /// booleans as `true`/`false`; `null`, objects and arrays have no text.
    func text(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch self {
        case .string(let range, let escaped): return RawJSON.decodeStringContents(bytes, range, escaped: escaped)
        case .number(let range): return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .bool(let value): return value ? "true" : "false"
        case .null, .object, .array: return nil
        }
    }

    /// Compares the value's text with `expected` without allocating when the value has no escapes.
    func textEquals(_ bytes: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        switch self {
        case .string(let range, false), .number(let range):
            return Self.bytesEqual(bytes, range, expected)
        case .string, .bool:
            return text(bytes).map { Array($0.utf8) == expected } ?? false
        case .null, .object, .array: return false
        }
    }

    func textHasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        switch self {
        case .string(let range, false), .number(let range):
            guard range.count >= prefix.count else { return false }
            return Self.bytesEqual(bytes, range.lowerBound..<(range.lowerBound + prefix.count), prefix)
        case .string, .bool:
            return text(bytes).map { $0.utf8.starts(with: prefix) } ?? false
        case .null, .object, .array: return false
        }
    }

    @inline(__always)
    static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ expected: [UInt8]) -> Bool {
        guard range.count == expected.count else { return false }
        var j = range.lowerBound
        for byte in expected {
            if bytes[j] != byte { return false }
            j += 1
        }
        return true
    }
}
