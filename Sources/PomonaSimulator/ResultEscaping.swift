/// The `\xNN` escaping osqueryd applies to differential scheduled results (spec §4.3).
///
/// Snapshot and distributed results are never escaped; only event/batch lines of scheduled queries.
public enum ResultEscaping: Sendable, Equatable {
    /// No escaping (snapshot and distributed results).
    case none
    /// Up to 5.21: every byte below 0x20 or at/above 0x80 becomes the four characters `\xNN`.
    case legacy
    /// 5.22.0 and later: valid UTF-8 passes through; control bytes and invalid UTF-8 bytes become `\xNN`.
    case utf8Aware

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Escapes raw column bytes.
    ///
    /// ```swift
    /// ResultEscaping.legacy.escape(Array("é\n".utf8))     // #"\xC3\xA9\x0A"#
    /// ResultEscaping.utf8Aware.escape(Array("é\n".utf8))  // #"é\x0A"#
    /// ```
    public func escape(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch self {
            case .none:
                out.append(byte)
                index += 1
            case .legacy:
                if byte < 0x20 || byte >= 0x80 { Self.appendEscape(byte, to: &out) } else { out.append(byte) }
                index += 1
            case .utf8Aware:
                if byte < 0x20 {
                    Self.appendEscape(byte, to: &out)
                    index += 1
                } else if byte < 0x80 {
                    out.append(byte)
                    index += 1
                } else if let length = Self.validSequenceLength(bytes, at: index) {
                    out.append(contentsOf: bytes[index..<index + length])
                    index += length
                } else {
                    Self.appendEscape(byte, to: &out)
                    index += 1
                }
            }
        }
        // Every byte left raw is ASCII or part of a validated sequence (or `.none`, repaired here).
        return String(decoding: out, as: UTF8.self)
    }

    /// Escapes a Swift string's UTF-8 bytes.
    public func escape(_ string: String) -> String { escape(Array(string.utf8)) }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
    }

    /// Length of a well-formed UTF-8 sequence starting at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF), or `nil`.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        let second = bytes[index + 1]
        guard second >= lowerBound && second <= upperBound else { return nil }
        for offset in 2..<max(length, 2) where !(0x80...0xBF).contains(bytes[index + offset]) { return nil }
        return length
    }
}
