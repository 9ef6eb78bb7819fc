import PomonaCore

/// What applying a file would change, item by item, computed before anything is sent.
///
/// Fleet's spec endpoints answer `{}` and say nothing about what changed, so the CLI compares the
/// file with what the server holds: that is what makes `apply` report `unchanged` the second time
/// and send nothing at all when nothing changed.
struct SpecChange: Sendable, Equatable, CustomStringConvertible {
    enum Action: String, Sendable {
        case created, updated, unchanged
    }

    var kind: SpecKind
    var name: String
    var action: Action
    /// Top-level spec fields that differ (for `updated`).
    var fields: [String] = []

    var description: String {
        var text = "\(kind.rawValue) \"\(name)\": \(action.rawValue)"
        if action == .updated, !fields.isEmpty { text += " (\(fields.joined(separator: ", ")))" }
        return text
    }
}

/// What the server holds now, in normal form.
struct CurrentSpecs: Sendable {
    /// Named specs by kind, then by name.
    var named: [SpecKind: [String: JSONValue]] = [:]
    /// `GET /config`, for `kind: config` documents.
    var config: JSONValue = .object([])
    /// The active global enroll secrets.
    var enrollSecrets: [String] = []
}

enum SpecPlan {
    /// One change per document, in apply order (queries before the packs that name them).
    static func changes(desired: [SpecDocument], current: CurrentSpecs) -> [(SpecDocument, SpecChange)] {
        let ordered = desired.enumerated().sorted { ($0.element.kind.applyOrder, $0.offset) < ($1.element.kind.applyOrder, $1.offset) }
        return ordered.map { _, document in (document, change(for: document, current: current)) }
    }

    static func change(for document: SpecDocument, current: CurrentSpecs) -> SpecChange {
        switch document.kind {
        case .config:
            let differing = (document.spec.objectMembers ?? []).filter { section, value in
                let existing = current.config[section] ?? .null
                // agent_options is replaced as a whole by PATCH /config; other sections merge.
                return section == "agent_options" ? !sameValue(value, existing) : !contained(value, in: existing)
            }.map(\.0)
            return SpecChange(kind: .config, name: "config", action: differing.isEmpty ? .unchanged : .updated, fields: differing)
        case .enrollSecret:
            let wanted = Set((document.spec["secrets"]?.arrayValue ?? []).compactMap { $0["secret"]?.stringValue })
            let existing = Set(current.enrollSecrets)
            guard wanted != existing else { return SpecChange(kind: .enrollSecret, name: "enroll_secret", action: .unchanged) }
            var detail: [String] = []
            if !wanted.subtracting(existing).isEmpty { detail.append("\(wanted.subtracting(existing).count) added") }
            if !existing.subtracting(wanted).isEmpty { detail.append("\(existing.subtracting(wanted).count) removed") }
            return SpecChange(kind: .enrollSecret, name: "enroll_secret", action: .updated, fields: detail)
        case .query, .pack, .label, .policy:
            guard let existing = current.named[document.kind]?[document.name] else {
                return SpecChange(kind: document.kind, name: document.name, action: .created)
            }
            let differing = (document.spec.objectMembers ?? []).filter { key, value in !sameValue(value, existing[key] ?? .null) }.map(\.0)
            return SpecChange(kind: document.kind, name: document.name, action: differing.isEmpty ? .unchanged : .updated, fields: differing)
        }
    }

    /// Equal as JSON, numbers by value (`30` and `30.0` are the same interval).
    static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number, .number): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in sameValue(value, b[key] ?? .null) && y.contains { $0.0 == key } }
        default: return a == b
        }
    }

    /// Whether merging the section `wanted` into `existing` changes nothing. The server merges a
    /// section key by key and replaces each key's value whole, so values compare whole.
    static func contained(_ wanted: JSONValue, in existing: JSONValue) -> Bool {
        guard let members = wanted.objectMembers, existing.objectMembers != nil else { return sameValue(wanted, existing) }
        return members.allSatisfy { key, value in sameValue(value, existing[key] ?? .null) }
    }
}
