import NIOCore

/// One event while the stages of a route work on it: its JSON bytes and what is known about it.
///
/// The bytes stay the spooled `ByteBuffer` until a stage edits them; edits splice byte ranges
/// (insert `host`, rename a key, replace a masked value) instead of decoding and re-encoding the
/// object. The index of top-level members is built on first use and dropped on every edit.
public struct EventDraft: Sendable {
    /// The current bytes: the spooled buffer itself until the first edit.
    public private(set) var body: ByteBuffer
    private var index: [RawJSONMember]?
    public let sourcetype: String
    public let input: String
    /// The byte count of the body when it entered the route.
    public let originalSize: Int

    public init(body: ByteBuffer, sourcetype: String, input: String) {
        self.body = body
        self.sourcetype = sourcetype
        self.input = input
        originalSize = body.readableBytes
    }

    public init(bytes: [UInt8], sourcetype: String = "test", input: String = "test") {
        self.init(body: ByteBuffer(bytes: bytes), sourcetype: sourcetype, input: input)
    }

    public var byteCount: Int { body.readableBytes }

    public var bytes: [UInt8] { Array(body.readableBytesView) }

    @inline(__always)
    public func withBytes<R>(_ work: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body.withUnsafeReadableBytes(work)
    }

    // MARK: - Reading

    /// The top-level members; empty if the body is not a JSON object.
    public mutating func topLevelMembers() -> [RawJSONMember] {
        if let index { return index }
        let members = withBytes { bytes in (try? RawJSON.members(bytes))?.members ?? [] }
        index = members
        return members
    }

    /// Where the value at `path` is (nil if absent, or if a component on the way is not an object).
    public mutating func value(at path: FieldPath) -> FieldValue? {
        guard path.metadata == nil, let first = path.components.first else { return nil }
        let members = topLevelMembers()
        return withBytes { bytes in
            guard var range = members.first(where: { RawJSON.keyEquals(bytes, $0, first) })?.value else { return nil }
            for component in path.components.dropFirst() {
                guard bytes[range.lowerBound] == UInt8(ascii: "{"),
                    let member = try? RawJSON.member(named: component, in: bytes, objectAt: range.lowerBound)
                else { return nil }
                range = member.value
            }
            return FieldValue.classify(bytes, range)
        }
    }

    /// The field's text (see ``FieldValue``), or the metadata value for `@sourcetype` / `@input`.
    public mutating func text(at path: FieldPath) -> String? {
        switch path.metadata {
        case .sourcetype: return sourcetype
        case .input: return input
        case nil:
            guard let value = value(at: path) else { return nil }
            return withBytes { value.text($0) }
        }
    }

    /// The member at `path` and the members of the object that holds it (for removing or renaming).
    mutating func memberLocation(at path: FieldPath) -> (siblings: [RawJSONMember], index: Int)? {
        guard path.metadata == nil, let last = path.components.last else { return nil }
        var siblings = topLevelMembers()
        return withBytes { bytes in
            for component in path.components.dropLast() {
                guard let member = siblings.first(where: { RawJSON.keyEquals(bytes, $0, component) }),
                    bytes[member.value.lowerBound] == UInt8(ascii: "{"),
                    let nested = try? RawJSON.members(bytes, objectAt: member.value.lowerBound).members
                else { return nil }
                siblings = nested
            }
            guard let index = siblings.firstIndex(where: { RawJSON.keyEquals(bytes, $0, last) }) else { return nil }
            return (siblings, index)
        }
    }

    // MARK: - Editing

    /// Replaces `range` of the bytes with `replacement` (one new buffer, one copy).
    public mutating func replace(_ range: Range<Int>, with replacement: some Collection<UInt8>) {
        var edited = ByteBufferAllocator().buffer(capacity: body.readableBytes - range.count + replacement.count)
        body.withUnsafeReadableBytes { bytes in
            edited.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<range.lowerBound]))
            edited.writeBytes(replacement)
            edited.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range.upperBound...]))
        }
        body = edited
        index = nil
    }

    /// Replaces the whole body.
    public mutating func replaceAll(with bytes: [UInt8]) {
        replaceAll(with: ByteBuffer(bytes: bytes))
    }

    public mutating func replaceAll(with buffer: ByteBuffer) {
        body = buffer
        index = nil
    }

    /// Removes member `index` of `siblings` together with the comma that separates it.
    mutating func removeMember(_ siblings: [RawJSONMember], _ index: Int) {
        let member = siblings[index]
        if index + 1 < siblings.count {
            replace(member.start..<siblings[index + 1].start, with: EmptyCollection())
        } else if index > 0 {
            replace(siblings[index - 1].value.upperBound..<member.value.upperBound, with: EmptyCollection())
        } else {
            replace(member.start..<member.value.upperBound, with: EmptyCollection())
        }
    }

    /// Removes the top-level member named `name` if present (every occurrence).
    mutating func removeTopLevel(named name: [UInt8]) {
        while true {
            let members = topLevelMembers()
            guard let i = withBytes({ bytes in members.firstIndex(where: { RawJSON.keyEquals(bytes, $0, name) }) }) else { return }
            removeMember(members, i)
        }
    }

    /// Adds `"name": value` as the last top-level member, replacing any member of that name.
    public mutating func setTopLevel(name: String, rawValue: [UInt8]) {
        removeTopLevel(named: Array(name.utf8))
        let members = topLevelMembers()
        let close: Int? = withBytes { bytes in
            // The closing brace of the top-level object; nothing is added to a body that is not one.
            let open = RawJSON.skipWhitespace(bytes, 0)
            var i = bytes.count - 1
            while i > open, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i -= 1 }
            guard open < bytes.count, bytes[open] == UInt8(ascii: "{"), i > open, bytes[i] == UInt8(ascii: "}") else { return nil }
            return i
        }
        guard let close else { return }
        var insertion: [UInt8] = []
        insertion.reserveCapacity(name.utf8.count + rawValue.count + 4)
        if !members.isEmpty { insertion.append(UInt8(ascii: ",")) }
        let keyQuote = insertion.count
        RawJSON.appendString(name, to: &insertion)
        let keyEnd = insertion.count - 1
        insertion.append(UInt8(ascii: ":"))
        let valueStart = insertion.count
        insertion.append(contentsOf: rawValue)
        let at = members.last?.value.upperBound ?? close
        replace(at..<at, with: insertion)
        // Members before the insertion point did not move: extend the index instead of rescanning.
        index = members + [RawJSONMember(key: (at + keyQuote + 1)..<(at + keyEnd), value: (at + valueStart)..<(at + insertion.count),
                                         keyIsEscaped: keyEnd - keyQuote - 1 != name.utf8.count)]
    }

    /// Installs a body whose top-level members are already known (built by the caller as it wrote).
    mutating func replaceAll(with buffer: ByteBuffer, members: [RawJSONMember]) {
        body = buffer
        index = members
    }
}
