/// A test on an event's fields, used by filters, route matches and throttle rules.
///
/// Written in YAML as one mapping with exactly one operator:
///
/// ```yaml
/// { field: name, equals: pack_it_processes }
/// { field: columns.cmdline, prefix: "/usr/bin/" }
/// { field: decorations.hostname, regex: "^build-[0-9]+$" }
/// { field: name, in: [processes, listening_ports] }
/// { field: columns.uid, exists: true }
/// { not: { field: hostIdentifier, prefix: "lab-" } }
/// { all: [ {...}, {...} ] }        # every one must match
/// { any: [ {...}, {...} ] }        # at least one must match
/// ```
///
/// Field values are compared as text (numbers as written, booleans as `true`/`false`); a field
/// that is absent, `null`, an object or an array matches no text operator. `regex` matches anywhere
/// in the value unless anchored.
public indirect enum Condition: Sendable {
    case equals(FieldPath, String)
    case prefix(FieldPath, String)
    case regex(FieldPath, TextPattern)
    case oneOf(FieldPath, Set<String>)
    case exists(FieldPath, Bool)
    case not(Condition)
    case all([Condition])
    case any([Condition])

    /// Whether `event` satisfies the condition.
    public func matches(_ event: inout EventDraft) -> Bool {
        switch self {
        case .equals(let path, let expected):
            if let metadata = Self.metadataText(path, event) { return metadata == expected }
            guard let value = event.value(at: path) else { return false }
            return event.withBytes { value.textEquals($0, Array(expected.utf8)) }
        case .prefix(let path, let prefix):
            if let metadata = Self.metadataText(path, event) { return metadata.hasPrefix(prefix) }
            guard let value = event.value(at: path) else { return false }
            return event.withBytes { value.textHasPrefix($0, Array(prefix.utf8)) }
        case .regex(let path, let pattern):
            guard let text = event.text(at: path) else { return false }
            return pattern.matches(text)
        case .oneOf(let path, let values):
            guard let text = event.text(at: path) else { return false }
            return values.contains(text)
        case .exists(let path, let expected):
            if path.metadata != nil { return expected }
            return (event.value(at: path) != nil) == expected
        case .not(let inner):
            return !inner.matches(&event)
        case .all(let conditions):
            for condition in conditions where !condition.matches(&event) { return false }
            return true
        case .any(let conditions):
            for condition in conditions where condition.matches(&event) { return true }
            return false
        }
    }

    private static func metadataText(_ path: FieldPath, _ event: EventDraft) -> String? {
        switch path.metadata {
        case .sourcetype: return event.sourcetype
        case .input: return event.input
        case nil: return nil
        }
    }
}

extension Condition: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case field, equals, prefix, regex, `in`, exists, not, all, any
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Keys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: Keys.self)
        let operators: [Keys] = [.equals, .prefix, .regex, .in, .exists, .not, .all, .any].filter(container.contains)
        guard operators.count == 1, let op = operators.first else {
            throw decoder.configError(
                "a condition needs exactly one of equals, prefix, regex, in, exists, not, all, any"
                    + (operators.isEmpty ? "" : " (found \(operators.map(\.rawValue).joined(separator: ", ")))"))
        }
        switch op {
        case .not, .all, .any:
            if container.contains(.field) {
                throw container.configError(.field, "\"field\" does not go with \"\(op.rawValue)\" (put it in the inner conditions)")
            }
            switch op {
            case .not: self = .not(try container.decode(Condition.self, forKey: .not))
            case .all:
                let list = try container.decode([Condition].self, forKey: .all)
                guard !list.isEmpty else { throw container.configError(.all, "must list at least one condition") }
                self = .all(list)
            default:
                let list = try container.decode([Condition].self, forKey: .any)
                guard !list.isEmpty else { throw container.configError(.any, "must list at least one condition") }
                self = .any(list)
            }
        default:
            guard container.contains(.field) else {
                throw decoder.configError("\"\(op.rawValue)\" needs \"field\": the field it tests")
            }
            let path = try container.decodeFieldPath(.field)
            switch op {
            case .equals: self = .equals(path, try container.decodeScalarText(.equals))
            case .prefix: self = .prefix(path, try container.decodeScalarText(.prefix))
            case .regex:
                let text = try container.decode(String.self, forKey: .regex)
                do { self = .regex(path, try TextPattern(text)) } catch { throw container.configError(.regex, error.description) }
            case .in:
                var values: [String] = []
                var list = try container.nestedUnkeyedContainer(forKey: .in)
                while !list.isAtEnd { values.append(try list.decodeScalarText()) }
                guard !values.isEmpty else { throw container.configError(.in, "must list at least one value") }
                self = .oneOf(path, Set(values))
            default: self = .exists(path, try container.decode(Bool.self, forKey: .exists))
            }
        }
    }
}

extension KeyedDecodingContainer {
    /// A YAML scalar as text: `equals: 42` and `equals: "42"` mean the same (osquery sends both).
    func decodeScalarText(_ key: Key) throws -> String {
        if let text = try? decode(String.self, forKey: key) { return text }
        if let int = try? decode(Int64.self, forKey: key) { return String(int) }
        if let bool = try? decode(Bool.self, forKey: key) { return bool ? "true" : "false" }
        if let double = try? decode(Double.self, forKey: key) { return String(double) }
        throw configError(key, "expected a text, number or boolean value")
    }
}

extension UnkeyedDecodingContainer {
    mutating func decodeScalarText() throws -> String {
        if let text = try? decode(String.self) { return text }
        if let int = try? decode(Int64.self) { return String(int) }
        if let bool = try? decode(Bool.self) { return bool ? "true" : "false" }
        return String(try decode(Double.self))
    }
}
