import Foundation
import NIOCore

/// Edits events: masks secrets, flattens nested objects, renames and removes fields.
///
/// ```yaml
/// - type: transform
///   mask:                                   # 1. replace regex matches inside string values
///     - fields: [columns.command]
///       regex: "(-p|--password[= ])\\S+"
///       replace: "$1***"                    # default "***"; $1… are capture groups
///   flatten: [columns, decorations]         # 2. lift keys to the top: columns.pid → columns_pid
///   rename: { hostIdentifier: host_identifier }   # 3. rename a key where it is
///   remove: [epoch, counter, numerics]      # 4. delete fields
/// ```
///
/// The four operations run in that order, so `mask` sees osquery's layout (`columns.command`),
/// `rename` and `remove` see the flattened names. Put two transform stages in a route for another
/// order. Edits splice the event's bytes; untouched members keep the agent's exact bytes.
public struct TransformStage: Sendable {
    public struct Mask: Sendable {
        public var fields: [FieldPath]
        public var pattern: TextPattern
        public var replacement: String
    }

    public struct Flatten: Sendable {
        public var field: FieldPath
        /// Prepended to every lifted key; the default is the field's name and `_` (`columns_pid`).
        public var prefix: String
    }

    public var name: String
    public var masks: [Mask]
    public var flatten: [Flatten]
    /// Path of the key to rename → its new name (in the same object).
    public var renames: [(path: FieldPath, to: String)]
    public var removals: [FieldPath]

    public init(name: String = "transform", masks: [Mask] = [], flatten: [Flatten] = [],
                renames: [(path: FieldPath, to: String)] = [], removals: [FieldPath] = []) {
        self.name = name
        self.masks = masks
        self.flatten = flatten
        self.renames = renames
        self.removals = removals
    }

    /// Applies the stage; returns how many values were masked.
    @discardableResult
    public func apply(_ event: inout EventDraft) -> Int {
        var masked = 0
        for mask in masks {
            for path in mask.fields where Self.mask(&event, path, mask) { masked += 1 }
        }
        for item in flatten { Self.flatten(&event, item) }
        for (path, newName) in renames { Self.rename(&event, path, to: newName) }
        for path in removals { Self.remove(&event, path) }
        return masked
    }

    // MARK: - Operations

    static func mask(_ event: inout EventDraft, _ path: FieldPath, _ mask: Mask) -> Bool {
        guard case .string(let inner, _)? = event.value(at: path), let text = event.text(at: path),
            let replaced = mask.pattern.replacingMatches(in: text, with: mask.replacement)
        else { return false }
        var literal: [UInt8] = []
        RawJSON.appendString(replaced, to: &literal)
        event.replace((inner.lowerBound - 1)..<(inner.upperBound + 1), with: literal)
        return true
    }

    static func flatten(_ event: inout EventDraft, _ item: Flatten) {
        guard let location = event.memberLocation(at: item.field), item.field.components.count == 1 else {
            if item.field.components.count > 1 { flattenNested(&event, item) }
            return
        }
        let members = location.siblings
        let target = members[location.index]
        var prefix: [UInt8] = []
        RawJSON.appendString(item.prefix, to: &prefix)
        prefix.removeLast()  // keep the opening quote and the escaped prefix, drop the closing quote
        let rebuilt: (ByteBuffer, [RawJSONMember])? = event.withBytes { bytes in
            guard bytes[target.value.lowerBound] == UInt8(ascii: "{"),
                let nested = try? RawJSON.members(bytes, objectAt: target.value.lowerBound).members
            else { return nil }
            let escapedPrefix = prefix.dropFirst()
            /// Whether a top-level key equals a lifted key (prefix + nested key): lifted keys win.
            func collides(_ member: RawJSONMember) -> Bool {
                let key = member.key
                guard key.count >= escapedPrefix.count,
                    FieldValue.bytesEqual(bytes, key.lowerBound..<(key.lowerBound + escapedPrefix.count), Array(escapedPrefix))
                else { return false }
                let rest = (key.lowerBound + escapedPrefix.count)..<key.upperBound
                return nested.contains { inner in
                    inner.key.count == rest.count
                        && memcmp(bytes.baseAddress! + inner.key.lowerBound, bytes.baseAddress! + rest.lowerBound, rest.count) == 0
                }
            }
            var out = ByteBufferAllocator().buffer(capacity: bytes.count + nested.count * prefix.count)
            out.writeInteger(UInt8(ascii: "{"))
            var layout: [RawJSONMember] = []
            layout.reserveCapacity(members.count + nested.count)
            var first = true
            for (i, member) in members.enumerated() {
                if i == location.index {
                    for inner in nested {
                        copyMember(bytes, inner, keyPrefix: prefix, rawPrefixLength: item.prefix.utf8.count, to: &out, layout: &layout, first: &first)
                    }
                } else if !collides(member) {
                    copyMember(bytes, member, keyPrefix: nil, rawPrefixLength: 0, to: &out, layout: &layout, first: &first)
                }
            }
            out.writeInteger(UInt8(ascii: "}"))
            return (out, layout)
        }
        if let (buffer, layout) = rebuilt { event.replaceAll(with: buffer, members: layout) }
    }

    /// Copies a member's bytes to `out` (with `keyPrefix`, the opening quote and escaped prefix,
    /// before its key) and records where its key and value land.
    @inline(__always)
    static func copyMember(_ bytes: UnsafeRawBufferPointer, _ member: RawJSONMember, keyPrefix: [UInt8]?, rawPrefixLength: Int,
                           to out: inout ByteBuffer, layout: inout [RawJSONMember], first: inout Bool) {
        if first { first = false } else { out.writeInteger(UInt8(ascii: ",")) }
        let quote = out.writerIndex
        if let keyPrefix {
            out.writeBytes(keyPrefix)
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[member.key.lowerBound..<member.value.upperBound]))
        } else {
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[member.start..<member.value.upperBound]))
        }
        let end = out.writerIndex
        let escapedPrefixLength = (keyPrefix?.count ?? 1) - 1
        layout.append(RawJSONMember(key: (quote + 1)..<(quote + 1 + escapedPrefixLength + member.key.count),
                                    value: (end - member.value.count)..<end,
                                    keyIsEscaped: member.keyIsEscaped || escapedPrefixLength != rawPrefixLength))
    }

    /// Flattening a nested object (`a.b`) lifts its keys into its parent object `a`.
    static func flattenNested(_ event: inout EventDraft, _ item: Flatten) {
        // Rare in practice; done by moving the keys one by one with rename semantics.
        guard case .object(let range)? = event.value(at: item.field) else { return }
        let pairs: [(String, [UInt8])] = event.withBytes { bytes in
            ((try? RawJSON.members(bytes, objectAt: range.lowerBound).members) ?? []).map {
                (RawJSON.keyString(bytes, $0), Array(UnsafeRawBufferPointer(rebasing: bytes[$0.value])))
            }
        }
        let parentText = item.field.components.dropLast().map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
        remove(&event, item.field)
        guard case .object(let parentRange)? = (try? FieldPath(parentText)).flatMap({ event.value(at: $0) }) else { return }
        var insertion: [UInt8] = []
        let parentEmpty = event.withBytes { bytes in RawJSON.skipWhitespace(bytes, parentRange.lowerBound + 1) == parentRange.upperBound - 1 }
        for (n, (key, value)) in pairs.enumerated() {
            if n > 0 || !parentEmpty { insertion.append(UInt8(ascii: ",")) }
            RawJSON.appendString(item.prefix + key, to: &insertion)
            insertion.append(UInt8(ascii: ":"))
            insertion.append(contentsOf: value)
        }
        event.replace((parentRange.upperBound - 1)..<(parentRange.upperBound - 1), with: insertion)
    }

    static func rename(_ event: inout EventDraft, _ path: FieldPath, to newName: String) {
        guard path.lastName != newName, event.memberLocation(at: path) != nil else { return }
        // A member already called `newName` next to it is replaced.
        let parent = path.components.dropLast().map { String(decoding: $0, as: UTF8.self) }
        if let existing = try? FieldPath((parent + [newName]).joined(separator: ".")), !newName.contains(".") {
            remove(&event, existing)
        }
        guard let location = event.memberLocation(at: path) else { return }
        let member = location.siblings[location.index]
        var key: [UInt8] = []
        RawJSON.appendString(newName, to: &key)
        event.replace(member.start..<(member.key.upperBound + 1), with: key)
    }

    static func remove(_ event: inout EventDraft, _ path: FieldPath) {
        while let location = event.memberLocation(at: path) {
            event.removeMember(location.siblings, location.index)
        }
    }
}

extension TransformStage: Decodable {
    enum Keys: String, CodingKey { case type, name, mask, flatten, rename, remove }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["type", "name", "mask", "flatten", "rename", "remove"])
        let container = try decoder.container(keyedBy: Keys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        masks = try container.decodeIfPresent([Mask].self, forKey: .mask) ?? []
        flatten = try container.decodeIfPresent([Flatten].self, forKey: .flatten) ?? []
        var renames: [(path: FieldPath, to: String)] = []
        if let map = try container.decodeIfPresent([String: String].self, forKey: .rename) {
            for (from, to) in map.sorted(by: { $0.key < $1.key }) {
                let path: FieldPath
                do { path = try FieldPath(from) } catch { throw container.configError(.rename, error.description) }
                guard !to.isEmpty, !to.contains("."), !to.hasPrefix("@") else {
                    throw container.configError(.rename, "\"\(from)\" → \"\(to)\": the new name is one key, without dots")
                }
                guard path.metadata == nil else { throw container.configError(.rename, "\(from) is metadata, not a field") }
                renames.append((path, to))
            }
        }
        self.renames = renames
        removals = container.contains(.remove) ? try container.decodeFieldPaths(.remove) : []
        if masks.isEmpty && flatten.isEmpty && renames.isEmpty && removals.isEmpty {
            throw decoder.configError("a transform needs at least one of mask, flatten, rename, remove")
        }
    }
}

extension TransformStage.Mask: Decodable {
    enum Keys: String, CodingKey { case field, fields, regex, replace }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["field", "fields", "regex", "replace"])
        let container = try decoder.container(keyedBy: Keys.self)
        if container.contains(.fields) {
            fields = try container.decodeFieldPaths(.fields)
        } else if container.contains(.field) {
            fields = [try container.decodeFieldPath(.field)]
        } else {
            throw decoder.configError("a mask needs \"fields\": the string fields it rewrites")
        }
        let text = try container.decode(String.self, forKey: .regex)
        do { pattern = try TextPattern(text) } catch { throw container.configError(.regex, error.description) }
        replacement = try container.decodeIfPresent(String.self, forKey: .replace) ?? "***"
    }
}

extension TransformStage.Flatten: Decodable {
    enum Keys: String, CodingKey { case field, prefix }

    public init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            do { field = try FieldPath(text) } catch { throw decoder.configError(error.description) }
            prefix = field.lastName + "_"
            return
        }
        try decoder.rejectUnknownKeys(["field", "prefix"])
        let container = try decoder.container(keyedBy: Keys.self)
        field = try container.decodeFieldPath(.field)
        prefix = try container.decodeIfPresent(String.self, forKey: .prefix) ?? field.lastName + "_"
    }
}
