/// Text from outside (an agent's `host_identifier`, a carve id, a header) made safe to write into
/// the server's log.
///
/// Why: log lines are split on newlines by journald, syslog and every SIEM, so a host identifier
/// holding `"\n… pomona : host enrolled"` would forge a whole line; NUL bytes cut lines short in C
/// tools, escape sequences repaint terminals, and bidirectional overrides make a line read
/// differently from what it holds. So every such value goes through this one function before it
/// reaches `logger` metadata or a message: control characters, line and paragraph separators and
/// bidirectional controls become visible escapes (`\n`, `\0`, `\u{1B}`, `\u{202E}`), a backslash
/// becomes `\\` (so an escape cannot be forged either), and very long values are cut.
public enum LogText {
    /// Values longer than this many UTF-8 bytes are cut (and say how much was cut).
    public static let defaultMaxBytes = 512

    public static func escaped(_ text: some StringProtocol, maxBytes: Int = defaultMaxBytes) -> String {
        var out = ""
        var written = 0
        var consumed = 0
        for scalar in text.unicodeScalars {
            let piece = escape(scalar)
            let size = piece?.utf8.count ?? scalar.utf8.count
            if written + size > maxBytes {
                return out + "…(cut, \(text.utf8.count - consumed) more bytes)"
            }
            written += size
            consumed += scalar.utf8.count
            if let piece { out += piece } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// The escape for a scalar that must not be written as it is, else `nil`.
    static func escape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00: return "\\0"
        case 0x5C: return "\\\\"
        case 0x00...0x1F, 0x7F...0x9F,  // C0 controls, DEL, C1 controls
            0x2028, 0x2029,  // line and paragraph separators
            0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069,  // bidirectional marks and controls
            0xFEFF:  // byte order mark / zero-width no-break space
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            return nil
        }
    }
}
