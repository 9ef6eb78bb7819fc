import PomonaCore

/// One `apiVersion: v1` document read from a file: its kind and its spec, normalised.
///
/// `spec` holds every field of the kind in schema order with defaults filled in (see
/// ``SpecNormalizer``), so two documents that mean the same compare equal.
struct SpecDocument: Sendable, Equatable {
    var kind: SpecKind
    var spec: JSONValue
    /// 1-based position in its file (0 for specs built from server answers).
    var index: Int
    var line: Int?

    init(kind: SpecKind, spec: JSONValue, index: Int = 0, line: Int? = nil) {
        self.kind = kind
        self.spec = spec
        self.index = index
        self.line = line
    }

    /// The identity of a named spec (`name`), or the kind itself for singletons.
    var name: String {
        spec["name"]?.stringValue ?? kind.rawValue
    }
}
