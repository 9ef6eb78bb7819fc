import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// fleetctl/`pomona apply` spec endpoints for queries, labels, policies and packs:
/// `GET /spec/<kind>` → `{"specs": [...]}`, `POST /spec/<kind>` `{"specs": [...]}` upserts by name.
/// Every document is validated first (errors name `specs[i].field`); then the kind is applied in
/// one transaction, so a bad document leaves nothing half-applied. The parsing lives in
/// `AdminAPI+SpecParsing.swift`, shared with the all-kinds endpoint `POST /api/v1/pomona/spec`.
extension AdminAPI {
    func registerQuerySpecs(on router: Router<AdminRequestContext>) {
        route(router, .get, "/spec/queries") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let queries = try await store.savedQueries()
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
            var batch = SpecBatch()
            batch.queries = try Self.querySpecs(try await Self.specList(request), field: "specs")
            try await self.apply(batch, by: user)
            return emptyObjectResponse()
        }

        route(router, .get, "/spec/labels") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let labels = try await store.labelSpecs()
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
            var batch = SpecBatch()
            batch.labels = try Self.labelSpecs(try await Self.specList(request), field: "specs")
            try await self.apply(batch, by: user)
            return emptyObjectResponse()
        }

        route(router, .post, "/spec/policies") { request, context in
            let user = try context.requireRole(.maintainer)
            var batch = SpecBatch()
            batch.policies = try Self.policySpecs(try await Self.specList(request), field: "specs")
            try await self.apply(batch, by: user)
            return emptyObjectResponse()
        }

        route(router, .get, "/spec/packs") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let packs = try await store.packSpecs()
            let specs: [JSONValue] = packs.map { pack in
                .object([
                    ("name", .string(pack.name)), ("description", .string(pack.description)), ("platform", .string(pack.platform)),
                    ("disabled", .bool(pack.disabled)), ("targets", .object([("labels", .array(pack.targetLabels.map(JSONValue.string))), ("teams", .array([]))])),
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
            var batch = SpecBatch()
            batch.packs = try Self.packSpecs(try await Self.specList(request), field: "specs")
            try await self.apply(batch, by: user)
            return emptyObjectResponse()
        }
    }
}
