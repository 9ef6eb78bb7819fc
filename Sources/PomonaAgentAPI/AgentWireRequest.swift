/// The head of an HTTP/1.1 request the way osqueryd writes one, read straight from the bytes.
///
/// Why not a general HTTP parser: osqueryd only ever sends `POST <path> HTTP/1.1` with a
/// `Content-Length` body, and parsing that, then converting it into NIO's and HTTPTypes'
/// header collections, cost as much CPU as answering an idle check-in. So this recognises only
/// that one strict shape. Everything else (other methods, chunked bodies, `Connection: close`,
/// `Expect`, upgrades, duplicate or malformed framing headers, obsolete line folding, bare CR
/// or LF) is `.other`, and the connection is handed to the general HTTP server, which judges it.
/// Being strict is what keeps the fast path safe: a request is only answered here when every
/// HTTP implementation would frame it the same way.
public struct AgentWireRequest: Equatable, Sendable {
    /// Request target as sent (path and any query).
    public var target: Substring
    public var contentLength: Int
    public var authorization: String?
    public var contentEncoding: String?
    /// Bytes of the request line and headers, including the final empty line.
    public var headBytes: Int

    /// What the start of a connection's unread bytes holds.
    public enum Parsed: Equatable, Sendable {
        /// No complete head yet (and still under ``AgentWireRequest/maxHeadBytes``).
        case needMore
        /// A request of the one shape the fast path answers.
        case request(AgentWireRequest)
        /// Anything else: leave it, and the rest of the connection, to the general HTTP server.
        case other
    }

    /// Heads longer than this go to the general server (osquery's are a few hundred bytes).
    public static let maxHeadBytes = 16 << 10

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        let parsed = parseHead(bytes.bindMemory(to: UInt8.self))
        // A head still incomplete at the bound is not osquery's.
        return parsed == .needMore && bytes.count >= maxHeadBytes ? .other : parsed
    }

    private static func parseHead(_ b: UnsafeBufferPointer<UInt8>) -> Parsed {
        let n = b.count
        // Request line: "POST " target " HTTP/1.1" CRLF.
        let post: [UInt8] = [0x50, 0x4F, 0x53, 0x54, 0x20]  // "POST "
        for i in 0..<min(n, post.count) where b[i] != post[i] { return .other }
        guard n > post.count else { return .needMore }
        var i = post.count
        let targetStart = i
        while i < n, b[i] != 0x20 {
            guard b[i] > 0x20, b[i] < 0x7F else { return .other }  // visible ASCII only
            i += 1
        }
        guard i < n else { return .needMore }
        let targetEnd = i
        guard targetEnd > targetStart, b[targetStart] == UInt8(ascii: "/") else { return .other }
        let version: [UInt8] = Array(" HTTP/1.1\r\n".utf8)
        for k in 0..<version.count {
            guard i + k < n else { return .needMore }
            guard b[i + k] == version[k] else { return .other }
        }
        i += version.count

        var request = AgentWireRequest(target: "", contentLength: -1, authorization: nil, contentEncoding: nil, headBytes: 0)
        // Header lines until the empty one.
        while true {
            guard i + 1 < n else { return .needMore }
            if b[i] == 0x0D {
                guard b[i + 1] == 0x0A else { return .other }
                i += 2
                break
            }
            // Name: a token, directly followed by ':'. (A leading space or tab would be obsolete
            // line folding, which is refused.)
            let nameStart = i
            while i < n, b[i] != UInt8(ascii: ":") {
                guard isTokenByte(b[i]) else { return .other }
                i += 1
            }
            guard i < n else { return .needMore }
            let nameEnd = i
            guard nameEnd > nameStart else { return .other }
            i += 1
            // Value: up to CRLF; no other control bytes; optional whitespace around it is trimmed.
            var valueStart = i
            while i < n, b[i] != 0x0D {
                let byte = b[i]
                guard byte >= 0x20 || byte == 0x09, byte != 0x7F else { return .other }
                i += 1
            }
            guard i + 1 < n else { return .needMore }
            guard b[i + 1] == 0x0A else { return .other }
            var valueEnd = i
            i += 2
            while valueStart < valueEnd, b[valueStart] == 0x20 || b[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, b[valueEnd - 1] == 0x20 || b[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let name = UnsafeBufferPointer(rebasing: b[nameStart..<nameEnd])
            let value = UnsafeBufferPointer(rebasing: b[valueStart..<valueEnd])
            switch HeaderName(name) {
            case .contentLength:
                guard request.contentLength < 0, let length = decimal(value) else { return .other }
                request.contentLength = length
            case .authorization:
                guard request.authorization == nil else { return .other }
                request.authorization = String(decoding: value, as: UTF8.self)
            case .contentEncoding:
                guard request.contentEncoding == nil else { return .other }
                request.contentEncoding = String(decoding: value, as: UTF8.self)
            case .connection:
                // keep-alive is what HTTP/1.1 means anyway; close and upgrade are the general server's.
                guard equalsIgnoringCase(value, "keep-alive") else { return .other }
            case .refused:
                return .other
            case .other:
                break
            }
            if i > maxHeadBytes { return .other }
        }
        guard request.contentLength >= 0, i <= maxHeadBytes else { return .other }
        request.headBytes = i
        request.target = Substring(String(decoding: UnsafeBufferPointer(rebasing: b[targetStart..<targetEnd]), as: UTF8.self))
        return .request(request)
    }

    /// The header names that matter here, compared without regard to case.
    private enum HeaderName {
        case contentLength, authorization, contentEncoding, connection
        /// Framing or protocol switches the fast path does not handle.
        case refused
        case other

        init(_ name: UnsafeBufferPointer<UInt8>) {
            if equalsIgnoringCase(name, "content-length") {
                self = .contentLength
            } else if equalsIgnoringCase(name, "authorization") {
                self = .authorization
            } else if equalsIgnoringCase(name, "content-encoding") {
                self = .contentEncoding
            } else if equalsIgnoringCase(name, "connection") {
                self = .connection
            } else if equalsIgnoringCase(name, "transfer-encoding") || equalsIgnoringCase(name, "expect")
                || equalsIgnoringCase(name, "upgrade")
            {
                self = .refused
            } else {
                self = .other
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// 1–15 ASCII digits (anything longer is no body osquery sends, and could overflow).
    private static func decimal(_ value: UnsafeBufferPointer<UInt8>) -> Int? {
        guard (1...15).contains(value.count) else { return nil }
        var result = 0
        for byte in value {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result = result * 10 + Int(byte - 0x30)
        }
        return result
    }
}

/// `text` must be lowercase ASCII.
private func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
    guard bytes.count == text.utf8CodeUnitCount else { return false }
    let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    for k in 0..<bytes.count {
        let byte = bytes[k]
        let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        guard lower == expected[k] else { return false }
    }
    return true
}
