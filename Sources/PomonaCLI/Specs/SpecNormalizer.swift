import Foundation
import PomonaCore
import Yams

/// A field that does not fit its schema, before the file and document are known.
struct SpecFieldProblem: Error, Sendable {
    var field: String
    var reason: String
    var line: Int?
}

/// Turns a spec into its normal form, a JSON object with every schema field in schema order and
/// defaults filled in, from YAML (strict) or from the server's JSON (lenient: unknown keys such as
/// `id` or `updated_at` are dropped).
enum SpecNormalizer {
    // MARK: YAML (strict)

    static func read(_ node: Node, fields: [SpecField], path: String) throws(SpecFieldProblem) -> JSONValue {
        guard case .mapping(let mapping) = node else {
            throw SpecFieldProblem(field: path, reason: "must be a mapping", line: node.mark?.line)
        }
        var given: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, tagName(keyNode) != .null else {
                throw SpecFieldProblem(field: path, reason: "keys must be strings", line: keyNode.mark?.line)
            }
            guard fields.contains(where: { $0.name == key }) else {
                throw SpecFieldProblem(
                    field: "\(path).\(key)", reason: "unknown field (known: \(fields.map(\.name).joined(separator: ", ")))",
                    line: keyNode.mark?.line)
            }
            given[key] = value
        }
        var members: [(String, JSONValue)] = []
        for field in fields {
            let fieldPath = "\(path).\(field.name)"
            if let node = given[field.name], !isNull(node) {
                members.append((field.name, try readValue(node, type: field.type, path: fieldPath)))
            } else if field.required {
                throw SpecFieldProblem(field: fieldPath, reason: "required", line: node.mark?.line)
            } else if let value = field.defaultValue {
                members.append((field.name, value))
            }
        }
        for field in fields where field.required {
            if case .string(let text)? = members.first(where: { $0.0 == field.name })?.1,
                text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            {
                throw SpecFieldProblem(field: "\(path).\(field.name)", reason: "must not be empty", line: given[field.name]?.mark?.line)
            }
        }
        return .object(members)
    }

    /// The resolved tag of a node (`Tag.name` itself is not public in Yams).
    static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tagName(node) == .null }
        return false
    }

    static func readValue(_ node: Node, type: SpecField.FieldType, path: String) throws(SpecFieldProblem) -> JSONValue {
        func fail(_ reason: String) -> SpecFieldProblem { SpecFieldProblem(field: path, reason: reason, line: node.mark?.line) }
        switch type {
        case .string:
            guard case .scalar(let scalar) = node else { throw fail("must be a string") }
            return .string(scalar.string)
        case .integer(let minimum):
            guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmingCharacters(in: .whitespaces)) else {
                throw fail("must be a whole number, got \(describe(node))")
            }
            guard value >= minimum else { throw fail("must be at least \(minimum), got \(value)") }
            return .number(String(value))
        case .boolean:
            guard let value = node.bool else { throw fail("must be true or false, got \(describe(node))") }
            return .bool(value)
        case .oneOf(let allowed):
            guard case .scalar(let scalar) = node, allowed.contains(scalar.string) else {
                throw fail("must be one of \(allowed.joined(separator: ", ")), got \(describe(node))")
            }
            return .string(scalar.string)
        case .stringList:
            guard case .sequence(let sequence) = node else { throw fail("must be a list of strings") }
            var items: [JSONValue] = []
            for (offset, item) in sequence.enumerated() {
                guard case .scalar(let scalar) = item, tagName(item) != .null else {
                    throw SpecFieldProblem(field: "\(path)[\(offset)]", reason: "must be a string", line: item.mark?.line)
                }
                items.append(.string(scalar.string))
            }
            return .array(items)
        case .object(let fields):
            return try read(node, fields: fields, path: path)
        case .objectList(let fields):
            guard case .sequence(let sequence) = node else { throw fail("must be a list") }
            var items: [JSONValue] = []
            for (offset, item) in sequence.enumerated() {
                items.append(try read(item, fields: fields, path: "\(path)[\(offset)]"))
            }
            return .array(items)
        case .any:
            return try anyValue(node, path: path)
        }
    }

    /// Any YAML value as JSON, keeping YAML's own typing of scalars.
    static func anyValue(_ node: Node, path: String) throws(SpecFieldProblem) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .number(String($0)) } ?? .string(scalar.string)
            case .float:
                guard let value = node.float, value.isFinite else { throw SpecFieldProblem(field: path, reason: "not a finite number", line: scalar.mark?.line) }
                return .number(canonicalNumber(value))
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [(String, JSONValue)] = []
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else {
                    throw SpecFieldProblem(field: path, reason: "keys must be strings", line: keyNode.mark?.line)
                }
                members.append((key, try anyValue(value, path: "\(path).\(key)")))
            }
            return .object(members)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (offset, item) in sequence.enumerated() {
                items.append(try anyValue(item, path: "\(path)[\(offset)]"))
            }
            return .array(items)
        case .alias:
            throw SpecFieldProblem(field: path, reason: "YAML aliases are not supported", line: node.mark?.line)
        }
    }

    static func canonicalNumber(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: Server JSON (lenient)

    /// A spec as the server reports it, in the same normal form as a file's.
    static func normalize(_ value: JSONValue, fields: [SpecField]) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for field in fields {
            if let given = value[field.name], given != .null, let converted = convert(given, type: field.type) {
                members.append((field.name, converted))
            } else if let fallback = field.defaultValue {
                members.append((field.name, fallback))
            }
        }
        return .object(members)
    }

    static func convert(_ value: JSONValue, type: SpecField.FieldType) -> JSONValue? {
        switch type {
        case .string, .oneOf:
            return value.textValue.map(JSONValue.string)
        case .integer:
            return value.intValue.map { .number(String($0)) }
        case .boolean:
            if case .bool(let flag) = value { return .bool(flag) }
            return value.intValue.map { .bool($0 != 0) }
        case .stringList:
            return value.arrayValue.map { .array($0.compactMap { $0.textValue.map(JSONValue.string) }) }
        case .object(let fields):
            return value.objectMembers == nil ? nil : normalize(value, fields: fields)
        case .objectList(let fields):
            return value.arrayValue.map { .array($0.map { normalize($0, fields: fields) }) }
        case .any:
            return value
        }
    }
}
