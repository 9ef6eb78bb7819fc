import PomonaCore

/// The shape of one `spec:` of a Fleet `apiVersion: v1` document, field by field.
///
/// One description drives everything a kind needs: strict reading of YAML (unknown fields and wrong
/// types are errors naming the field), normalising the server's JSON (defaults filled in, so a spec
/// read back from the server compares equal to the file that produced it), and emitting YAML.
struct SpecField: Sendable {
    indirect enum FieldType: Sendable {
        case string
        /// An integer, at least `minimum`.
        case integer(minimum: Int)
        case boolean
        /// A string from a fixed set (Fleet's enums: logging, label_membership_type).
        case oneOf([String])
        case stringList
        case object([SpecField])
        case objectList([SpecField])
        /// Anything JSON can hold (agent options, integrations): passed through as written.
        case any
    }

    var name: String
    var type: FieldType
    var required: Bool
    /// The value when the field is absent or null; `nil` means "absent stays absent".
    var defaultValue: JSONValue?

    init(_ name: String, _ type: FieldType, required: Bool = false, default defaultValue: JSONValue? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue ?? Self.naturalDefault(type, required: required)
    }

    /// The same field without a default: absent stays absent (read-only values such as `created_at`).
    func dropDefault() -> SpecField {
        var copy = self
        copy.defaultValue = nil
        return copy
    }

    /// Fleet's zero values: "" for strings, 0, false, empty lists.
    private static func naturalDefault(_ type: FieldType, required: Bool) -> JSONValue? {
        switch type {
        case .string: return .string("")
        case .integer: return .number("0")
        case .boolean: return .bool(false)
        case .oneOf(let values): return required ? nil : values.first.map(JSONValue.string)
        case .stringList, .objectList: return .array([])
        case .object, .any: return nil
        }
    }
}

/// The spec kinds `pomona apply` understands (Fleet's legacy `apiVersion: v1` format, §4.2).
enum SpecKind: String, Sendable, CaseIterable {
    case query, pack, label, policy, config
    case enrollSecret = "enroll_secret"

    /// The fields of `spec:`; `config` is validated by ``configSections`` instead.
    var fields: [SpecField] {
        switch self {
        case .query: SpecSchemas.query
        case .pack: SpecSchemas.pack
        case .label: SpecSchemas.label
        case .policy: SpecSchemas.policy
        case .enrollSecret: SpecSchemas.enrollSecret
        case .config: SpecSchemas.config
        }
    }

    /// Kinds named by a `name` field, applied as lists (upsert by name).
    var isNamed: Bool { self != .config && self != .enrollSecret }

    /// Order in which kinds are applied: what others refer to comes first (packs name queries and
    /// labels).
    var applyOrder: Int {
        switch self {
        case .query: 0
        case .label: 1
        case .policy: 2
        case .pack: 3
        case .enrollSecret: 4
        case .config: 5
        }
    }
}

/// Field lists per kind, with Fleet's names and defaults.
enum SpecSchemas {
    static let loggingTypes = ["snapshot", "differential", "differential_ignore_removals"]

    static let query: [SpecField] = [
        SpecField("name", .string, required: true),
        SpecField("description", .string),
        SpecField("query", .string, required: true),
        SpecField("team", .string),
        SpecField("interval", .integer(minimum: 0)),
        SpecField("observer_can_run", .boolean),
        SpecField("platform", .string),
        SpecField("min_osquery_version", .string),
        SpecField("automations_enabled", .boolean),
        SpecField("logging", .oneOf(loggingTypes)),
        SpecField("discard_data", .boolean),
    ]

    static let packQuery: [SpecField] = [
        SpecField("query", .string, required: true),
        SpecField("name", .string),
        SpecField("description", .string),
        SpecField("interval", .integer(minimum: 1), required: true),
        SpecField("snapshot", .boolean),
        SpecField("removed", .boolean),
        // osquery's shard is a percentage; absent means every host (0 would mean none).
        SpecField("shard", .integer(minimum: 1)).dropDefault(),
        SpecField("platform", .string),
        SpecField("version", .string),
        // osquery's default: a query that uses too much CPU or memory is denylisted.
        SpecField("denylist", .boolean, default: .bool(true)),
    ]

    static let pack: [SpecField] = [
        SpecField("name", .string, required: true),
        SpecField("description", .string),
        SpecField("platform", .string),
        SpecField("disabled", .boolean),
        SpecField(
            "targets",
            .object([SpecField("labels", .stringList), SpecField("teams", .stringList)]),
            default: .object([("labels", .array([])), ("teams", .array([]))])),
        SpecField("queries", .objectList(packQuery)),
    ]

    static let label: [SpecField] = [
        SpecField("name", .string, required: true),
        SpecField("description", .string),
        SpecField("query", .string),
        SpecField("platform", .string),
        SpecField("label_membership_type", .oneOf(["dynamic", "manual"])),
        SpecField("hosts", .stringList),
    ]

    static let policy: [SpecField] = [
        SpecField("name", .string, required: true),
        SpecField("query", .string, required: true),
        SpecField("description", .string),
        SpecField("resolution", .string),
        SpecField("team", .string),
        SpecField("platform", .string),
        SpecField("critical", .boolean),
    ]

    static let enrollSecret: [SpecField] = [
        SpecField(
            "secrets",
            .objectList([SpecField("secret", .string, required: true), SpecField("created_at", .string, default: .null).dropDefault()]),
            required: true)
    ]

    /// `kind: config` is a partial `PATCH /config` body: these sections, each passed through as
    /// written (the server validates their insides).
    /// The sections Pomona's `PATCH /config` accepts (AdminAPI+Settings.swift); Fleet has a few more
    /// (MDM, vulnerability settings) that Pomona refuses, so the CLI refuses them before sending.
    static let configSections = [
        "org_info", "server_settings", "agent_options", "features", "host_expiry_settings", "webhook_settings",
        "integrations", "smtp_settings", "sso_settings", "fleet_desktop",
    ]

    static let config: [SpecField] = configSections.map { SpecField($0, .any) }
}

extension SpecKind {
    /// Fleet's implied values made explicit, so a file and the server's answer compare equal:
    /// a pack query without `name` is named after its query.
    func canonicalize(_ spec: JSONValue) -> JSONValue {
        guard self == .pack, var members = spec.objectMembers,
            let index = members.firstIndex(where: { $0.0 == "queries" }), let queries = members[index].1.arrayValue
        else { return spec }
        members[index].1 = .array(
            queries.map { entry in
                guard var fields = entry.objectMembers, let nameIndex = fields.firstIndex(where: { $0.0 == "name" }),
                    fields[nameIndex].1.stringValue?.isEmpty ?? true
                else { return entry }
                fields[nameIndex].1 = entry["query"] ?? .string("")
                return .object(fields)
            })
        return .object(members)
    }
}
