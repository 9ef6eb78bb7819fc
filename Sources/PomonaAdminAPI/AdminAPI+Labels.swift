import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Labels (Fleet's `/labels`): dynamic ones are evaluated on hosts as `fleet_label_query_<id>`
/// (member iff the query returns a row), manual ones are a host list. Built-in labels are read-only.
/// Reading needs observer; changing needs maintainer.
extension AdminAPI {
    struct LabelBody: Decodable, Sendable {
        var name: String?
        var description: String?
        var query: String?
        var platform: String?
        var label_membership_type: String?
        /// Manual members: host ids (`host_ids`) or identifiers (`hosts`, resolved by `Datastore.resolveHostID`).
        var host_ids: [Int64]?
        var hosts: [String]?
    }

    func registerLabels(on router: Router<AdminRequestContext>) {
        route(router, .get, "/labels") { request, context in
            _ = try context.requireRole(.observer)
            let options = try ListOptions(request, defaultSort: LabelSortKey.id)
            let store = self.store
            let all = try await store.labels()
            let (items, meta) = pagedInMemory(
                all, options, matches: { $0.name.lowercased().contains($1) }, less: options.sort.inIncreasingOrder)
            return jsonResponse(.object([("labels", .array(items.map(\.json))), ("meta", meta)]))
        }

        route(router, .get, "/labels/summary") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let all = try await store.labels()
            let items: [JSONValue] = all.map {
                .object([("id", .int($0.id)), ("name", .string($0.name)), ("description", .string($0.description)), ("label_type", .string($0.labelType))])
            }
            return jsonResponse(.object([("labels", .array(items))]))
        }

        route(router, .get, "/labels/:id") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let store = self.store
            guard let label = try await store.label(id: id) else { throw FleetAPIError.notFound("label \(id)") }
            return jsonResponse(.object([("label", label.json)]))
        }

        route(router, .get, "/labels/:id/hosts") { request, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let options = try ListOptions(request, allowed: [HostSortKey.id, .hostname], defaultSort: .id)
            let store = self.store
            guard try await store.label(id: id) != nil else { throw FleetAPIError.notFound("label \(id)") }
            let records = try await store.listHosts(
                    HostListFilter(query: options.query, labelID: id), page: options.storePage)
            let now = self.clock()
            let hosts = records.prefix(options.perPage).map { JSONValue.object(HostJSON.object($0, state: self.registry.host(id: $0.id), now: now)) }
            return jsonResponse(.object([("hosts", .array(Array(hosts))), ("meta", options.meta(fetchedCount: records.count))]))
        }

        route(router, .post, "/labels") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(LabelBody.self, from: request)
            let draft = try await self.labelDraft(body)
            let store = self.store
            let label = try await store.createLabel(draft, authorID: user.id)
            try await self.reloadEvaluationQueries()
            await self.recordActivity(user, "created_label", .object([("label_id", .int(label.id)), ("label_name", .string(label.name))]))
            return jsonResponse(.object([("label", label.json)]))
        }

        route(router, .patch, "/labels/:id") { request, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let body = try await decodeBody(LabelBody.self, from: request)
            let store = self.store
            guard let existing = try await store.label(id: id) else { throw FleetAPIError.notFound("label \(id)") }
            if existing.isBuiltin { throw FleetStoreError.builtin(existing.name).apiError }
            if let query = body.query, query != existing.query {
                throw FleetAPIError.invalid("query", "a label's query cannot be changed; create a new label")
            }
            if let platform = body.platform, platform != existing.platform {
                throw FleetAPIError.invalid("platform", "a label's platform cannot be changed; create a new label")
            }
            let name = try body.name.map { name throws(FleetAPIError) in try FleetSQL.name(name) }
            var hostIDs: [Int64]?
            if body.host_ids != nil || body.hosts != nil {
                guard existing.isManual else { throw FleetAPIError.invalid("hosts", "only manual labels have a host list") }
                hostIDs = try await self.resolveHostList(ids: body.host_ids, identifiers: body.hosts)
            }
            let members = hostIDs
            let label = try await store.updateLabel(id: id, name: name, description: body.description, hostIDs: members)
            await self.recordActivity(user, "edited_label", .object([("label_id", .int(label.id)), ("label_name", .string(label.name))]))
            return jsonResponse(.object([("label", label.json)]))
        }

        route(router, .delete, "/labels/id/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            try await self.deleteLabel(id: id, user: user)
            return emptyObjectResponse()
        }
        // Same path position as `/labels/:id`: Hummingbird's router needs one parameter name
        // per position, so the name arrives as "id".
        route(router, .delete, "/labels/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let name = (context.parameters.get("id") ?? "").removingPercentEncoding ?? ""
            let store = self.store
            guard let label = try await store.label(named: name) else { throw FleetAPIError.notFound("label \"\(name)\"") }
            try await self.deleteLabel(id: label.id, user: user)
            return emptyObjectResponse()
        }
    }

    func deleteLabel(id: Int64, user: AdminUser) async throws {
        let store = self.store
        guard try await store.deleteLabel(id: id) else { throw FleetAPIError.notFound("label \(id)") }
        try await reloadEvaluationQueries()
        await recordActivity(user, "deleted_label", .object([("label_id", .int(id))]))
    }

    /// Hands the current label and policy queries to the check-in path.
    func reloadEvaluationQueries() async throws {
        let store = self.store
        let queries = try await store.hostEvaluationQueries()
        registry.setEvaluationQueries(queries)
    }

    func labelDraft(_ body: LabelBody) async throws -> LabelDraft {
        let name = try FleetSQL.name(body.name)
        let manual: Bool
        switch body.label_membership_type {
        case nil: manual = body.query == nil && (body.hosts != nil || body.host_ids != nil)
        case "dynamic": manual = false
        case "manual": manual = true
        case let other?: throw FleetAPIError.invalid("label_membership_type", "must be dynamic or manual, not \"\(other)\"")
        }
        let platform = (body.platform ?? "").trimmingCharacters(in: .whitespaces)
        if manual {
            if let query = body.query, !query.isEmpty { throw FleetAPIError.invalid("query", "a manual label has no query") }
            let ids = try await resolveHostList(ids: body.host_ids, identifiers: body.hosts)
            return LabelDraft(name: name, description: body.description ?? "", platform: platform, manual: true, hostIDs: ids)
        }
        guard let query = body.query, !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw FleetAPIError.invalid("query", "a dynamic label needs a query (or give hosts for a manual label)")
        }
        if body.hosts != nil || body.host_ids != nil { throw FleetAPIError.invalid("hosts", "a dynamic label's members come from its query") }
        try FleetSQL.validate(query, platform: platform)
        return LabelDraft(name: name, description: body.description ?? "", query: query, platform: platform)
    }

    /// Host ids from ids and/or identifiers (`Datastore.resolveHostID`); an unknown one is an error naming it.
    func resolveHostList(ids: [Int64]?, identifiers: [String]?) async throws -> [Int64] {
        let store = self.store
        var out = ids ?? []
        if let ids, !ids.isEmpty {
            let existing = try await store.existingHostIDs(ids)
            if let missing = out.first(where: { !existing.contains($0) }) { throw FleetAPIError.invalid("host_ids", "no host with id \(missing)") }
        }
        for identifier in identifiers ?? [] {
            guard let id = try await store.hostID(identifier: identifier) else {
                throw FleetAPIError.invalid("hosts", "no host with uuid, osquery host id, serial or hostname \"\(identifier)\"")
            }
            out.append(id)
        }
        return out
    }
}

extension LabelRecord {
    /// Fleet's label object.
    var json: JSONValue {
        .object([
            ("id", .int(id)), ("name", .string(name)), ("description", .string(description)), ("query", .string(query)),
            ("platform", .string(platform)), ("label_type", .string(labelType)), ("label_membership_type", .string(membershipType)),
            ("host_count", .int(hostCount)), ("display_text", .string(name)), ("created_at", .date(createdAt)),
            ("updated_at", .date(updatedAt)),
        ])
    }
}
