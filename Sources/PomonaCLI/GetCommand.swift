import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

/// `pomona get <thing>`: lists and single records from the server, as a table or as JSON / YAML.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show hosts, queries, packs, labels, policies, software, config, enroll secrets or activities.",
        discussion: """
            Tables by default. --json prints one JSON document per line, --yaml prints Fleet `apiVersion: v1` \
            documents; for queries, packs, labels, policies, config and enroll-secrets the YAML is a spec file \
            that `pomona apply -f` accepts (backup and restore, or copy between servers).
            """,
        subcommands: [
            Hosts.self, Host.self, Queries.self, Query.self, Packs.self, Labels.self, Policies.self, Software.self,
            Config.self, EnrollSecrets.self, Activities.self,
        ])
}

/// `--json` / `--yaml`, shared by every `get` subcommand.
struct GetOutputOptions: ParsableArguments {
    @Flag(help: "Print JSON, one document per line.") var json = false
    @Flag(help: "Print YAML documents (spec files for apply where the kind has one).") var yaml = false

    func format() throws -> OutputFormat {
        if json && yaml { throw ValidationError("choose one of --json and --yaml") }
        return json ? .json : yaml ? .yaml : .table
    }
}

/// Printing for `get`: spec documents in any format, other records as tables or wrapped documents.
enum GetOutput {
    static func specs(_ documents: [SpecDocument], format: OutputFormat, table: () -> TextTable) throws {
        switch format {
        case .table: print(table().rendered, terminator: "")
        case .json: for document in documents { print(String(decoding: SpecEmitter.json(document).encoded(), as: UTF8.self)) }
        case .yaml: if !documents.isEmpty { print(try SpecEmitter.yaml(documents), terminator: "") }
        }
    }

    /// Records that are not specs (hosts, software, activities) as `{"kind","apiVersion","spec"}`,
    /// as fleetctl prints hosts.
    static func records(_ records: [JSONValue], kind: String, format: OutputFormat, table: () -> TextTable) throws {
        switch format {
        case .table: print(table().rendered, terminator: "")
        case .json: for record in records { print(String(decoding: wrap(record, kind: kind).encoded(), as: UTF8.self)) }
        case .yaml:
            for record in records { print("---\n" + (try YAMLRendering.yaml(wrap(record, kind: kind))), terminator: "") }
        }
    }

    static func wrap(_ record: JSONValue, kind: String) -> JSONValue {
        .object([("apiVersion", .string(SpecReader.apiVersion)), ("kind", .string(kind)), ("spec", record)])
    }
}

extension GetCommand {
    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List hosts.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions
        @Option(help: "Only hosts with this status: online, offline, new, mia.") var status: String?
        @Option(help: "Search hostname, serial, UUID or IP.") var query: String?
        @Option(help: "Only hosts of this platform (darwin, linux, windows).") var platform: String?
        @Option(help: "At most this many hosts.") var limit: Int?

        func run() async throws {
            let format = try output.format()
            var filters: [(String, String)] = [("order_key", "hostname"), ("order_direction", "asc")]
            if let status { filters.append(("status", status)) }
            if let query { filters.append(("query", query)) }
            if let platform { filters.append(("platform", platform)) }
            let hosts = try await APIClient.with(try client.resolve().context) { api in
                try await SpecSource(api: api).listAll("/hosts", key: "hosts", query: filters, limit: limit)
            }
            try GetOutput.records(hosts, kind: "host", format: format) {
                TextTable(
                    headers: ["id", "hostname", "platform", "os version", "osquery", "status", "ip", "last seen"],
                    rows: hosts.map { host in
                        [
                            CellText.of(host["id"]), CellText.of(host["display_name"] ?? host["hostname"]), CellText.of(host["platform"]),
                            CellText.of(host["os_version"]), CellText.of(host["osquery_version"]), CellText.of(host["status"]),
                            CellText.of(host["primary_ip"]), CellText.time(host["seen_time"]),
                        ]
                    })
            }
        }
    }

    struct Host: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one host by id, hostname, UUID, serial or node key.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions
        @Argument(help: "Host id, hostname, UUID or serial number.") var identifier: String

        func run() async throws {
            let format = try output.format()
            let host = try await APIClient.with(try client.resolve().context) { api in
                try await GetCommand.host(identifier, api: api)
            }
            switch format {
            case .table:
                print(KeyValueListing.render(host, skipping: ["software", "users", "labels", "packs", "policies", "batteries"]), terminator: "")
                let labels = (host["labels"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                if !labels.isEmpty { print("labels: \(labels.joined(separator: ", "))") }
                let policies = host["policies"]?.arrayValue ?? []
                if !policies.isEmpty {
                    print("\n" + TextTable(headers: ["policy", "response"], rows: policies.map { [CellText.of($0["name"]), CellText.of($0["response"])] }).rendered, terminator: "")
                }
            case .json, .yaml:
                try GetOutput.records([host], kind: "host", format: format) { TextTable(headers: []) }
            }
        }
    }

    /// A host by numeric id or by identifier (hostname, UUID, serial, node key).
    static func host(_ identifier: String, api: APIClient) async throws(CLIError) -> JSONValue {
        let path = Int(identifier) != nil ? "/hosts/\(identifier)" : "/hosts/identifier/\(APIClient.percentEncoded(identifier))"
        do {
            return try await api.fleet(.GET, path)["host"] ?? .null
        } catch let error where error.status == 404 && Int(identifier) != nil {
            // A hostname made of digits.
            return try await api.fleet(.GET, "/hosts/identifier/\(identifier)")["host"] ?? .null
        }
    }

    struct Queries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved queries (the schedule).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let documents = try await APIClient.with(try client.resolve().context) { api in try await SpecSource(api: api).queries() }
            try GetOutput.specs(documents, format: format) { GetCommand.queryTable(documents) }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one saved query by name.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions
        @Argument(help: "The query's name.") var name: String

        func run() async throws {
            let format = try output.format()
            let documents = try await APIClient.with(try client.resolve().context) { api in try await SpecSource(api: api).queries() }
            guard let document = documents.first(where: { $0.name == name }) else { throw CLIError("no query named \"\(name)\"") }
            if format == .table {
                print(KeyValueListing.render(SpecEmitter.trimmed(document.spec, fields: SpecKind.query.fields)), terminator: "")
            } else {
                try GetOutput.specs([document], format: format) { TextTable(headers: []) }
            }
        }
    }

    static func queryTable(_ documents: [SpecDocument]) -> TextTable {
        TextTable(
            headers: ["name", "interval", "platform", "logging", "description", "query"],
            rows: documents.map { d in
                [d.name, CellText.of(d.spec["interval"]), CellText.of(d.spec["platform"]), CellText.of(d.spec["logging"]), CellText.of(d.spec["description"]), CellText.of(d.spec["query"])]
            })
    }

    struct Packs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List packs (Fleet's legacy scheduling).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let documents = try await APIClient.with(try client.resolve().context) { api in try await SpecSource(api: api).packs() }
            try GetOutput.specs(documents, format: format) {
                TextTable(
                    headers: ["name", "platform", "disabled", "queries", "target labels", "description"],
                    rows: documents.map { d in
                        [
                            d.name, CellText.of(d.spec["platform"]), CellText.of(d.spec["disabled"]), String(d.spec["queries"]?.arrayValue?.count ?? 0),
                            CellText.of(d.spec["targets"]?["labels"]), CellText.of(d.spec["description"]),
                        ]
                    })
            }
        }
    }

    struct Labels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List labels (built-in labels are listed in the table but left out of --yaml and --json specs).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let (documents, listed) = try await APIClient.with(try client.resolve().context) { api in
                let source = SpecSource(api: api)
                return (try await source.labels(), format == .table ? try await source.listAll("/labels", key: "labels") : [])
            }
            try GetOutput.specs(documents, format: format) {
                TextTable(
                    headers: ["id", "name", "type", "hosts", "platform", "query"],
                    rows: listed.map { l in
                        [
                            CellText.of(l["id"]), CellText.of(l["name"]),
                            l["label_type"]?.stringValue == "builtin" ? "builtin" : CellText.of(l["label_membership_type"]),
                            CellText.of(l["host_count"]), CellText.of(l["platform"]), CellText.of(l["query"]),
                        ]
                    })
            }
        }
    }

    struct Policies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies with passing and failing host counts.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let listed = try await APIClient.with(try client.resolve().context) { api in
                try await SpecSource(api: api).listAll("/global/policies", key: "policies")
            }
            let documents = listed.map { SpecDocument(kind: .policy, spec: SpecNormalizer.normalize($0, fields: SpecKind.policy.fields)) }
            try GetOutput.specs(documents, format: format) {
                TextTable(
                    headers: ["id", "name", "platform", "passing", "failing", "critical", "query"],
                    rows: listed.map { p in
                        [
                            CellText.of(p["id"]), CellText.of(p["name"]), CellText.of(p["platform"]), CellText.of(p["passing_host_count"]),
                            CellText.of(p["failing_host_count"]), CellText.of(p["critical"]), CellText.of(p["query"]),
                        ]
                    })
            }
        }
    }

    struct Software: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the software inventory across hosts, most widespread first.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions
        @Option(help: "Search software names.") var query: String?
        @Option(help: "Only the software of this host id.") var hostID: Int?
        @Option(help: "At most this many entries.") var limit: Int?

        func run() async throws {
            let format = try output.format()
            var filters: [(String, String)] = [("order_key", "hosts_count"), ("order_direction", "desc")]
            if let query { filters.append(("query", query)) }
            if let hostID { filters.append(("host_id", String(hostID))) }
            // Pomona serves Fleet's `/software` (one entry per name, version and source).
            let software = try await APIClient.with(try client.resolve().context) { api in
                try await SpecSource(api: api).listAll("/software", key: "software", query: filters, limit: limit)
            }
            try GetOutput.records(software, kind: "software", format: format) {
                TextTable(
                    headers: ["id", "name", "version", "source", "hosts"],
                    rows: software.map { s in
                        [CellText.of(s["id"]), CellText.of(s["name"]), CellText.of(s["version"]), CellText.of(s["source"]), CellText.of(s["hosts_count"])]
                    })
            }
        }
    }

    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the global configuration (agent options, features, settings).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let (config, document) = try await APIClient.with(try client.resolve().context) { api in
                let source = SpecSource(api: api)
                let config = try await source.config()
                return (config, try await source.configDocument())
            }
            if format == .table {
                print(KeyValueListing.render(config), terminator: "")
            } else {
                try GetOutput.specs([document], format: format) { TextTable(headers: []) }
            }
        }
    }

    struct EnrollSecrets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enroll-secrets", abstract: "List the active enroll secrets.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions

        func run() async throws {
            let format = try output.format()
            let document = try await APIClient.with(try client.resolve().context) { api in try await SpecSource(api: api).enrollSecretDocument() }
            try GetOutput.specs([document], format: format) {
                TextTable(
                    headers: ["secret", "created"],
                    rows: (document.spec["secrets"]?.arrayValue ?? []).map { [CellText.of($0["secret"]), CellText.time($0["created_at"])] })
            }
        }
    }

    struct Activities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the audit log, newest first.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: GetOutputOptions
        @Option(help: "How many activities.") var limit = 50

        func run() async throws {
            let format = try output.format()
            let activities = try await APIClient.with(try client.resolve().context) { api in
                try await SpecSource(api: api).listAll(
                    "/activities", key: "activities", query: [("order_key", "created_at"), ("order_direction", "desc")], pageSize: min(limit, 500), limit: limit)
            }
            try GetOutput.records(activities, kind: "activity", format: format) {
                TextTable(
                    headers: ["id", "time", "actor", "type", "details"],
                    rows: activities.map { a in
                        [
                            CellText.of(a["id"]), CellText.time(a["created_at"]), CellText.of(a["actor_email"] ?? a["actor_full_name"]),
                            CellText.of(a["type"]), CellText.of(a["details"]),
                        ]
                    }, maxCellWidth: 80)
            }
        }
    }
}
