import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// `POST /api/v1/pomona/spec`: every kind of an `apply` in one request and one store transaction.
///
/// Fleet has one spec endpoint per kind, so fleetctl's `apply` of a file with several kinds can
/// leave the first kinds applied when a later one is refused. `pomona apply` sends the whole file
/// here instead: it is all applied, or (on any error, named by field) none of it.
///
/// Body (every member optional; unknown members are refused):
/// `{"queries": [...], "labels": [...], "policies": [...], "packs": [...],
///   "enroll_secret": {"secrets": [{"secret": "..."}]}, "config": {...PATCH /config body...}}`.
/// `?dry_run=true` runs the same transaction and rolls it back: every check happens, nothing changes.
/// Answers `{"dry_run": bool, "applied": {"queries": n, ...}}`. Maintainer; admin when the body
/// has `enroll_secret` or `config` (the same roles as their own endpoints).
extension AdminAPI {
    public static let applySpecsPath = "/api/v1/pomona/spec"

    static let applySpecMembers = ["queries", "labels", "policies", "packs", "enroll_secret", "config"]

    func registerApplySpecs(on router: Router<AdminRequestContext>) {
        router.post(RouterPath(AdminAPI.applySpecsPath)) { request, context -> Response in
            let maintainer = try context.requireRole(.maintainer)
            let body = try await parseJSONBody(request, limit: Self.specBodyLimit)
            guard let members = body.objectMembers else { throw FleetAPIError.badRequest("the body must be a JSON object") }
            for (key, _) in members where !Self.applySpecMembers.contains(key) {
                throw FleetAPIError.invalid(key, "is not a spec kind (\(Self.applySpecMembers.joined(separator: ", ")))")
            }
            let user = body["enroll_secret"] != nil || body["config"] != nil ? try context.requireRole(.admin) : maintainer
            let batch = try Self.specBatch(body)
            let dryRun = queryParameter(request, "dry_run") == "true"
            try await self.apply(batch, by: user, dryRun: dryRun)
            let counts: [(String, JSONValue)] = [
                ("queries", .int(batch.queries.count)), ("labels", .int(batch.labels.count)), ("policies", .int(batch.policies.count)),
                ("packs", .int(batch.packs.count)), ("enroll_secret", .bool(batch.enrollSecrets != nil)),
                ("config", .bool(!batch.appConfigSections.isEmpty || batch.agentOptions != nil)),
            ]
            return jsonResponse(.object([("dry_run", .bool(dryRun)), ("applied", .object(counts))]))
        }
    }

    /// Parses every kind of an all-kinds body; errors name `queries[1].interval`, `config.agent_options`…
    static func specBatch(_ body: JSONValue) throws(FleetAPIError) -> SpecBatch {
        var batch = SpecBatch()
        if let value = body["queries"] { batch.queries = try querySpecs(try objectList(value, field: "queries"), field: "queries") }
        if let value = body["labels"] { batch.labels = try labelSpecs(try objectList(value, field: "labels"), field: "labels") }
        if let value = body["policies"] { batch.policies = try policySpecs(try objectList(value, field: "policies"), field: "policies") }
        if let value = body["packs"] { batch.packs = try packSpecs(try objectList(value, field: "packs"), field: "packs") }
        if let value = body["enroll_secret"] { batch.enrollSecrets = try enrollSecretList(value, field: "enroll_secret") }
        if let value = body["config"] {
            let patch = try configPatch(value, field: "config")
            batch.appConfigSections = patch.sections
            batch.appConfigKey = appConfigKey
            batch.agentOptions = patch.agentOptions
        }
        return batch
    }
}
