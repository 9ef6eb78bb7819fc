import NIOCore

/// What every record says about its events (one accepted request = one record).
public struct SpoolRecordHeader: Sendable, Equatable {
    public var input: String
    public var sourcetype: String
    public var hostID: Int64?
    public var receivedAt: Double
    public var eventCount: Int
    /// Sum of the events' body lengths.
    public var eventBytes: Int64

    public init(input: String, sourcetype: String, hostID: Int64?, receivedAt: Double, eventCount: Int, eventBytes: Int64) {
        self.input = input
        self.sourcetype = sourcetype
        self.hostID = hostID
        self.receivedAt = receivedAt
        self.eventCount = eventCount
        self.eventBytes = eventBytes
    }
}

/// The on-disk frame of a record:
///
///     u32 LE  payload length
///     u32 LE  CRC-32C of the payload
///     payload:
///       u8      format version (1)
///       u16 LE  input length, input (UTF-8)
///       u16 LE  sourcetype length, sourcetype (UTF-8)
///       u8      1 if a host id follows meaningfully, else 0
///       i64 LE  host id
///       u64 LE  received time (IEEE-754 bits of seconds since 1970)
///       u32 LE  event count
///       u64 LE  total event body bytes
///       then per event: u32 LE length, the event's bytes
///
/// A frame whose length runs past the end of the file, or whose checksum does not match, is a
/// torn write (crash mid-append) or corruption.
public enum SpoolRecordCodec {
    public static let frameHeaderBytes = 8
    static let version: UInt8 = 1

    /// Appends one framed record to `out`.
    public static func encode(_ header: SpoolRecordHeader, events: [ByteBuffer], into out: inout ByteBuffer) {
        let frameStart = out.writerIndex
        out.writeInteger(UInt32(0), endianness: .little)  // length, patched below
        out.writeInteger(UInt32(0), endianness: .little)  // checksum, patched below
        let payloadStart = out.writerIndex
        out.writeInteger(version)
        writeShortString(header.input, into: &out)
        writeShortString(header.sourcetype, into: &out)
        out.writeInteger(UInt8(header.hostID == nil ? 0 : 1))
        out.writeInteger(header.hostID ?? 0, endianness: .little)
        out.writeInteger(header.receivedAt.bitPattern, endianness: .little)
        out.writeInteger(UInt32(events.count), endianness: .little)
        out.writeInteger(UInt64(events.reduce(0) { $0 + $1.readableBytes }), endianness: .little)
        for event in events {
            out.writeInteger(UInt32(event.readableBytes), endianness: .little)
            var copy = event
            out.writeBuffer(&copy)
        }
        let payloadLength = out.writerIndex - payloadStart
        let crc = out.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(payloadStart - out.readerIndex)...]))
        }
        out.setInteger(UInt32(payloadLength), at: frameStart, endianness: .little)
        out.setInteger(crc, at: frameStart + 4, endianness: .little)
    }

    /// The size of the frame `encode` would write.
    public static func frameSize(input: String, sourcetype: String, events: [ByteBuffer]) -> Int {
        frameHeaderBytes + 1 + 2 + input.utf8.count + 2 + sourcetype.utf8.count + 1 + 8 + 8 + 4 + 8
            + events.reduce(0) { $0 + 4 + $1.readableBytes }
    }

    private static func writeShortString(_ s: String, into out: inout ByteBuffer) {
        let bytes = s.utf8.prefix(Int(UInt16.max))
        out.writeInteger(UInt16(bytes.count), endianness: .little)
        out.writeBytes(bytes)
    }

    public enum DecodeError: Error, Equatable {
        /// Fewer bytes than the frame announces: a torn tail.
        case truncated
        case checksumMismatch
        case malformed(String)
    }

    /// Reads the frame length at the start of `raw` (nil if fewer than 8 bytes).
    public static func payloadLength(_ raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count >= frameHeaderBytes else { return nil }
        return Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
    }

    /// Checks the frame's checksum and parses its header; `raw` starts at the frame and holds at
    /// least the whole frame. With `verify: false` only the header is parsed (fast index scans).
    public static func decodeHeader(_ raw: UnsafeRawBufferPointer, verify: Bool) throws(DecodeError) -> (header: SpoolRecordHeader, eventsOffset: Int) {
        guard let length = payloadLength(raw) else { throw .truncated }
        if verify {
            guard raw.count >= frameHeaderBytes + length else { throw .truncated }
            let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let payload = UnsafeRawBufferPointer(rebasing: raw[frameHeaderBytes..<(frameHeaderBytes + length)])
            guard CRC32C.checksum(payload) == stored else { throw .checksumMismatch }
        }
        var cursor = frameHeaderBytes
        let end = min(raw.count, frameHeaderBytes + length)
        func need(_ n: Int) throws(DecodeError) {
            if cursor + n > end { throw end < frameHeaderBytes + length ? .truncated : .malformed("header runs past the payload") }
        }
        try need(1)
        guard raw[cursor] == version else { throw .malformed("unknown record version \(raw[cursor])") }
        cursor += 1
        func shortString() throws(DecodeError) -> String {
            try need(2)
            let n = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: UInt16.self)))
            cursor += 2
            try need(n)
            let s = String(decoding: UnsafeRawBufferPointer(rebasing: raw[cursor..<(cursor + n)]), as: UTF8.self)
            cursor += n
            return s
        }
        let input = try shortString()
        let sourcetype = try shortString()
        try need(1 + 8 + 8 + 4 + 8)
        let hasHost = raw[cursor] == 1
        cursor += 1
        let host = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: Int64.self))
        cursor += 8
        let time = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: UInt64.self)))
        cursor += 8
        let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)))
        cursor += 4
        let bytes = Int64(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: UInt64.self)))
        cursor += 8
        guard Int64(count) * 4 + bytes == Int64(frameHeaderBytes + length - cursor) else {
            throw .malformed("event sizes do not add up to the payload length")
        }
        return (SpoolRecordHeader(input: input, sourcetype: sourcetype, hostID: hasHost ? host : nil, receivedAt: time, eventCount: count, eventBytes: bytes), cursor)
    }

    /// The byte ranges (relative to the frame start) of the events, after a successful
    /// `decodeHeader` with verification.
    public static func eventRanges(_ raw: UnsafeRawBufferPointer, eventsOffset: Int, count: Int) throws(DecodeError) -> [Range<Int>] {
        guard let length = payloadLength(raw) else { throw .truncated }
        let end = frameHeaderBytes + length
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(count)
        var cursor = eventsOffset
        for _ in 0..<count {
            guard cursor + 4 <= end else { throw .malformed("event length past the payload") }
            let n = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)))
            cursor += 4
            guard cursor + n <= end else { throw .malformed("event past the payload") }
            ranges.append(cursor..<(cursor + n))
            cursor += n
        }
        return ranges
    }
}
