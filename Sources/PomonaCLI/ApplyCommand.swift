import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore

/// `pomona apply -f FILE`: Fleet `apiVersion: v1` spec files (query, pack, label, policy, config,
/// enroll_secret), several documents per file.
///
/// Every document of every file is read and validated before anything is sent; a bad file changes
/// nothing. Then the CLI compares the specs with what the server holds and sends only what differs,
/// one request per kind to Fleet's spec endpoints, each applied by the server in one transaction.
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
            if !dryRun { try await Self.send(planned, api: api) }
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
            if path == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw CLIError("cannot read \(path)")
                }
                text = contents
            }
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

    /// One request per kind with something to change, in apply order.
    static func send(_ planned: [(SpecDocument, SpecChange)], api: APIClient) async throws(CLIError) {
        var applied: [String] = []
        for kind in SpecKind.allCases.sorted(by: { $0.applyOrder < $1.applyOrder }) {
            let changed = planned.filter { $0.0.kind == kind && $0.1.action != .unchanged }.map(\.0)
            guard !changed.isEmpty else { continue }
            do {
                try await request(kind: kind, documents: changed, api: api)
            } catch {
                let before = applied.isEmpty ? "nothing was applied" : "already applied: \(applied.joined(separator: ", "))"
                throw CLIError("applying \(kind.rawValue) specs failed: \(error.message) (\(before))", status: error.status)
            }
            applied.append("\(changed.count) \(kind.rawValue)")
        }
    }

    /// Fleet's spec requests, as fleetctl sends them.
    static func request(kind: SpecKind, documents: [SpecDocument], api: APIClient) async throws(CLIError) {
        switch kind {
        case .query: _ = try await api.fleet(.POST, "/spec/queries", body: .object([("specs", .array(documents.map(\.spec)))]))
        case .pack: _ = try await api.fleet(.POST, "/spec/packs", body: .object([("specs", .array(documents.map(\.spec)))]))
        case .label: _ = try await api.fleet(.POST, "/spec/labels", body: .object([("specs", .array(documents.map(\.spec)))]))
        case .policy: _ = try await api.fleet(.POST, "/spec/policies", body: .object([("specs", .array(documents.map(\.spec)))]))
        case .enrollSecret:
            let secrets = (documents[0].spec["secrets"]?.arrayValue ?? []).map { JSONValue.object([("secret", $0["secret"] ?? .string(""))]) }
            _ = try await api.fleet(.POST, "/spec/enroll_secret", body: .object([("spec", .object([("secrets", .array(secrets))]))]))
        case .config:
            _ = try await api.fleet(.PATCH, "/config", body: documents[0].spec)
        }
    }

    static func summary(_ changes: [SpecChange], dryRun: Bool) -> String {
        let counts = [SpecChange.Action.created, .updated, .unchanged].map { action in
            "\(changes.filter { $0.action == action }.count) \(dryRun && action != .unchanged ? "to be " : "")\(action.rawValue)"
        }
        let verb = dryRun ? "Dry run, nothing sent" : changes.allSatisfy({ $0.action == .unchanged }) ? "Nothing to apply" : "Applied"
        return "\(verb): \(counts.joined(separator: ", "))"
    }
}
