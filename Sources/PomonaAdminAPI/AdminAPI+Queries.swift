import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Saved queries (Fleet's `/queries`), with their schedule fields.
///
/// A query is in the schedule when `automations_enabled` is true and `interval` > 0: agents get it
/// in their config (pack "Global") within seconds, because every change bumps the config generation.
/// Reading needs observer; changing needs maintainer.
extension AdminAPI {
    /// The body of `POST /queries` and `PATCH /queries/{id}` (absent fields keep their value on PATCH).
    struct QueryBody: Decodable, Sendable {
        var name: String?
        var description: String?
        var query: String?
        var interval: Int?
        var platform: String?
        var min_osquery_version: String?
        var logging: String?
        var automations_enabled: Bool?
        var observer_can_run: Bool?
        var discard_data: Bool?
        var team_id: Int64?
    }

    struct IDsBody: Decodable, Sendable {
        var ids: [Int64]
    }

    func registerQueries(on router: Router<AdminRequestContext>) {
        route(router, .get, "/queries") { request, context in
            _ = try context.requireRole(.observer)
            let options = try ListOptions(request, defaultSort: SavedQuerySortKey.name)
            let store = self.store
            let all = try await store.savedQueries()
            let scheduledOnly = queryParameter(request, "scheduled") == "true"
            let (items, meta) = pagedInMemory(
                scheduledOnly ? all.filter(\.isScheduled) : all, options,
                matches: { $0.name.lowercased().contains($1) || $0.description.lowercased().contains($1) },
                less: options.sort.inIncreasingOrder)
            return jsonResponse(.object([("queries", .array(items.map(\.json))), ("meta", meta)]))
        }

        route(router, .get, "/queries/:id") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let store = self.store
            guard let query = try await store.savedQuery(id: id) else { throw FleetAPIError.notFound("query \(id)") }
            return jsonResponse(.object([("query", query.json)]))
        }

        route(router, .post, "/queries") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(QueryBody.self, from: request)
            let draft = try Self.queryDraft(body, existing: nil)
            let store = self.store
            let query = try await store.createSavedQuery(draft, author: user.author)
            await self.recordActivity(user, "created_saved_query", .object([("query_id", .int(query.id)), ("query_name", .string(query.name))]))
            return jsonResponse(.object([("query", query.json)]))
        }

        route(router, .patch, "/queries/:id") { request, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let body = try await decodeBody(QueryBody.self, from: request)
            let store = self.store
            guard let existing = try await store.savedQuery(id: id) else { throw FleetAPIError.notFound("query \(id)") }
            let draft = try Self.queryDraft(body, existing: existing)
            let query = try await store.updateSavedQuery(id: id, draft)
            await self.recordActivity(user, "edited_saved_query", .object([("query_id", .int(query.id)), ("query_name", .string(query.name))]))
            return jsonResponse(.object([("query", query.json)]))
        }

        // Fleet deletes by name (`DELETE /queries/{name}`), by id, and in bulk.
        route(router, .delete, "/queries/id/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            try await self.deleteQueries(ids: [id], user: user, mustExist: true)
            return emptyObjectResponse()
        }
        // Same path position as `/queries/:id` (GET, PATCH): Hummingbird's router needs one
        // parameter name per position, so the name arrives as "id".
        route(router, .delete, "/queries/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let name = (context.parameters.get("id") ?? "").removingPercentEncoding ?? ""
            let store = self.store
            guard let query = try await store.savedQuery(named: name) else { throw FleetAPIError.notFound("query \"\(name)\"") }
            try await self.deleteQueries(ids: [query.id], user: user, mustExist: true)
            return emptyObjectResponse()
        }
        route(router, .post, "/queries/delete") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(IDsBody.self, from: request)
            let deleted = try await self.deleteQueries(ids: body.ids, user: user, mustExist: false)
            return jsonResponse(.object([("deleted", .int(deleted))]))
        }
    }

    @discardableResult
    func deleteQueries(ids: [Int64], user: AdminUser, mustExist: Bool) async throws -> Int {
        let store = self.store
        let deleted = try await store.deleteSavedQueries(ids: ids)
        if mustExist && deleted == 0 { throw FleetAPIError.notFound("query \(ids.first ?? 0)") }
        if deleted > 0 {
            await recordActivity(user, "deleted_multiple_saved_query", .object([("query_ids", .array(ids.map { .int($0) }))]))
        }
        return deleted
    }

    /// Validates a create (existing `nil`) or an update, naming the offending field.
    static func queryDraft(_ body: QueryBody, existing: SavedQuery?) throws(FleetAPIError) -> SavedQueryDraft {
        if let team = body.team_id, team != 0 { throw FleetAPIError.invalid("team_id", "teams are not supported; omit team_id") }
        var draft = existing.map(SavedQueryDraft.init) ?? SavedQueryDraft(name: "", query: "")
        if existing == nil || body.name != nil { draft.name = try FleetSQL.name(body.name) }
        if let description = body.description { draft.description = description }
        if existing == nil || body.query != nil {
            guard let sql = body.query, !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw FleetAPIError.invalid("query", "must not be empty")
            }
            draft.query = sql
        }
        if let interval = try FleetSQL.interval(body.interval) { draft.interval = interval }
        if let platform = body.platform { draft.platform = platform.trimmingCharacters(in: .whitespaces) }
        if let version = try FleetSQL.version(body.min_osquery_version) { draft.minOsqueryVersion = version }
        if let logging = try FleetSQL.logging(body.logging) { draft.logging = logging }
        if let automations = body.automations_enabled { draft.automationsEnabled = automations }
        if let observer = body.observer_can_run { draft.observerCanRun = observer }
        if let discard = body.discard_data { draft.discardData = discard }
        try FleetSQL.validate(draft.query, platform: draft.platform)
        return draft
    }
}
