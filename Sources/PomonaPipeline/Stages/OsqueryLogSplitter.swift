import NIOCore

/// Turns one line of an osquery result log into the events Pomona spools: one event per row.
///
/// osquery writes results in three shapes (protocol spec §4.3):
/// - **event format** (`"action": "added"|"removed"|"snapshot"` with `columns`): already one row;
///   passed through as the very same buffer, no copy.
/// - **batch format** (`"diffResults": {"removed": [...], "added": [...]}`): one event per row, removed
///   rows first (the order osquery's event format uses), each
///   `{<the line's other members>, "columns": <row>, "action": "removed"|"added"}`.
/// - **snapshot** (`"snapshot": [...]`): with ``SnapshotMode/perRow`` one event per row
///   `{<other members>, "columns": <row>, "action": "snapshot"}`, and for a snapshot with no rows
///   one marker `{<other members>, "action": "snapshot", "snapshot_empty": true}` (no `columns`);
///   with ``SnapshotMode/perSnapshot`` the line unchanged.
///
/// The line's other members (`name`, `hostIdentifier`, `calendarTime`, `unixTime`, `epoch`, `counter`,
/// `numerics`, `decorations`, or anything `--decorations_top_level` added) are copied byte for byte,
/// in their order. Status lines, and anything else that is a JSON object, pass through unchanged.
/// Bytes inside strings are never decoded, so invalid UTF-8 travels as the agent sent it.
///
/// An empty `diffResults` (a fresh baseline with no rows) yields no event: nothing changed. An empty
/// snapshot is different: it is the answer "the query ran and found nothing" (for a finding-style
/// query, `… WHERE global_state = 0`, the good answer), which a SIEM must be able to tell from "the
/// host never ran it"; hence the marker, counted like any other event.
///
/// ```swift
/// let splitter = OsqueryLogSplitter(snapshotMode: .perRow)
/// let events = try splitter.split(line)   // [ByteBuffer], each one JSON object
/// ```
public struct OsqueryLogSplitter: Sendable {
    public enum SnapshotMode: String, Sendable, Codable, CaseIterable {
        /// One event per snapshot row (`action: "snapshot"`, `columns`).
        case perRow = "per_row"
        /// The snapshot line as osquery wrote it, with all rows in `snapshot`.
        case perSnapshot = "per_snapshot"
    }

    public var snapshotMode: SnapshotMode

    public init(snapshotMode: SnapshotMode = .perRow) {
        self.snapshotMode = snapshotMode
    }

    /// The events in `line`.
    /// - Throws: ``OsqueryLogSplitError`` when the line is not one JSON object, or its
    ///   `diffResults` / `snapshot` member has the wrong type. Nothing is returned for such a line.
    public func split(_ line: ByteBuffer) throws(OsqueryLogSplitError) -> [ByteBuffer] {
        var events: [ByteBuffer] = []
        try split(line, into: &events)
        return events
    }

    /// Appends the events in `line` to `events` (saves an array per line on the ingest path).
    public func split(_ line: ByteBuffer, into events: inout [ByteBuffer]) throws(OsqueryLogSplitError) {
        let plan: Plan
        do {
            plan = try line.withUnsafeReadableBytes { bytes throws(RawJSONError) -> Plan in try Self.plan(bytes, snapshotMode) }
        } catch {
            throw OsqueryLogSplitError(offset: error.offset, reason: error.reason)
        }
        switch plan {
        case .passThrough:
            events.append(line)
        case .emptySnapshot(let others):
            line.withUnsafeReadableBytes { bytes in
                var event: [UInt8] = [UInt8(ascii: "{")]
                for range in others {
                    event.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range]))
                    event.append(UInt8(ascii: ","))
                }
                event.append(contentsOf: Self.emptySnapshotSuffix)
                events.append(ByteBuffer(bytes: event))
            }
        case .rows(let others, let groups):
            line.withUnsafeReadableBytes { bytes in
                var prefix: [UInt8] = [UInt8(ascii: "{")]
                for (n, range) in others.enumerated() {
                    if n > 0 { prefix.append(UInt8(ascii: ",")) }
                    prefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range]))
                }
                prefix.append(contentsOf: others.isEmpty ? Array(#""columns":"#.utf8) : Array(#","columns":"#.utf8))
                let allocator = ByteBufferAllocator()
                for group in groups {
                    let suffix = Array(#","action":"\#(group.action)"}"#.utf8)
                    for row in group.rows {
                        var event = allocator.buffer(capacity: prefix.count + row.count + suffix.count)
                        event.writeBytes(prefix)
                        event.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[row]))
                        event.writeBytes(suffix)
                        events.append(event)
                    }
                }
            }
        }
    }

    // MARK: - Reading the line's shape

    struct RowGroup {
        var action: String
        var rows: [Range<Int>]
    }

    enum Plan {
        case passThrough
        /// A per-row snapshot with no rows: one marker event with these members.
        case emptySnapshot(others: [Range<Int>])
        /// Byte ranges of the members to copy into each event, then the rows by action.
        case rows(others: [Range<Int>], groups: [RowGroup])
    }

    static let diffResultsKey = Array("diffResults".utf8)
    static let snapshotKey = Array("snapshot".utf8)
    static let actionKey = Array("action".utf8)
    static let addedKey = Array("added".utf8)
    static let removedKey = Array("removed".utf8)
    /// Ends the marker event of an empty snapshot (after the line's other members).
    static let emptySnapshotSuffix = Array(#""action":"snapshot","snapshot_empty":true}"#.utf8)

    static func plan(_ bytes: UnsafeRawBufferPointer, _ snapshotMode: SnapshotMode) throws(RawJSONError) -> Plan {
        let (members, end) = try RawJSON.members(bytes)
        guard RawJSON.skipWhitespace(bytes, end) == bytes.count else {
            throw RawJSONError(offset: end, reason: "unexpected data after the JSON object")
        }
        let diff = members.first { RawJSON.keyEquals(bytes, $0, diffResultsKey) }
        let snapshot = members.first { RawJSON.keyEquals(bytes, $0, snapshotKey) }
        if let diff {
            guard bytes[diff.value.lowerBound] == UInt8(ascii: "{") else {
                throw RawJSONError(offset: diff.value.lowerBound, reason: "diffResults is not an object")
            }
            var removed: [Range<Int>] = []
            var added: [Range<Int>] = []
            for member in try RawJSON.members(bytes, objectAt: diff.value.lowerBound).members {
                let isAdded = RawJSON.keyEquals(bytes, member, addedKey)
                guard isAdded || RawJSON.keyEquals(bytes, member, removedKey) else { continue }
                guard bytes[member.value.lowerBound] == UInt8(ascii: "[") else {
                    throw RawJSONError(offset: member.value.lowerBound, reason: "diffResults.\(isAdded ? "added" : "removed") is not an array")
                }
                try RawJSON.forEachElement(bytes, arrayAt: member.value.lowerBound) { row in
                    if isAdded { added.append(row) } else { removed.append(row) }
                }
            }
            let others = otherMembers(bytes, members, dropping: [diffResultsKey, actionKey])
            return .rows(others: others, groups: [RowGroup(action: "removed", rows: removed), RowGroup(action: "added", rows: added)])
        }
        if let snapshot {
            guard bytes[snapshot.value.lowerBound] == UInt8(ascii: "[") else {
                throw RawJSONError(offset: snapshot.value.lowerBound, reason: "snapshot is not an array")
            }
            guard snapshotMode == .perRow else { return .passThrough }
            var rows: [Range<Int>] = []
            try RawJSON.forEachElement(bytes, arrayAt: snapshot.value.lowerBound) { rows.append($0) }
            let others = otherMembers(bytes, members, dropping: [snapshotKey, actionKey])
            if rows.isEmpty { return .emptySnapshot(others: others) }
            return .rows(others: others, groups: [RowGroup(action: "snapshot", rows: rows)])
        }
        return .passThrough
    }

    /// `"key":value` byte ranges of every member except those named in `dropping`.
    static func otherMembers(_ bytes: UnsafeRawBufferPointer, _ members: [RawJSONMember], dropping: [[UInt8]]) -> [Range<Int>] {
        members.compactMap { member in
            dropping.contains { RawJSON.keyEquals(bytes, member, $0) } ? nil : member.start..<member.value.upperBound
        }
    }
}

/// A log line the splitter cannot read; the caller reports it (the line is not spooled).
public struct OsqueryLogSplitError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "osquery log line is not usable: \(reason) (byte \(offset))" }
}
