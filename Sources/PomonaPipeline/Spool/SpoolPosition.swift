/// A place in the spool: a record (segment id + byte offset of its frame) and an event within it.
///
/// Checkpoints are positions of the *next* event an output has not yet resolved. `consumedBytes`
/// is the body bytes of the events before `index` in that record, kept so that "still spooled"
/// in bytes can be computed from the in-memory index without reading the record again.
public struct SpoolPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: Int64
    public var index: Int
    public var consumedBytes: Int64

    public init(segment: UInt64, offset: Int64, index: Int = 0, consumedBytes: Int64 = 0) {
        self.segment = segment
        self.offset = offset
        self.index = index
        self.consumedBytes = consumedBytes
    }

    public static func < (lhs: SpoolPosition, rhs: SpoolPosition) -> Bool {
        (lhs.segment, lhs.offset, lhs.index) < (rhs.segment, rhs.offset, rhs.index)
    }

    public static func == (lhs: SpoolPosition, rhs: SpoolPosition) -> Bool {
        lhs.segment == rhs.segment && lhs.offset == rhs.offset && lhs.index == rhs.index
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(segment)
        hasher.combine(offset)
        hasher.combine(index)
    }

    public var description: String { "\(segment):\(offset):\(index)" }

    /// The id of the event at this position: stable across restarts and replays (same spool
    /// position, same id), and prefixed with the spool's own random id so that two Pomona servers
    /// feeding one Elasticsearch index never collide.
    public func eventID(spoolID: String) -> String {
        "\(spoolID)-\(String(segment, radix: 16))-\(String(offset, radix: 16))-\(String(index, radix: 16))"
    }
}
