import PomonaCore
import Yams

/// Writes spec documents as YAML that ``SpecReader`` reads back to the same specs (round trip:
/// `pomona get queries --yaml > q.yml && pomona apply -f q.yml` changes nothing).
enum SpecEmitter {
    /// Documents separated by `---`, fields at their default left out (except required ones).
    static func yaml(_ documents: [SpecDocument]) throws -> String {
        let nodes = documents.map { document in
            YAMLRendering.node(
                .object([
                    ("apiVersion", .string(SpecReader.apiVersion)),
                    ("kind", .string(document.kind.rawValue)),
                    ("spec", trimmed(document.spec, fields: document.kind.fields)),
                ]))
        }
        return try Yams.serialize(nodes: nodes, explicitStart: true, sortKeys: false)
    }

    /// The document as fleetctl writes it with `--json`: `{"apiVersion","kind","spec"}`.
    static func json(_ document: SpecDocument) -> JSONValue {
        .object([
            ("apiVersion", .string(SpecReader.apiVersion)),
            ("kind", .string(document.kind.rawValue)),
            ("spec", trimmed(document.spec, fields: document.kind.fields)),
        ])
    }

    /// `spec` without the fields that only repeat their default, so files stay short.
    static func trimmed(_ spec: JSONValue, fields: [SpecField]) -> JSONValue {
        guard let members = spec.objectMembers else { return spec }
        var kept: [(String, JSONValue)] = []
        for (key, value) in members {
            guard let field = fields.first(where: { $0.name == key }) else {
                kept.append((key, value))
                continue
            }
            var value = value
            switch field.type {
            case .object(let inner): value = trimmed(value, fields: inner)
            case .objectList(let inner): value = .array((value.arrayValue ?? []).map { trimmed($0, fields: inner) })
            default: break
            }
            if field.required || value != (field.defaultValue.map { trimmed($0, fields: innerFields(field)) } ?? .null) {
                if case .object(let inner) = value, inner.isEmpty, !field.required { continue }
                kept.append((key, value))
            }
        }
        return .object(kept)
    }

    private static func innerFields(_ field: SpecField) -> [SpecField] {
        if case .object(let inner) = field.type { return inner }
        return []
    }
}

/// JSON values as YAML nodes: strings that would read back as another type are quoted, text with
/// line breaks (SQL) becomes a literal block.
enum YAMLRendering {
    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null")
        case .bool(let flag): return Node(flag ? "true" : "false")
        case .number(let text): return Node(text)
        case .string(let text):
            if text.contains("\n") && !text.hasSuffix(" ") && !text.contains("\t") {
                return .scalar(Node.Scalar(text, Tag(.str), .literal))
            }
            return .scalar(text.represented())
        case .array(let items): return Node(items.map(node))
        case .object(let members): return Node(members.map { (Node($0.0), node($0.1)) })
        }
    }

    static func yaml(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), sortKeys: false)
    }
}
