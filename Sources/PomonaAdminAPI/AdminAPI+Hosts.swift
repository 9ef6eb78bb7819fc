import Crypto
import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Hosts: list, count, summary, one host (by id or identifier), delete, refetch, software, users, results.
extension AdminAPI {
    struct HostDeleteBody: Decodable {
        struct Filters: Decodable {
            var status: String?
            var label_id: Int64?
            var query: String?
            var platform: String?
        }
        var ids: [Int64]?
        var filters: Filters?
    }

    /// At most this many hosts in one bulk delete (a filter matching more is refused, not truncated).
    static let maxBulkDelete = 100_000

    func registerHosts(on router: Router<AdminRequestContext>) {
        route(router, .get, "/hosts") { request, context in
            _ = try context.requireRole(.observer)
            let options = try ListOptions(request, defaultSort: HostSortKey.hostname)
            let filter = try await self.hostFilter(
                query: options.query, status: queryParameter(request, "status"), platform: queryParameter(request, "platform"),
                labelID: try self.labelIDParameter(request))
            let store = self.store
            let records = try await store.listHosts(filter, page: options.storePage)
            let now = clock()
            let hosts = records.prefix(options.perPage).map { record in
                JSONValue.object(HostJSON.object(record, state: self.registry.host(id: record.id), now: now))
            }
            return jsonResponse(.object([("hosts", .array(Array(hosts))), ("meta", options.meta(fetchedCount: records.count))]))
        }
        route(router, .get, "/hosts/count") { request, context in
            _ = try context.requireRole(.observer)
            let query = queryParameter(request, "query")?.trimmingCharacters(in: .whitespacesAndNewlines)
            let filter = try await self.hostFilter(
                query: query?.isEmpty == false ? query : nil, status: queryParameter(request, "status"),
                platform: queryParameter(request, "platform"), labelID: try self.labelIDParameter(request))
            let count = try await store.countHosts(filter)
            return jsonResponse(.object([("count", .int(count))]))
        }
        route(router, .get, "/host_summary") { request, context in
            _ = try context.requireRole(.observer)
            return try await self.hostSummary(platform: queryParameter(request, "platform"))
        }
        route(router, .get, "/hosts/identifier/:identifier") { _, context in
            _ = try context.requireRole(.observer)
            let identifier = try hostIdentifierParameter(context)
            // A node key is never stored: look it up by its digest, as the agent API does.
            let digest = SHA256.hash(data: Array(identifier.utf8)).map { String(format: "%02x", $0) }.joined()
            guard let record = try await store.host(identifier: identifier, nodeKeyDigest: digest) else {
                throw FleetAPIError.notFound("host \(identifier)")
            }
            return try await self.hostDetail(record)
        }
        route(router, .get, "/hosts/:id") { _, context in
            _ = try context.requireRole(.observer)
            return try await self.hostDetail(try await self.existingHost(try pathID(context)))
        }
        route(router, .delete, "/hosts/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let record = try await self.existingHost(try pathID(context))
            try await self.deleteHosts([record.id], by: user, details: [("host_display_name", .string(record.vitals.hostname ?? ""))])
            return emptyObjectResponse()
        }
        route(router, .post, "/hosts/delete") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(HostDeleteBody.self, from: request)
            let ids: [Int64]
            switch (body.ids, body.filters) {
            case (let given?, nil):
                guard !given.isEmpty else { throw FleetAPIError.invalid("ids", "must not be empty") }
                guard given.count <= AdminAPI.maxBulkDelete else { throw FleetAPIError.invalid("ids", "at most \(AdminAPI.maxBulkDelete) per request") }
                ids = given
            case (nil, let filters?):
                let query = filters.query?.trimmingCharacters(in: .whitespacesAndNewlines)
                let filter: HostListFilter = try await self.hostFilter(
                    query: query?.isEmpty == false ? query : nil, status: filters.status, platform: filters.platform,
                    labelID: filters.label_id, field: "filters.")
                // An empty filter would delete every host: make the caller say so with ids.
                guard !filter.isEmpty else { throw FleetAPIError.invalid("filters", "name at least one of status, label_id, query, platform") }
                ids = try await store.hostIDs(filter)
                guard ids.count <= AdminAPI.maxBulkDelete else {
                    throw FleetAPIError.invalid("filters", "match \(ids.count) hosts; at most \(AdminAPI.maxBulkDelete) per request")
                }
            default:
                throw FleetAPIError.invalid("ids", "give either ids or filters")
            }
            let deleted = try await self.deleteHosts(ids, by: user, details: [])
            return jsonResponse(.object([("deleted", .int(deleted))]))
        }
        route(router, .post, "/hosts/:id/refetch") { _, context in
            let user = try context.requireRole(.observer)
            let id = try pathID(context)
            guard try await store.markRefetchRequested(hostID: id) else { throw FleetAPIError.notFound("host \(id)") }
            registry.requestRefetch(hostID: id)
            registry.requestEvaluations(hostID: id)  // labels and policies too, as Fleet's refetch does
            await recordActivity(user, "refetched_host", .object([("host_id", .int(id))]))
            return emptyObjectResponse()
        }
        route(router, .get, "/hosts/:id/software") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            _ = try await self.existingHost(id)
            let software = try await store.software(hostID: id)
            return jsonResponse(.object([("host_id", .int(id)), ("software", .array(software.map(HostJSON.software)))]))
        }
        route(router, .get, "/hosts/:id/users") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            _ = try await self.existingHost(id)
            let users = try await store.users(hostID: id)
            return jsonResponse(.object([("host_id", .int(id)), ("users", .array(users.map(HostJSON.user)))]))
        }
        // The last stored answer of each one-shot distributed query this host ran (live queries).
        route(router, .get, "/hosts/:id/results") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            _ = try await self.existingHost(id)
            let results = try await store.distributedResults(hostID: id)
            return jsonResponse(.object([
                ("host_id", .int(id)),
                ("results", .array(results.map { r in
                    .object([
                        ("name", .string(r.name)), ("status", .int(r.status)), ("error", .string(r.message)),
                        ("row_count", .int(r.rowCount)), ("received_at", .date(r.receivedAt)),
                        ("rows", (try? JSONValue.parse(Array(r.rowsJSON.utf8))) ?? .array([])),
                    ])
                })),
            ]))
        }
    }

    func existingHost(_ id: Int64) async throws -> HostRecord {
        guard let record = try await store.host(id: id) else { throw FleetAPIError.notFound("host \(id)") }
        return record
    }

    func hostDetail(_ record: HostRecord) async throws -> Response {
        let store = self.store
        let (software, users, labels, policies) = (try await store.software(hostID: record.id), try await store.users(hostID: record.id),
             try await store.labels(forHost: record.id), try await store.policies(forHost: record.id))
        var members = HostJSON.object(record, state: registry.host(id: record.id), now: clock())
        members.append(("software", .array(software.map(HostJSON.software))))
        members.append(("users", .array(users.map(HostJSON.user))))
        members.append(("labels", .array(labels.map(\.json))))
        // Packs are compiled per platform, not targeted per host, so a host has no pack list of its own.
        members.append(("packs", .array([])))
        members.append(("policies", .array(policies.map(\.json))))
        return jsonResponse(.object([("host", .object(members))]))
    }

    @discardableResult
    func deleteHosts(_ ids: [Int64], by user: AdminUser, details: [(String, JSONValue)]) async throws -> Int {
        let deleted = try await store.deleteHosts(ids: ids)
        // Forget them in memory too: their node keys answer node_invalid from now on, so the agents re-enroll.
        for id in deleted { registry.remove(hostID: id) }
        if deleted.count == 1 {
            await recordActivity(user, "deleted_host", .object([("host_id", .int(deleted[0]))] + details))
        } else if !deleted.isEmpty {
            await recordActivity(user, "deleted_hosts", .object([("host_ids", .array(deleted.map(JSONValue.int))), ("count", .int(deleted.count))]))
        }
        return deleted.count
    }

    func labelIDParameter(_ request: Request) throws(FleetAPIError) -> Int64? {
        guard let text = queryParameter(request, "label_id") else { return nil }
        guard let id = Int64(text), id > 0 else { throw FleetAPIError.invalid("label_id", "must be a positive integer, not \"\(text)\"") }
        return id
    }

    /// Turns list parameters into a store filter. Online/offline/missing are decided from the
    /// registry (live seen times), `new` from the enrollment time, platform families (`linux`)
    /// expand to the stored distribution names.
    func hostFilter(query: String?, status: String?, platform: String?, labelID: Int64?, field: String = "") async throws -> HostListFilter {
        var filter = HostListFilter(query: query, labelID: labelID)
        if let query, query.count > 255 { throw FleetAPIError.invalid(field + "query", "must be at most 255 characters") }
        let store = self.store
        filter.labelID = labelID
        if let platform = platform?.lowercased() {
            let stored = try await store.distinctHostPlatforms()
            if let family = OsqueryPlatform(rawValue: platform) {
                filter.platforms = stored.filter { OsqueryPlatform(hostPlatform: $0) == family }
            } else {
                guard platform.count <= 64, platform.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw FleetAPIError.invalid(field + "platform", "must be a platform name such as darwin, windows, linux or ubuntu")
                }
                filter.platforms = [platform]
            }
            // No stored host has that platform: a value no platform can equal keeps the result empty.
            if filter.platforms.isEmpty { filter.platforms = ["\u{0}none"] }
        }
        guard let status else { return filter }
        let now = clock()
        switch status {
        case "new":
            filter.createdAfter = now.addingTimeInterval(-HostStatus.newFor)
        case "online", "offline", "missing", "mia":
            let wanted: HostStatus = status == "mia" ? .missing : HostStatus(rawValue: status)!
            // Status is live state in the registry, not in SQLite: hand the store whichever of the
            // two id sets is smaller, as "only these" or "not these". Every stored host is in the
            // registry (loaded at start, added on enrollment).
            let (matching, others) = registry.partitionByStatus(wanted, now: now)
            if matching.count <= others.count { filter.ids = matching } else { filter.excludedIDs = others }
        default:
            throw FleetAPIError.invalid(field + "status", "must be one of new, online, offline, missing (not \"\(status)\")")
        }
        return filter
    }

    /// `GET /host_summary`: counts by status (from memory) and by platform.
    func hostSummary(platform: String?) async throws -> Response {
        let filter = try await hostFilter(query: nil, status: nil, platform: platform, labelID: nil)
        let store = self.store
        let now = clock()
        var newFilter = filter
        newFilter.createdAfter = now.addingTimeInterval(-HostStatus.newFor)
        let byPlatform = try await store.hostCountsByPlatform(filter)
        let newCount = try await store.countHosts(newFilter)
        let ids = filter.platforms.isEmpty ? nil : try await store.hostIDs(filter)
        let counts = ids.map { registry.statusCounts(ids: $0, now: now) } ?? registry.statusCounts(now: now)
        let total = byPlatform.reduce(0) { $0 + $1.count }
        return jsonResponse(.object([
            ("totals_hosts_count", .int(total)),
            ("online_count", .int(counts[.online] ?? 0)),
            // Fleet's offline count excludes missing hosts; so does this one.
            ("offline_count", .int(counts[.offline] ?? 0)),
            ("mia_count", .int(counts[.missing] ?? 0)),
            ("missing_30_days_count", .int(counts[.missing] ?? 0)),
            ("new_count", .int(newCount)),
            ("low_disk_space_count", .int(0)),
            ("platforms", .array(byPlatform.map { .object([("platform", .string($0.platform)), ("hosts_count", .int($0.count))]) })),
            ("builtin_labels", .array([])),
        ]))
    }
}
