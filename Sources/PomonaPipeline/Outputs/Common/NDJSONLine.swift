import Foundation
import NIOCore
import PomonaCore

/// Writes event bodies as single lines without decoding them.
enum NDJSONLine {
    /// Appends `body` to `out` with any raw CR/LF turned into spaces. In a JSON document a raw line
    /// break can only be insignificant whitespace between tokens (control characters are invalid
    /// inside strings), so the event stays the same JSON while fitting on one line.
    static func appendSingleLine(_ body: ByteBuffer, to out: inout ByteBuffer) {
        let hasLineBreak = body.withUnsafeReadableBytes { raw -> Bool in
            guard let base = raw.baseAddress, raw.count > 0 else { return false }
            return memchr(base, 0x0A, raw.count) != nil || memchr(base, 0x0D, raw.count) != nil
        }
        if hasLineBreak {
            out.writeBytes(body.readableBytesView.lazy.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
        } else {
            var copy = body
            out.writeBuffer(&copy)
        }
    }

    /// Appends `body` and a newline.
    static func append(_ body: ByteBuffer, to out: inout ByteBuffer) {
        appendSingleLine(body, to: &out)
        out.writeInteger(UInt8(0x0A))
    }

    /// Appends a Swift string as a JSON string literal (quotes and escapes included).
    static func appendJSONString(_ text: String, to out: inout ByteBuffer) {
        // Names, hosts and ids rarely need escaping: write them directly.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
            out.writeInteger(UInt8(ascii: "\""))
            out.writeString(text)
            out.writeInteger(UInt8(ascii: "\""))
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        JSONValue.encodeString(text, into: &bytes)
        out.writeBytes(bytes)
    }
}
