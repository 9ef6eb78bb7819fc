import PomonaCore
import PomonaPipeline
import Yams

/// Reads Fleet `apiVersion: v1` spec files strictly: every document must have a known `kind`, a
/// `spec` mapping whose fields are known and of the right type, and required fields present.
/// The first problem found is reported with file, document index, line and field.
enum SpecReader {
    static let apiVersion = "v1"

    /// Every non-empty document of `yaml`, validated, in file order.
    static func read(yaml: String, file: String) throws(SpecError) -> [SpecDocument] {
        var documents: [SpecDocument] = []
        var index = 0
        var sequence: YamlSequence<Node>
        do {
            try BoundedYAML.checkSize(yaml, maxBytes: BoundedYAML.maxSpecBytes)
            sequence = try Yams.compose_all(yaml: yaml)
        } catch let error as BoundedYAMLError {
            throw SpecError(file: file, document: 1, line: nil, field: "", reason: error.message)
        } catch {
            throw syntaxError(error, file: file, document: 1)
        }
        while let node = sequence.next() {
            index += 1
            // Before anything converts it: an alias bomb explodes only when expanded (BoundedYAML).
            do { try BoundedYAML.check(node, document: nil) } catch {
                throw SpecError(file: file, document: index, line: node.mark?.line, field: "", reason: error.message)
            }
            if let document = try readDocument(node, file: file, index: index) {
                documents.append(document)
            }
        }
        if let error = sequence.error {
            throw syntaxError(error, file: file, document: index + 1)
        }
        try checkAcrossDocuments(documents, file: file)
        return documents
    }

    /// A YAML syntax error, located by the parser's mark when it has one.
    static func syntaxError(_ error: any Error, file: String, document: Int) -> SpecError {
        var line: Int?
        var problem = "\(error)"
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let text, let mark, _), .parser(let context, let text, let mark, _),
                .composer(let context, let text, let mark, _):
                line = mark.line
                problem = [context?.text, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            case .duplicatedKeysInMapping(let duplicates, let context):
                line = context.mark.line
                problem = "duplicate key \(duplicates.joined(separator: ", "))"
            default:
                break
            }
        }
        return SpecError(file: file, document: document, line: line, field: "", reason: "invalid YAML: \(problem)")
    }

    /// One document; `nil` for an empty one (a stray `---`).
    static func readDocument(_ node: Node, file: String, index: Int) throws(SpecError) -> SpecDocument? {
        func fail(_ field: String, _ reason: String, at: Node? = nil) -> SpecError {
            SpecError(file: file, document: index, line: (at ?? node).mark?.line, field: field, reason: reason)
        }
        if case .scalar(let scalar) = node, SpecNormalizer.tagName(node) == .null || scalar.string.isEmpty { return nil }
        guard case .mapping(let top) = node else {
            throw fail("", "a document must be a mapping with apiVersion, kind and spec")
        }
        var apiVersion: String?
        var kindText: String?
        var specNode: Node?
        for (keyNode, value) in top {
            switch keyNode.string ?? "" {
            case "apiVersion": apiVersion = value.string
            case "kind": kindText = value.string
            case "spec": specNode = value
            case let other: throw fail(other, "unknown field (a document has apiVersion, kind and spec)", at: keyNode)
            }
        }
        guard let apiVersion else { throw fail("apiVersion", "missing (expected \"v1\")") }
        guard apiVersion == Self.apiVersion else { throw fail("apiVersion", "unsupported version \"\(apiVersion)\" (expected \"v1\")") }
        guard let kindText else { throw fail("kind", "missing") }
        guard let kind = SpecKind(rawValue: kindText) else {
            throw fail("kind", "unknown kind \"\(kindText)\" (expected one of \(SpecKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let specNode else { throw fail("spec", "missing") }
        let spec: JSONValue
        do {
            spec = kind.canonicalize(try SpecNormalizer.read(specNode, fields: kind.fields, path: "spec"))
        } catch let problem {
            throw SpecError(file: file, document: index, line: problem.line ?? specNode.mark?.line, field: problem.field, reason: problem.reason)
        }
        try checkMeaning(kind: kind, spec: spec, fail: { fail($0, $1, at: specNode) })
        return SpecDocument(kind: kind, spec: spec, index: index, line: node.mark?.line)
    }

    /// Rules that span fields: a label is dynamic (query) or manual (hosts), not both.
    static func checkMeaning(kind: SpecKind, spec: JSONValue, fail: (String, String) -> SpecError) throws(SpecError) {
        switch kind {
        case .label:
            let manual = spec["label_membership_type"]?.stringValue == "manual"
            let query = spec["query"]?.stringValue ?? ""
            let hosts = spec["hosts"]?.arrayValue ?? []
            if manual && !query.isEmpty { throw fail("spec.query", "a manual label has hosts, not a query") }
            if !manual && query.isEmpty { throw fail("spec.query", "required for a dynamic label (or set label_membership_type: manual with hosts)") }
            if !manual && !hosts.isEmpty { throw fail("spec.hosts", "only a manual label lists hosts (set label_membership_type: manual)") }
        case .query, .policy:
            if let team = spec["team"]?.stringValue, !team.isEmpty {
                throw fail("spec.team", "teams are not supported; use \"\" (global)")
            }
        case .config:
            if spec.objectMembers?.isEmpty ?? true { throw fail("spec", "empty config: name at least one section") }
        case .pack, .enrollSecret:
            break
        }
    }

    /// Two documents of a file must not set the same thing.
    static func checkAcrossDocuments(_ documents: [SpecDocument], file: String) throws(SpecError) {
        var seen: [String: Int] = [:]
        for document in documents {
            let key = "\(document.kind.rawValue)/\(document.name)"
            if let first = seen[key] {
                let what = document.kind.isNamed ? "\(document.kind.rawValue) \"\(document.name)\"" : "kind \(document.kind.rawValue)"
                throw SpecError(
                    file: file, document: document.index, line: document.line, field: document.kind.isNamed ? "spec.name" : "kind",
                    reason: "\(what) is already set by document \(first)")
            }
            seen[key] = document.index
        }
    }
}
