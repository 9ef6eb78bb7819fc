import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore
import PomonaPipeline

/// `pomona apply -f FILE`: Fleet `apiVersion: v1` spec files (query, pack, label, policy, config,
/// enroll_secret), several documents per file.
///
/// Every document of every file is read and validated before anything is sent; a bad file changes
/// nothing. Then the CLI compares the specs with what the server holds and sends only what differs,
/// all kinds in one request that the server applies in one transaction: a refused document leaves
/// nothing of the apply behind.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply Fleet spec files (kinds query, pack, label, policy, config, enroll_secret).",
        discussion: """
            Prints, per item, whether it was created, updated or unchanged; applying the same file twice \
            reports everything unchanged and sends nothing. `pomona get queries --yaml` (and packs, labels, \
            policies, config, enroll-secrets) writes files this command accepts.
            """)

    @OptionGroup var client: ClientOptions
    @Option(name: .shortAndLong, help: "A spec file (repeatable; - reads stdin).") var file: [String] = []
    @Flag(help: "Show what would change without changing anything.") var dryRun = false

    func validate() throws {
        if file.isEmpty { throw ValidationError("give at least one spec file with -f FILE") }
    }

    func run() async throws {
        let documents = try Self.readAll(file)
        if documents.isEmpty {
            print("No documents in \(file.joined(separator: ", ")); nothing to apply.")
            return
        }
        let context = try client.resolve().context
        let changes = try await APIClient.with(context) { api in
            let current = try await SpecSource(api: api).current(for: documents)
            let planned = SpecPlan.changes(desired: documents, current: current)
            try await Self.send(planned, dryRun: dryRun, api: api)
            return planned.map(\.1)
        }
        for change in changes { print(change.description) }
        print(Self.summary(changes, dryRun: dryRun))
    }

    /// All documents of all files, or the first error (file, document, field).
    static func readAll(_ files: [String]) throws(CLIError) -> [SpecDocument] {
        var documents: [SpecDocument] = []
        for path in files {
            let text: String
            do { text = try BoundedYAML.readFile(path, maxBytes: BoundedYAML.maxSpecBytes) } catch { throw CLIError("\(error.message); nothing was applied") }
            do {
                documents += try SpecReader.read(yaml: text, file: path == "-" ? "stdin" : path)
            } catch {
                throw CLIError("\(error); nothing was applied")
            }
        }
        do {
            try SpecReader.checkAcrossDocuments(documents, file: files.joined(separator: ", "))
        } catch {
            throw CLIError("\(error); nothing was applied")
        }
        return documents
    }

    /// Everything that changed, in one request (`POST /api/v1/pomona/spec`) that the server applies
    /// in one transaction: all of it or nothing. A dry run sends it with `dry_run=true`, so the
    /// server checks it (unknown hosts in manual labels, unknown queries in packs, roles) and
    /// rolls it back.
    static func send(_ planned: [(SpecDocument, SpecChange)], dryRun: Bool, api: APIClient) async throws(CLIError) {
        guard let body = requestBody(planned) else { return }
        do {
            _ = try await api.send(.POST, "/api/v1/pomona/spec", query: dryRun ? [("dry_run", "true")] : [], body: body)
        } catch {
            throw CLIError("\(dryRun ? "checking" : "applying") the specs failed: \(error.message); nothing was applied", status: error.status)
        }
    }

    /// The all-kinds body for the documents that change, or nil when nothing changes.
    static func requestBody(_ planned: [(SpecDocument, SpecChange)]) -> JSONValue? {
        var members: [(String, JSONValue)] = []
        for kind in SpecKind.allCases.sorted(by: { $0.applyOrder < $1.applyOrder }) {
            let changed = planned.filter { $0.0.kind == kind && $0.1.action != .unchanged }.map(\.0)
            guard let first = changed.first else { continue }
            switch kind {
            case .query: members.append(("queries", .array(changed.map(\.spec))))
            case .pack: members.append(("packs", .array(changed.map(\.spec))))
            case .label: members.append(("labels", .array(changed.map(\.spec))))
            case .policy: members.append(("policies", .array(changed.map(\.spec))))
            case .enrollSecret:
                let secrets = (first.spec["secrets"]?.arrayValue ?? []).map { JSONValue.object([("secret", $0["secret"] ?? .string(""))]) }
                members.append(("enroll_secret", .object([("secrets", .array(secrets))])))
            case .config: members.append(("config", first.spec))
            }
        }
        return members.isEmpty ? nil : .object(members)
    }

    static func summary(_ changes: [SpecChange], dryRun: Bool) -> String {
        let counts = [SpecChange.Action.created, .updated, .unchanged].map { action in
            "\(changes.filter { $0.action == action }.count) \(dryRun && action != .unchanged ? "to be " : "")\(action.rawValue)"
        }
        let verb = dryRun ? "Dry run, checked by the server, nothing changed" : changes.allSatisfy({ $0.action == .unchanged }) ? "Nothing to apply" : "Applied"
        return "\(verb): \(counts.joined(separator: ", "))"
    }
}
