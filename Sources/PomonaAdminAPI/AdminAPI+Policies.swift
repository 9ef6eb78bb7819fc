import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Global policies (Fleet's `/global/policies`): yes/no questions asked of every host as
/// `fleet_policy_query_<id>`; a host passes when the query returns a row, fails on none, and is
/// unknown when the query errors. Counts are computed from the latest answer of each host.
/// Reading needs observer; changing needs maintainer.
extension AdminAPI {
    struct PolicyBody: Decodable, Sendable {
        var name: String?
        var query: String?
        var description: String?
        var resolution: String?
        var platform: String?
        var critical: Bool?
        /// Legacy: create from a saved query (its name and SQL).
        var query_id: Int64?
        var team_id: Int64?
    }

    func registerPolicies(on router: Router<AdminRequestContext>) {
        route(router, .get, "/global/policies") { request, context in
            _ = try context.requireRole(.observer)
            let options = try ListOptions(request, defaultSort: PolicySortKey.id)
            let store = self.store
            let all = try await store.policies()
            let (items, meta) = pagedInMemory(
                all, options, matches: { $0.name.lowercased().contains($1) }, less: options.sort.inIncreasingOrder)
            return jsonResponse(.object([("policies", .array(items.map(\.json))), ("meta", meta)]))
        }

        route(router, .get, "/policies/count") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let count = try await store.policies().count
            return jsonResponse(.object([("count", .int(count))]))
        }

        route(router, .get, "/global/policies/:id") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let store = self.store
            guard let policy = try await store.policy(id: id) else { throw FleetAPIError.notFound("policy \(id)") }
            return jsonResponse(.object([("policy", policy.json)]))
        }

        route(router, .post, "/global/policies") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(PolicyBody.self, from: request)
            let draft = try await self.policyDraft(body, existing: nil)
            let store = self.store
            let policy = try await store.createPolicy(draft, author: user.author)
            try await self.reloadEvaluationQueries()
            await self.recordActivity(user, "created_policy", .object([("policy_id", .int(policy.id)), ("policy_name", .string(policy.name))]))
            return jsonResponse(.object([("policy", policy.json)]))
        }

        route(router, .patch, "/global/policies/:id") { request, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let body = try await decodeBody(PolicyBody.self, from: request)
            let store = self.store
            guard let existing = try await store.policy(id: id) else { throw FleetAPIError.notFound("policy \(id)") }
            let draft = try await self.policyDraft(body, existing: existing)
            let policy = try await store.updatePolicy(id: id, draft)
            try await self.reloadEvaluationQueries()
            await self.recordActivity(user, "edited_policy", .object([("policy_id", .int(policy.id)), ("policy_name", .string(policy.name))]))
            return jsonResponse(.object([("policy", policy.json)]))
        }

        route(router, .post, "/global/policies/delete") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(IDsBody.self, from: request)
            let store = self.store
            let ids = body.ids
            let deleted = try await store.deletePolicies(ids: ids)
            if deleted > 0 {
                try await self.reloadEvaluationQueries()
                await self.recordActivity(user, "deleted_policies", .object([("policy_ids", .array(ids.map { .int($0) }))]))
            }
            return jsonResponse(.object([("deleted", .int(deleted))]))
        }
    }

    func policyDraft(_ body: PolicyBody, existing: PolicyRecord?) async throws -> PolicyDraft {
        if let team = body.team_id, team != 0 { throw FleetAPIError.invalid("team_id", "teams are not supported; omit team_id") }
        var draft = existing.map {
            PolicyDraft(name: $0.name, query: $0.query, description: $0.description, resolution: $0.resolution, platform: $0.platform, critical: $0.critical)
        } ?? PolicyDraft(name: "", query: "")
        if existing == nil, let queryID = body.query_id {
            let store = self.store
            guard let saved = try await store.savedQuery(id: queryID) else {
                throw FleetAPIError.invalid("query_id", "no saved query with id \(queryID)")
            }
            draft.name = saved.name
            draft.query = saved.query
            draft.description = saved.description
        }
        if let name = body.name { draft.name = try FleetSQL.name(name) } else if existing == nil && body.query_id == nil {
            throw FleetAPIError.invalid("name", "must not be empty")
        }
        if let query = body.query { draft.query = query }
        if draft.query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw FleetAPIError.invalid("query", "must not be empty") }
        if let description = body.description { draft.description = description }
        if let resolution = body.resolution { draft.resolution = resolution }
        if let platform = body.platform { draft.platform = platform.trimmingCharacters(in: .whitespaces) }
        if let critical = body.critical { draft.critical = critical }
        try FleetSQL.validate(draft.query, platform: draft.platform)
        return draft
    }
}

extension PolicyRecord {
    /// Fleet's policy object.
    var json: JSONValue { .object(jsonMembers) }

    var jsonMembers: [(String, JSONValue)] {
        [
            ("id", .int(id)), ("name", .string(name)), ("query", .string(query)), ("description", .string(description)),
            ("resolution", .string(resolution)), ("platform", .string(platform)), ("critical", .bool(critical)), ("team_id", .null),
            ("author_id", authorID.map { .int($0) } ?? .null), ("author_name", .string(authorName)), ("author_email", .string(authorEmail)),
            ("passing_host_count", .int(passingHostCount)), ("failing_host_count", .int(failingHostCount)),
            ("created_at", .date(createdAt)), ("updated_at", .date(updatedAt)),
        ]
    }
}

extension HostPolicyStatus {
    /// A policy as `GET /hosts/{id}` lists it: the policy plus this host's `response` (pass, fail or "").
    public var json: JSONValue { .object(policy.jsonMembers + [("response", .string(response))]) }
}
