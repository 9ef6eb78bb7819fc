import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// fleetctl/`pomona apply` spec endpoints for queries, labels, policies and packs:
/// `GET /spec/<kind>` → `{"specs": [...]}`, `POST /spec/<kind>` `{"specs": [...]}` upserts by name.
/// Every document is validated first (errors name `specs[i].field`); then the kind is applied in
/// one transaction, so a bad document leaves nothing half-applied.
extension AdminAPI {
    func registerQuerySpecs(on router: Router<AdminRequestContext>) {
        route(router, .get, "/spec/queries") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let queries = try await storeCall { try store.savedQueries() }
            let specs: [JSONValue] = queries.map { q in
                .object([
                    ("name", .string(q.name)), ("description", .string(q.description)), ("query", .string(q.query)), ("team", .string("")),
                    ("interval", .int(q.interval)), ("observer_can_run", .bool(q.observerCanRun)), ("platform", .string(q.platform)),
                    ("min_osquery_version", .string(q.minOsqueryVersion ?? "")), ("automations_enabled", .bool(q.automationsEnabled)),
                    ("logging", .string(q.logging.rawValue)), ("discard_data", .bool(q.discardData)),
                ])
            }
            return jsonResponse(.object([("specs", .array(specs))]))
        }
        route(router, .post, "/spec/queries") { request, context in
            let user = try context.requireRole(.maintainer)
            let specs = try await Self.specList(request)
            var drafts: [SavedQueryDraft] = []
            for (index, spec) in specs.enumerated() {
                let body = QueryBody(
                    name: spec["name"]?.stringValue, description: spec["description"]?.stringValue, query: spec["query"]?.stringValue,
                    interval: spec["interval"]?.intValue, platform: spec["platform"]?.stringValue,
                    min_osquery_version: spec["min_osquery_version"]?.stringValue, logging: spec["logging"]?.stringValue,
                    automations_enabled: spec["automations_enabled"].flatMap(Self.bool), observer_can_run: spec["observer_can_run"].flatMap(Self.bool),
                    discard_data: spec["discard_data"].flatMap(Self.bool), team_id: nil)
                if let team = spec["team"]?.stringValue, !team.isEmpty { throw FleetAPIError.invalid("specs[\(index)].team", "teams are not supported") }
                drafts.append(try Self.prefixed(index) { () throws(FleetAPIError) in try Self.queryDraft(body, existing: nil) })
            }
            let store = self.store
            let final = drafts
            try await storeCall { try store.applyQuerySpecs(final, author: user.author) }
            await self.recordActivity(user, "applied_spec_saved_query", .object([("specs", .array(drafts.map { .string($0.name) }))]))
            return emptyObjectResponse()
        }

        route(router, .get, "/spec/labels") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let labels = try await storeCall { try store.labelSpecs() }
            let specs: [JSONValue] = labels.map { label, builtin in
                var members: [(String, JSONValue)] = [
                    ("name", .string(label.name)), ("description", .string(label.description)), ("query", .string(label.query)),
                    ("platform", .string(label.platform)), ("label_membership_type", .string(label.manual ? "manual" : "dynamic")),
                    ("label_type", .string(builtin ? "builtin" : "regular")),
                ]
                if label.manual { members.append(("hosts", .array(label.hosts.map(JSONValue.string)))) }
                return .object(members)
            }
            return jsonResponse(.object([("specs", .array(specs))]))
        }
        route(router, .post, "/spec/labels") { request, context in
            let user = try context.requireRole(.maintainer)
            let specs = try await Self.specList(request)
            var labels: [LabelSpec] = []
            for (index, spec) in specs.enumerated() {
                let name = try Self.prefixed(index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
                let hosts = spec["hosts"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let type = spec["label_membership_type"]?.stringValue ?? (spec["query"]?.stringValue?.isEmpty == false ? "dynamic" : (hosts.isEmpty ? "dynamic" : "manual"))
                guard type == "dynamic" || type == "manual" else {
                    throw FleetAPIError.invalid("specs[\(index)].label_membership_type", "must be dynamic or manual")
                }
                let query = spec["query"]?.stringValue ?? ""
                let platform = spec["platform"]?.stringValue ?? ""
                if type == "dynamic" {
                    if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        throw FleetAPIError.invalid("specs[\(index)].query", "a dynamic label needs a query")
                    }
                    try Self.prefixed(index) { () throws(FleetAPIError) in try FleetSQL.validate(query, platform: platform) }
                }
                labels.append(LabelSpec(
                    name: name, description: spec["description"]?.stringValue ?? "", query: type == "manual" ? "" : query, platform: platform,
                    manual: type == "manual", hosts: hosts))
            }
            let store = self.store
            let final = labels
            try await storeCall { try store.applyLabelSpecs(final) }
            try await self.reloadEvaluationQueries()
            await self.recordActivity(user, "applied_spec_label", .object([("specs", .array(labels.map { .string($0.name) }))]))
            return emptyObjectResponse()
        }

        route(router, .post, "/spec/policies") { request, context in
            let user = try context.requireRole(.maintainer)
            let specs = try await Self.specList(request)
            var drafts: [PolicyDraft] = []
            for (index, spec) in specs.enumerated() {
                if let team = spec["team"]?.stringValue, !team.isEmpty { throw FleetAPIError.invalid("specs[\(index)].team", "teams are not supported") }
                let name = try Self.prefixed(index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
                let query = spec["query"]?.stringValue ?? ""
                if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw FleetAPIError.invalid("specs[\(index)].query", "must not be empty") }
                let platform = spec["platform"]?.stringValue ?? ""
                try Self.prefixed(index) { () throws(FleetAPIError) in try FleetSQL.validate(query, platform: platform) }
                drafts.append(PolicyDraft(
                    name: name, query: query, description: spec["description"]?.stringValue ?? "", resolution: spec["resolution"]?.stringValue ?? "",
                    platform: platform, critical: spec["critical"].flatMap(Self.bool) ?? false))
            }
            let store = self.store
            let final = drafts
            try await storeCall { try store.applyPolicySpecs(final, author: user.author) }
            try await self.reloadEvaluationQueries()
            await self.recordActivity(user, "applied_spec_policy", .object([("specs", .array(drafts.map { .string($0.name) }))]))
            return emptyObjectResponse()
        }

        route(router, .get, "/spec/packs") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let packs = try await storeCall { try store.packSpecs() }
            let specs: [JSONValue] = packs.map { pack in
                .object([
                    ("name", .string(pack.name)), ("description", .string(pack.description)), ("platform", .string(pack.platform)),
                    ("disabled", .bool(pack.disabled)), ("targets", .object([("labels", .array([])), ("teams", .array([]))])),
                    ("queries", .array(pack.queries.map { q in
                        .object([
                            ("query", .string(q.query)), ("name", .string(q.name)), ("description", .string(q.description)),
                            ("interval", .int(q.interval)), ("snapshot", .bool(q.logging == .snapshot)), ("removed", .bool(q.logging == .differential)),
                            ("shard", q.shard.map { .int($0) } ?? .null), ("platform", .string(q.platform)), ("version", .string(q.version ?? "")),
                            ("denylist", .bool(q.denylist)),
                        ])
                    })),
                ])
            }
            return jsonResponse(.object([("specs", .array(specs))]))
        }
        route(router, .post, "/spec/packs") { request, context in
            let user = try context.requireRole(.maintainer)
            let specs = try await Self.specList(request)
            var packs: [(name: String, description: String, platform: String, disabled: Bool, queries: [PackQuerySpec])] = []
            for (index, spec) in specs.enumerated() {
                let name = try Self.prefixed(index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
                let platform = try Self.prefixed(index) { () throws(FleetAPIError) in try Self.packPlatform(spec["platform"]?.stringValue) } ?? ""
                var queries: [PackQuerySpec] = []
                for (qi, q) in (spec["queries"]?.arrayValue ?? []).enumerated() {
                    let field = "specs[\(index)].queries[\(qi)]"
                    guard let queryName = q["query"]?.stringValue, !queryName.isEmpty else { throw FleetAPIError.invalid("\(field).query", "must name a saved query") }
                    guard let interval = q["interval"]?.intValue, (1...604_800).contains(interval) else {
                        throw FleetAPIError.invalid("\(field).interval", "must be between 1 and 604800 seconds")
                    }
                    let logging = ScheduleLogging.from(snapshot: q["snapshot"].flatMap(Self.bool), removed: q["removed"].flatMap(Self.bool)) ?? .snapshot
                    let version = q["version"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                    queries.append(PackQuerySpec(
                        query: queryName, name: q["name"]?.stringValue ?? queryName, description: q["description"]?.stringValue ?? "", interval: interval,
                        logging: logging, platform: q["platform"]?.stringValue ?? "", version: version, shard: q["shard"]?.intValue,
                        denylist: q["denylist"].flatMap(Self.bool) ?? true))
                }
                packs.append((name, spec["description"]?.stringValue ?? "", platform, spec["disabled"].flatMap(Self.bool) ?? false, queries))
            }
            let store = self.store
            let final = packs
            try await storeCall { try store.applyPackSpecs(final) }
            await self.recordActivity(user, "applied_spec_pack", .object([("specs", .array(packs.map { .string($0.name) }))]))
            return emptyObjectResponse()
        }
    }

    /// The `specs` array of a spec body.
    static func specList(_ request: Request) async throws -> [JSONValue] {
        let body = try await parseJSONBody(request, limit: 8 << 20)
        guard let specs = body["specs"]?.arrayValue else { throw FleetAPIError.invalid("specs", "must be an array of spec objects") }
        for (index, spec) in specs.enumerated() where spec.objectMembers == nil {
            throw FleetAPIError.invalid("specs[\(index)]", "must be an object")
        }
        return specs
    }

    static func bool(_ value: JSONValue) -> Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    /// Runs a validation and prefixes the field of its error with `specs[i].`.
    static func prefixed<T>(_ index: Int, _ body: () throws(FleetAPIError) -> T) throws(FleetAPIError) -> T {
        do {
            return try body()
        } catch {
            var error = error
            error.errors = error.errors.map { .init(name: "specs[\(index)].\($0.name)", reason: $0.reason) }
            throw error
        }
    }
}
