import NIOHTTP1
import PomonaCore

/// Reads what the server holds as spec documents, through the Fleet API. Used by `get … --yaml`
/// (backup, round trip) and by `apply` (to report created/updated/unchanged).
struct SpecSource: Sendable {
    let api: APIClient

    /// Every item of a list endpoint, page by page (Fleet pages are 0-based).
    func listAll(_ path: String, key: String, query: [(String, String)] = [], pageSize: Int = 500, limit: Int? = nil) async throws(CLIError) -> [JSONValue] {
        var items: [JSONValue] = []
        var page = 0
        while true {
            let answer = try await api.fleet(.GET, path, query: query + [("page", String(page)), ("per_page", String(pageSize))])
            let batch = answer[key]?.arrayValue ?? []
            items += batch
            if let limit, items.count >= limit { return Array(items.prefix(limit)) }
            // A server that ignores paging returns the same page again; stop rather than loop.
            if batch.count < pageSize || page >= 10_000 { return items }
            page += 1
        }
    }

    func queries() async throws(CLIError) -> [SpecDocument] {
        let answer = try await api.fleet(.GET, "/spec/queries")
        return (answer["specs"]?.arrayValue ?? []).map { document(.query, $0) }
    }

    func packs() async throws(CLIError) -> [SpecDocument] {
        let answer = try await api.fleet(.GET, "/spec/packs")
        return (answer["specs"]?.arrayValue ?? []).map { document(.pack, $0) }
    }

    func labels() async throws(CLIError) -> [SpecDocument] {
        let answer = try await api.fleet(.GET, "/spec/labels")
        return (answer["specs"]?.arrayValue ?? [])
            .filter { $0["label_type"]?.stringValue != "builtin" }
            .map { document(.label, $0) }
    }

    func policies() async throws(CLIError) -> [SpecDocument] {
        try await listAll("/global/policies", key: "policies").map { document(.policy, $0) }
    }

    func enrollSecrets() async throws(CLIError) -> [String] {
        let answer = try await api.fleet(.GET, "/spec/enroll_secret")
        return (answer["spec"]?["secrets"]?.arrayValue ?? []).compactMap { $0["secret"]?.stringValue }
    }

    func enrollSecretDocument() async throws(CLIError) -> SpecDocument {
        let answer = try await api.fleet(.GET, "/spec/enroll_secret")
        return document(.enrollSecret, answer["spec"] ?? .object([("secrets", .array([]))]))
    }

    func config() async throws(CLIError) -> JSONValue {
        try await api.fleet(.GET, "/config")
    }

    /// The writable sections of the config as a `kind: config` document.
    func configDocument() async throws(CLIError) -> SpecDocument {
        let config = try await config()
        let members = SpecSchemas.configSections.compactMap { section in config[section].map { (section, $0) } }
        return SpecDocument(kind: .config, spec: .object(members.filter { $0.1 != .null }))
    }

    func document(_ kind: SpecKind, _ value: JSONValue) -> SpecDocument {
        SpecDocument(kind: kind, spec: kind.canonicalize(SpecNormalizer.normalize(value, fields: kind.fields)))
    }

    /// The server's state for the kinds present in `documents`.
    func current(for documents: [SpecDocument]) async throws(CLIError) -> CurrentSpecs {
        var current = CurrentSpecs()
        let kinds = Set(documents.map(\.kind))
        for kind in SpecKind.allCases where kinds.contains(kind) {
            switch kind {
            case .query: current.named[.query] = byName(try await queries())
            case .pack: current.named[.pack] = byName(try await packs())
            case .label: current.named[.label] = byName(try await labels())
            case .policy: current.named[.policy] = byName(try await policies())
            case .enrollSecret: current.enrollSecrets = try await enrollSecrets()
            case .config: current.config = try await config()
            }
        }
        return current
    }

    private func byName(_ documents: [SpecDocument]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for document in documents where result[document.name] == nil { result[document.name] = document.spec }
        return result
    }
}
