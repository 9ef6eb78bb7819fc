/// Events and body bytes, the two units every pipeline count is kept in.
public struct EventTally: Sendable, Equatable, Hashable {
    public var events: Int64
    public var bytes: Int64

    public init(events: Int64 = 0, bytes: Int64 = 0) {
        self.events = events
        self.bytes = bytes
    }

    public static let zero = EventTally()

    public static func + (lhs: EventTally, rhs: EventTally) -> EventTally {
        EventTally(events: lhs.events + rhs.events, bytes: lhs.bytes + rhs.bytes)
    }

    public static func - (lhs: EventTally, rhs: EventTally) -> EventTally {
        EventTally(events: lhs.events - rhs.events, bytes: lhs.bytes - rhs.bytes)
    }

    public static func += (lhs: inout EventTally, rhs: EventTally) { lhs = lhs + rhs }
    public static func -= (lhs: inout EventTally, rhs: EventTally) { lhs = lhs - rhs }
}

/// What the spool remembers about one record without reading it: enough to find it, to count
/// what is still spooled behind a checkpoint, and to account for a dropped segment.
public struct SpoolRecordMeta: Sendable, Equatable {
    public var segment: UInt64
    public var offset: Int64
    public var frameBytes: Int
    public var input: String
    public var eventCount: Int
    public var eventBytes: Int64

    public var end: Int64 { offset + Int64(frameBytes) }
    public var tally: EventTally { EventTally(events: Int64(eventCount), bytes: eventBytes) }
    /// The position of the record's first event.
    public var start: SpoolPosition { SpoolPosition(segment: segment, offset: offset) }
}

/// One segment file as the spool knows it: committed size and its records in file order.
struct SegmentState: Sendable {
    let id: UInt64
    let path: String
    /// Bytes that are durable (per the fsync policy) and readable; everything past is not ours.
    var size: Int64
    var records: [SpoolRecordMeta] = []
    /// Events and bytes by input, for every record in the segment.
    var totals: [String: EventTally] = [:]

    mutating func add(_ meta: SpoolRecordMeta) {
        records.append(meta)
        totals[meta.input, default: .zero] += meta.tally
    }

    /// Index of the first record whose offset is ≥ `offset`.
    func firstRecord(atOrAfter offset: Int64) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// What is still to resolve from `position` (inside this segment) to the segment's end, by input.
    func remaining(from position: SpoolPosition) -> [String: EventTally] {
        var result: [String: EventTally] = [:]
        var i = firstRecord(atOrAfter: position.offset)
        if i < records.count, records[i].offset == position.offset, position.index > 0 {
            let record = records[i]
            result[record.input, default: .zero] += record.tally - EventTally(events: Int64(position.index), bytes: position.consumedBytes)
            i += 1
        }
        if i == 0 { return totals }
        while i < records.count {
            result[records[i].input, default: .zero] += records[i].tally
            i += 1
        }
        return result
    }
}

extension Dictionary where Key == String, Value == EventTally {
    mutating func add(_ other: [String: EventTally]) {
        for (key, value) in other { self[key, default: .zero] += value }
    }
}
