#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore

/// One record as read back: its header and its events as slices of one read buffer.
public struct SpoolReadRecord: Sendable {
    public var meta: SpoolRecordMeta
    /// Nil when the record failed its checksum (disk corruption): its events cannot be delivered
    /// and are accounted as dropped.
    public var header: SpoolRecordHeader?
    public var events: [ByteBuffer]
    public var corruption: String?
}

/// Reads committed records for one consumer (an output's delivery loop), keeping the current
/// segment's file open. Not shared between tasks.
public final class SpoolReader {
    let spool: Spool
    private var fd: Int32 = -1
    private var fdSegment: UInt64 = 0

    public init(spool: Spool) {
        self.spool = spool
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public enum ReadError: Error {
        /// The segment was deleted (`drop_oldest`) before it could be read.
        case segmentGone(UInt64)
        case io(SpoolError)
    }

    /// Reads `metas` (consecutive records of one segment, as ``Spool/records(from:maxBytes:maxRecords:)``
    /// returns them) with one `pread`, verifying every record's checksum.
    public func read(_ metas: [SpoolRecordMeta]) throws(ReadError) -> [SpoolReadRecord] {
        guard let first = metas.first, let last = metas.last else { return [] }
        if fd < 0 || fdSegment != first.segment {
            if fd >= 0 { close(fd) }
            fd = -1
            let path = Spool.segmentPath(directory: spool.options.directory.path, id: first.segment)
            let opened = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if opened < 0 {
                if errno == ENOENT { throw .segmentGone(first.segment) }
                throw .io(FileIO.error("open", path))
            }
            fd = opened
            fdSegment = first.segment
        }
        let length = Int(last.end - first.offset)
        let buffer: ByteBuffer
        do { buffer = try FileIO.pread(fd, count: length, at: first.offset, path: "segment \(first.segment)") } catch { throw .io(error) }
        var records: [SpoolReadRecord] = []
        records.reserveCapacity(metas.count)
        for meta in metas {
            let at = Int(meta.offset - first.offset)
            guard at + meta.frameBytes <= buffer.readableBytes else {
                records.append(SpoolReadRecord(meta: meta, header: nil, events: [], corruption: "record past the end of the file"))
                continue
            }
            let decoded: Result<(SpoolRecordHeader, [Range<Int>]), SpoolRecordCodec.DecodeError> = buffer.withUnsafeReadableBytes { raw in
                let frame = UnsafeRawBufferPointer(rebasing: raw[at..<(at + meta.frameBytes)])
                do throws(SpoolRecordCodec.DecodeError) {
                    let (header, eventsOffset) = try SpoolRecordCodec.decodeHeader(frame, verify: true)
                    return .success((header, try SpoolRecordCodec.eventRanges(frame, eventsOffset: eventsOffset, count: header.eventCount)))
                } catch {
                    return .failure(error)
                }
            }
            switch decoded {
            case .success(let (header, ranges)):
                let events = ranges.map { buffer.getSlice(at: buffer.readerIndex + at + $0.lowerBound, length: $0.count)! }
                records.append(SpoolReadRecord(meta: meta, header: header, events: events, corruption: nil))
            case .failure(let error):
                records.append(SpoolReadRecord(meta: meta, header: nil, events: [], corruption: "\(error)"))
            }
        }
        return records
    }
}
