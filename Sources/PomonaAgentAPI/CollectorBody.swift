import NIOCore
import PomonaCore

/// A `/collector` body taken apart into events without decoding them: a single JSON object, a
/// JSON array of objects, or NDJSON (objects separated by newlines or any whitespace). Every
/// refusal names the line (NDJSON) or element index (array) at fault.
public enum CollectorBody {
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var tooLarge = false
        public var description: String { message }
    }

    public static func events(_ body: ByteBuffer, maxEventBytes: Int) throws(Refusal) -> [ByteBuffer] {
        var ranges: [Range<Int>] = []
        let result: Refusal? = body.withUnsafeReadableBytes { raw -> Refusal? in
            let bytes = raw.bindMemory(to: UInt8.self)
            if let bad = firstInvalidUTF8(bytes) {
                return Refusal(message: "invalid UTF-8 at byte \(bad) (line \(line(of: bad, in: bytes)))")
            }
            var scanner = JSONScanner(bytes)
            guard let first = scanner.peek() else { return Refusal(message: "empty body: send a JSON object, an array of objects, or NDJSON") }
            if first == UInt8(ascii: "[") {
                var index = 0
                do throws(JSONScanError) {
                    try scanner.forEachElement { (s: inout JSONScanner) throws(JSONScanError) in
                        guard s.peek() == UInt8(ascii: "{") else { throw s.fail("element \(index) is not a JSON object") }
                        ranges.append(try s.skipValue())
                        index += 1
                    }
                    try scanner.expectEnd()
                } catch {
                    return Refusal(message: error.reason.hasPrefix("element") ? error.reason : "invalid JSON in element \(index) (byte \(error.offset)): \(error.reason)")
                }
                if ranges.isEmpty { return Refusal(message: "empty array: nothing to accept") }
            } else {
                while let next = scanner.peek() {
                    let at = scanner.position
                    guard next == UInt8(ascii: "{") else {
                        return Refusal(message: "line \(line(of: at, in: bytes)): expected a JSON object")
                    }
                    do throws(JSONScanError) { ranges.append(try scanner.skipValue()) } catch {
                        // Name the line where the event starts: an unterminated object fails at the end of input.
                        return Refusal(message: "line \(line(of: at, in: bytes)): invalid JSON at byte \(error.offset): \(error.reason)")
                    }
                }
            }
            for (n, range) in ranges.enumerated() where range.count > maxEventBytes {
                let place = first == UInt8(ascii: "[") ? "element \(n)" : "line \(line(of: range.lowerBound, in: bytes))"
                return Refusal(message: "\(place): event of \(range.count) bytes exceeds the limit of \(maxEventBytes)", tooLarge: true)
            }
            return nil
        }
        if let result { throw result }
        let base = body.readerIndex
        return ranges.map { body.getSlice(at: base + $0.lowerBound, length: $0.count)! }
    }

    /// 1-based line number of byte `offset`.
    static func line(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var line = 1
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A { line += 1 }
        return line
    }

    /// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs,
    /// no surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            func cont(_ k: Int) -> Bool { i + k < n && bytes[i + k] & 0xC0 == 0x80 }
            switch b0 {
            case 0xC2...0xDF:
                guard cont(1) else { return i }
                i += 2
            case 0xE0...0xEF:
                guard cont(1), cont(2) else { return i }
                let b1 = bytes[i + 1]
                if b0 == 0xE0 && b1 < 0xA0 { return i }  // overlong
                if b0 == 0xED && b1 >= 0xA0 { return i }  // surrogate
                i += 3
            case 0xF0...0xF4:
                guard cont(1), cont(2), cont(3) else { return i }
                let b1 = bytes[i + 1]
                if b0 == 0xF0 && b1 < 0x90 { return i }  // overlong
                if b0 == 0xF4 && b1 >= 0x90 { return i }  // above U+10FFFF
                i += 4
            default:
                return i
            }
        }
        return nil
    }
}
