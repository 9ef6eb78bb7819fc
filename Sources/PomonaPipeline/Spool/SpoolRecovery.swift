#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore

/// Opening the spool after a clean stop or a crash: index every segment's records and cut a torn
/// tail off the last one.
///
/// Only the last segment can end in a torn record (a crash mid-append): sealed segments were
/// synced before the next one was created. So the last segment is read whole and every record's
/// checksum verified; the file is truncated at the first record that is incomplete or does not
/// verify. Such a record was never acknowledged (`append` returns only after the write, and with
/// `fsync: always` after the sync), so truncating it loses nothing anyone was promised. Sealed
/// segments are indexed from their frame headers only (fast start with a large spool); readers
/// verify each record's checksum when they read it.
enum SpoolRecovery {
    static func open(directory: String, logger: Logger) throws(SpoolError) -> [SegmentState] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .io("cannot list \(directory): \(error.localizedDescription)")
        }
        var ids: [UInt64] = []
        for name in names where name.hasSuffix(Spool.segmentSuffix) {
            if let id = UInt64(name.dropLast(Spool.segmentSuffix.count)) { ids.append(id) }
            // A temporary or foreign file is left alone.
        }
        ids.sort()
        var segments: [SegmentState] = []
        for (n, id) in ids.enumerated() {
            let path = Spool.segmentPath(directory: directory, id: id)
            let isLast = n == ids.count - 1
            segments.append(try isLast ? recoverTail(id: id, path: path, logger: logger) : indexSealed(id: id, path: path, logger: logger))
        }
        return segments
    }

    /// Reads the whole last segment, verifying every record; truncates a torn or corrupt tail.
    static func recoverTail(id: UInt64, path: String, logger: Logger) throws(SpoolError) -> SegmentState {
        let fd = try FileIO.open(path, O_RDWR)
        defer { close(fd) }
        let fileSize = FileIO.size(fd)
        let bytes = try FileIO.pread(fd, count: Int(fileSize), at: 0, path: path)
        var segment = SegmentState(id: id, path: path, size: 0)
        var offset = 0
        var reason: String?
        bytes.withUnsafeReadableBytes { raw in
            while offset < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                do {
                    let (header, _) = try SpoolRecordCodec.decodeHeader(rest, verify: true)
                    let frameBytes = SpoolRecordCodec.frameHeaderBytes + SpoolRecordCodec.payloadLength(rest)!
                    segment.add(SpoolRecordMeta(
                        segment: id, offset: Int64(offset), frameBytes: frameBytes, input: header.input,
                        eventCount: header.eventCount, eventBytes: header.eventBytes))
                    offset += frameBytes
                } catch {
                    reason = "\(error)"
                    return
                }
            }
        }
        segment.size = Int64(offset)
        if let reason {
            logger.warning("spool: truncating a torn record at the end of the last segment (never acknowledged)", metadata: [
                "segment": "\(path)", "offset": "\(offset)", "file_size": "\(fileSize)", "reason": "\(reason)",
            ])
            if ftruncate(fd, off_t(offset)) != 0 { throw FileIO.error("ftruncate", path) }
            try FileIO.fdatasync(fd, path: path)
        }
        return segment
    }

    /// Walks a sealed segment's frame headers without reading the events.
    static func indexSealed(id: UInt64, path: String, logger: Logger) throws(SpoolError) -> SegmentState {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        let fileSize = FileIO.size(fd)
        var segment = SegmentState(id: id, path: path, size: 0)
        var offset: Int64 = 0
        while offset < fileSize {
            // 4 KiB holds any realistic header; a header with huge names gets a second, exact read.
            var parsed: (SpoolRecordHeader, Int)?
            for limit in [4096, 8 + 1 + 2 + 65535 + 2 + 65535 + 29] where parsed == nil {
                let head = try FileIO.pread(fd, count: Int(min(fileSize - offset, Int64(limit))), at: offset, path: path)
                parsed = head.withUnsafeReadableBytes { raw in
                    guard let length = SpoolRecordCodec.payloadLength(raw),
                        offset + Int64(SpoolRecordCodec.frameHeaderBytes + length) <= fileSize,
                        let (header, _) = try? SpoolRecordCodec.decodeHeader(raw, verify: false)
                    else { return nil }
                    return (header, SpoolRecordCodec.frameHeaderBytes + length)
                }
            }
            guard let (header, frameBytes) = parsed else {
                // Only an OS crash with `fsync: never`, or disk corruption, gets here.
                logger.error("spool: unreadable record in a sealed segment; the rest of the segment is skipped", metadata: [
                    "segment": "\(path)", "offset": "\(offset)",
                ])
                break
            }
            segment.add(SpoolRecordMeta(
                segment: id, offset: offset, frameBytes: frameBytes, input: header.input,
                eventCount: header.eventCount, eventBytes: header.eventBytes))
            offset += Int64(frameBytes)
        }
        segment.size = offset
        return segment
    }
}
