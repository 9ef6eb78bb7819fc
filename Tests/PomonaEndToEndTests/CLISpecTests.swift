import Foundation
import PomonaCore
import Testing

@testable import PomonaCLI

/// Spec files: strict reading (errors name file, document and field), normal form, emitting, and
/// the round trip `get --yaml` → `apply`.
@Suite struct CLISpecTests {
    static let sample = """
        apiVersion: v1
        kind: query
        spec:
          name: osquery_info
          description: heartbeat
          query: SELECT * FROM osquery_info;
          interval: 3600
          logging: snapshot
        ---
        apiVersion: v1
        kind: pack
        spec:
          name: monitoring
          targets: {labels: [All Hosts]}
          queries:
            - {query: osquery_info, interval: 7200, snapshot: true}
            - {query: osquery_info, name: info_again, interval: 60, removed: false}
        ---
        apiVersion: v1
        kind: label
        spec:
          name: slack_not_running
          query: SELECT 1 FROM system_info WHERE NOT EXISTS (SELECT * FROM processes WHERE name LIKE "%Slack%");
        ---
        apiVersion: v1
        kind: label
        spec:
          name: canaries
          label_membership_type: manual
          hosts: [host-1, host-2]
        ---
        apiVersion: v1
        kind: policy
        spec:
          name: Gatekeeper enabled
          query: SELECT 1 FROM gatekeeper WHERE assessments_enabled = 1;
          platform: darwin
          critical: true
        ---
        apiVersion: v1
        kind: enroll_secret
        spec:
          secrets: [{secret: RzTlxPvugG4o4O5IKS}, {secret: YBh0n4pvRplK}]
        ---
        apiVersion: v1
        kind: config
        spec:
          features: {enable_host_users: true, additional_queries: {time: SELECT * FROM time}}
          agent_options: {config: {options: {distributed_interval: 10}}}
        """

    @Test func readsEveryKindWithDefaults() throws {
        let documents = try SpecReader.read(yaml: Self.sample, file: "sample.yml")
        #expect(documents.map(\.kind) == [.query, .pack, .label, .label, .policy, .enrollSecret, .config])
        #expect(documents.map(\.index) == [1, 2, 3, 4, 5, 6, 7])
        let query = documents[0].spec
        #expect(query["interval"] == .number("3600"))
        #expect(query["observer_can_run"] == .bool(false))
        #expect(query["platform"] == .string(""))
        #expect(query["logging"] == .string("snapshot"))
        // A pack query without a name is named after its query (Fleet's rule), so the server's answer compares equal.
        let packQueries = documents[1].spec["queries"]?.arrayValue ?? []
        #expect(packQueries.map { $0["name"] } == [.string("osquery_info"), .string("info_again")])
        #expect(documents[1].spec["targets"]?["labels"] == .array([.string("All Hosts")]))
        #expect(documents[3].spec["hosts"] == .array([.string("host-1"), .string("host-2")]))
        #expect(documents[6].spec["agent_options"]?["config"]?["options"]?["distributed_interval"] == .number("10"))
    }

    @Test func emptyDocumentsAreSkipped() throws {
        // An empty document between two others (a stray `---`) still counts for numbering.
        let extra = "apiVersion: v1\nkind: query\nspec:\n  name: extra\n  query: SELECT 1;\n"
        let before = "---\n" + Self.sample + "\n---\n---\n"
        let documents = try SpecReader.read(yaml: before + extra, file: "f.yml")
        #expect(documents.count == 8)
        #expect(documents.first?.index == 1)
        #expect(documents.last?.index == 9)
        #expect(documents.last?.line == before.filter { $0 == "\n" }.count + 1)
    }

    /// Each bad input and the message it must produce (file, document index, line in the file, field).
    @Test(arguments: [
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n  intervl: 10\n", "f.yml: document 1 (line 6): spec.intervl: unknown field"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n---\napiVersion: v1\nkind: query\nspec:\n  name: b\n  query: SELECT 1\n  interval: hourly\n",
         "f.yml: document 2 (line 12): spec.interval: must be a whole number, got \"hourly\""),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n", "f.yml: document 1 (line 4): spec.query: required"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: \"  \"\n", "f.yml: document 1 (line 5): spec.query: must not be empty"),
        ("apiVersion: v2\nkind: query\nspec: {}\n", "f.yml: document 1 (line 1): apiVersion: unsupported version \"v2\""),
        ("apiVersion: v1\nkind: team\nspec: {}\n", "f.yml: document 1 (line 1): kind: unknown kind \"team\""),
        ("apiVersion: v1\nkind: query\n", "f.yml: document 1 (line 1): spec: missing"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n  logging: sometimes\n", "spec.logging: must be one of snapshot, differential, differential_ignore_removals"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n  interval: -5\n", "spec.interval: must be at least 0, got -5"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n  observer_can_run: maybe\n", "spec.observer_can_run: must be true or false"),
        ("apiVersion: v1\nkind: pack\nspec:\n  name: p\n  queries:\n    - {query: q, interval: 10}\n    - {query: q, intervall: 10}\n", "f.yml: document 1 (line 7): spec.queries[1].intervall: unknown field"),
        ("apiVersion: v1\nkind: pack\nspec:\n  name: p\n  targets: {labels: [a, [b]]}\n", "spec.targets.labels[1]: must be a string"),
        ("apiVersion: v1\nkind: label\nspec:\n  name: l\n", "spec.query: required for a dynamic label"),
        ("apiVersion: v1\nkind: label\nspec:\n  name: l\n  query: SELECT 1\n  label_membership_type: manual\n", "spec.query: a manual label has hosts, not a query"),
        ("apiVersion: v1\nkind: policy\nspec:\n  name: p\n  query: SELECT 1\n  team: Workstations\n", "spec.team: teams are not supported"),
        ("apiVersion: v1\nkind: config\nspec:\n  org_infoo: {org_name: x}\n", "spec.org_infoo: unknown field"),
        ("apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets: [{secrett: x}]\n", "spec.secrets[0].secrett: unknown field"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n---\napiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 2\n",
         "f.yml: document 2 (line 7): spec.name: query \"a\" is already set by document 1"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n---\napiVersion: v1\nkind: query\nspec: [\n", "f.yml: document 2"),
        ("- just\n- a list\n", "f.yml: document 1 (line 1): a document must be a mapping"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\nextra: 1\n", "f.yml: document 1 (line 6): extra: unknown field"),
    ])
    func rejectsWithPreciseErrors(yaml: String, expected: String) {
        do {
            let documents = try SpecReader.read(yaml: yaml, file: "f.yml")
            Issue.record("accepted: \(documents)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    /// The probe's `kind: config` alias bomb (460 bytes) grew `pomona apply -f` to 2.8 GB.
    @Test func anAliasBombInASpecIsRefused() {
        var lines = ["apiVersion: v1", "kind: config", "spec:", #"  a: &a ["lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol"]"#]
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            lines.append("  \(name): &\(name) [" + Array(repeating: "*" + previous, count: 9).joined(separator: ",") + "]")
            previous = name
        }
        let yaml = "apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n---\n" + lines.joined(separator: "\n") + "\n"
        do {
            _ = try SpecReader.read(yaml: yaml, file: "bomb.yml")
            Issue.record("accepted an alias bomb")
        } catch {
            #expect(error.document == 2)
            #expect(error.description.hasPrefix("bomb.yml: document 2"), "\(error.description)")
            #expect(error.description.contains("more than 2000000 nodes or 1000 levels once its aliases are expanded"), "\(error.description)")
        }
    }

    @Test func yamlSyntaxErrorNamesTheDocumentAndLine() {
        let yaml = "apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n---\napiVersion: v1\nkind: query\nspec:\n  name: \"unterminated\n"
        do {
            _ = try SpecReader.read(yaml: yaml, file: "bad.yml")
            Issue.record("accepted malformed YAML")
        } catch {
            #expect(error.document == 2)
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("bad.yml: document 2"))
            #expect(error.description.contains("invalid YAML"))
        }
    }

    /// What `get --yaml` prints reads back to the same specs: the round trip `apply` relies on.
    @Test func emittedYAMLReadsBackToTheSameSpecs() throws {
        let documents = try SpecReader.read(yaml: Self.sample, file: "sample.yml")
        let emitted = try SpecEmitter.yaml(documents)
        let again = try SpecReader.read(yaml: emitted, file: "emitted.yml")
        #expect(again.map(\.kind) == documents.map(\.kind))
        #expect(again.map(\.spec) == documents.map(\.spec))
        // Defaults are left out of the file.
        #expect(!emitted.contains("observer_can_run"))
        #expect(emitted.contains("apiVersion: v1"))
    }

    @Test func stringsThatLookLikeOtherTypesStayStrings() throws {
        let spec = JSONValue.object([
            ("name", .string("123")), ("description", .string("true")), ("query", .string("SELECT *\nFROM time\nWHERE 1 = 1;")),
            ("platform", .string("null")), ("min_osquery_version", .string("5.4")),
        ])
        let document = SpecDocument(kind: .query, spec: SpecNormalizer.normalize(spec, fields: SpecKind.query.fields))
        let again = try SpecReader.read(yaml: try SpecEmitter.yaml([document]), file: "x.yml")
        #expect(again.first?.spec == document.spec)
    }

    /// The server's JSON (ids, timestamps, numbers as it writes them) normalises to the file's form.
    @Test func serverJSONNormalisesLikeTheFile() throws {
        let server = try JSONValue.parse(
            Array(
                #"{"id": 7, "name": "osquery_info", "description": "heartbeat", "query": "SELECT * FROM osquery_info;", "team_id": null, "interval": 3600, "platform": "", "min_osquery_version": "", "automations_enabled": false, "logging": "snapshot", "saved": true, "observer_can_run": false, "discard_data": false, "created_at": "2026-11-30T00:00:00Z"}"#
                    .utf8))
        let file = try SpecReader.read(yaml: Self.sample, file: "s.yml")[0]
        #expect(SpecNormalizer.normalize(server, fields: SpecKind.query.fields) == file.spec)
    }

    @Test func planReportsCreatedUpdatedUnchanged() throws {
        let documents = try SpecReader.read(yaml: Self.sample, file: "s.yml")
        var current = CurrentSpecs()
        current.named[.query] = ["osquery_info": documents[0].spec]
        var changedPack = documents[1].spec.objectMembers!
        changedPack[changedPack.firstIndex { $0.0 == "disabled" }!].1 = .bool(true)
        current.named[.pack] = ["monitoring": .object(changedPack)]
        current.enrollSecrets = ["YBh0n4pvRplK", "RzTlxPvugG4o4O5IKS"]
        current.config = try JSONValue.parse(
            Array(
                #"{"org_info": {"org_name": "x"}, "features": {"enable_host_users": true, "enable_software_inventory": true, "additional_queries": {"time": "SELECT * FROM time"}}, "agent_options": {"config": {"options": {"distributed_interval": 10.0}}}}"#
                    .utf8))
        let changes = SpecPlan.changes(desired: documents, current: current).map(\.1)
        let byName = Dictionary(changes.map { ("\($0.kind.rawValue)/\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["query/osquery_info"]?.action == .unchanged)
        #expect(byName["pack/monitoring"]?.action == .updated)
        #expect(byName["pack/monitoring"]?.fields == ["disabled"])
        #expect(byName["label/slack_not_running"]?.action == .created)
        #expect(byName["policy/Gatekeeper enabled"]?.action == .created)
        #expect(byName["enroll_secret/enroll_secret"]?.action == .unchanged)
        // features is a subset of what the server has, agent_options equal up to number spelling.
        #expect(byName["config/config"]?.action == .unchanged)
        // Queries before labels before policies before packs: what packs name exists first.
        #expect(changes.map(\.kind) == [.query, .label, .label, .policy, .pack, .enrollSecret, .config])
    }

    @Test func configAgentOptionsAreComparedWhole() throws {
        let document = try SpecReader.read(yaml: "apiVersion: v1\nkind: config\nspec:\n  agent_options: {config: {options: {a: 1}}}\n", file: "c.yml")[0]
        var current = CurrentSpecs()
        current.config = .object([("agent_options", .object([("config", .object([("options", .object([("a", .number("1")), ("b", .number("2"))]))]))]))])
        #expect(SpecPlan.change(for: document, current: current).action == .updated)
        #expect(SpecPlan.change(for: document, current: current).fields == ["agent_options"])
    }

    @Test func enrollSecretChangesCountAddedAndRemoved() throws {
        let document = try SpecReader.read(yaml: "apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets: [{secret: a}, {secret: b}]\n", file: "e.yml")[0]
        var current = CurrentSpecs()
        current.enrollSecrets = ["b", "c", "d"]
        let change = SpecPlan.change(for: document, current: current)
        #expect(change.action == .updated)
        #expect(change.fields == ["1 added", "2 removed"])
    }
}
