/// A spec file that cannot be applied, with where and why: file, document (1-based), line, field.
struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    var file: String
    /// 1-based index of the YAML document in the file (documents are separated by `---`).
    var document: Int
    /// 1-based line of the offending node, when known.
    var line: Int?
    /// Dotted path of the field, e.g. `spec.queries[2].interval`; empty for the document itself.
    var field: String
    var reason: String

    var description: String {
        var text = "\(file): document \(document)"
        if let line { text += " (line \(line))" }
        if !field.isEmpty { text += ": \(field)" }
        return text + ": \(reason)"
    }
}
