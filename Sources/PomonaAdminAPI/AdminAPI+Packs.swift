import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Legacy packs (`/packs`, `/packs/schedule`) and Fleet's global schedule (`/global/schedule`,
/// 2022-04's `/schedule`), mapped onto Pomona's packs and saved queries.
///
/// The global schedule is the set of saved queries with automations enabled and an interval:
/// scheduling a query sets those fields, unscheduling clears `automations_enabled` (the schedule
/// entry id is the query id). A pack with targets (`label_ids`, `host_ids`) is served only to
/// hosts that are one of its hosts or a member of one of its labels; a pack without targets is
/// served to every host of its platform, as an osquery pack file would be (Fleet serves an
/// untargeted pack to nobody: disable a pack to park it). Reading needs observer; changing needs
/// maintainer.
extension AdminAPI {
    struct PackBody: Decodable, Sendable {
        var name: String?
        var description: String?
        var platform: String?
        var disabled: Bool?
        var host_ids: [Int64]?
        var label_ids: [Int64]?
        var team_ids: [Int64]?
    }

    struct ScheduleBody: Decodable, Sendable {
        var pack_id: Int64?
        var query_id: Int64?
        var interval: Int?
        var snapshot: Bool?
        var removed: Bool?
        var platform: String?
        var version: String?
        var shard: Int?
    }

    func registerPacks(on router: Router<AdminRequestContext>) {
        route(router, .get, "/packs") { _, context in
            _ = try context.requireRole(.observer)
            let store = self.store
            let packs = try await store.packRecords()
            return jsonResponse(.object([("packs", .array(packs.map(\.json)))]))
        }
        route(router, .get, "/packs/:id") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let store = self.store
            guard let pack = try await store.packRecord(id: id) else { throw FleetAPIError.notFound("pack \(id)") }
            return jsonResponse(.object([("pack", pack.json)]))
        }
        route(router, .post, "/packs") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(PackBody.self, from: request)
            let name = try FleetSQL.name(body.name)
            let platform = try Self.packPlatform(body.platform)
            let targets = try Self.packTargets(body) ?? PackTargets()
            let store = self.store
            let pack = try await store.createPack(
                    name: name, description: body.description ?? "", platform: platform ?? "", disabled: body.disabled ?? false, targets: targets)
            await self.recordActivity(user, "created_pack", .object([("pack_id", .int(pack.id)), ("pack_name", .string(pack.name))]))
            return jsonResponse(.object([("pack", pack.json)]))
        }
        route(router, .patch, "/packs/:id") { request, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let body = try await decodeBody(PackBody.self, from: request)
            let name = try body.name.map { name throws(FleetAPIError) in try FleetSQL.name(name) }
            let platform = try Self.packPlatform(body.platform)
            let targets = try Self.packTargets(body)
            let store = self.store
            let pack = try await store.updatePack(id: id, name: name, description: body.description, platform: platform, disabled: body.disabled, targets: targets)
            await self.recordActivity(user, "edited_pack", .object([("pack_id", .int(pack.id)), ("pack_name", .string(pack.name))]))
            return jsonResponse(.object([("pack", pack.json)]))
        }
        route(router, .delete, "/packs/id/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let store = self.store
            guard try await store.deletePack(id: id) else { throw FleetAPIError.notFound("pack \(id)") }
            await self.recordActivity(user, "deleted_pack", .object([("pack_id", .int(id))]))
            return emptyObjectResponse()
        }
        // Same path position as `/packs/:id`: Hummingbird's router needs one parameter name
        // per position, so the name arrives as "id".
        route(router, .delete, "/packs/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let name = (context.parameters.get("id") ?? "").removingPercentEncoding ?? ""
            let store = self.store
            guard try await store.deletePack(named: name) else { throw FleetAPIError.notFound("pack \"\(name)\"") }
            await self.recordActivity(user, "deleted_pack", .object([("pack_name", .string(name))]))
            return emptyObjectResponse()
        }
        route(router, .get, "/packs/:id/scheduled") { _, context in
            _ = try context.requireRole(.observer)
            let id = try pathID(context)
            let store = self.store
            guard try await store.packRecord(id: id) != nil else { throw FleetAPIError.notFound("pack \(id)") }
            let scheduled = try await store.packScheduledQueries(packID: id)
            return jsonResponse(.object([("scheduled", .array(scheduled.map(\.json)))]))
        }
        route(router, .post, "/packs/schedule") { request, context in
            let user = try context.requireRole(.maintainer)
            let body = try await decodeBody(ScheduleBody.self, from: request)
            guard let packID = body.pack_id else { throw FleetAPIError.invalid("pack_id", "is required") }
            guard let queryID = body.query_id else { throw FleetAPIError.invalid("query_id", "is required") }
            let fields = try Self.scheduleFields(body, requireInterval: true)
            let store = self.store
            let scheduled = try await store.schedulePackQuery(
                    packID: packID, queryID: queryID, interval: fields.interval ?? 0, logging: fields.logging ?? .snapshot,
                    platform: fields.platform ?? "", version: fields.version ?? nil, shard: body.shard)
            await self.recordActivity(user, "edited_pack", .object([("pack_id", .int(packID)), ("query_id", .int(queryID))]))
            return jsonResponse(.object([("scheduled", scheduled.json)]))
        }
        route(router, .patch, "/packs/schedule/:id") { request, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let body = try await decodeBody(ScheduleBody.self, from: request)
            let fields = try Self.scheduleFields(body, requireInterval: false)
            let change = PackScheduleChange(
                interval: fields.interval, logging: fields.logging, platform: fields.platform, version: fields.version,
                shard: body.shard.map { Optional($0) })
            let store = self.store
            let scheduled = try await store.updatePackScheduledQuery(id: id, change)
            await self.recordActivity(user, "edited_pack", .object([("pack_id", .int(scheduled.packID)), ("scheduled_query_id", .int(id))]))
            return jsonResponse(.object([("scheduled", scheduled.json)]))
        }
        route(router, .delete, "/packs/schedule/:id") { _, context in
            let user = try context.requireRole(.maintainer)
            let id = try pathID(context)
            let store = self.store
            guard try await store.deletePackScheduledQuery(id: id) else { throw FleetAPIError.notFound("scheduled query \(id)") }
            await self.recordActivity(user, "edited_pack", .object([("deleted_scheduled_query_id", .int(id))]))
            return emptyObjectResponse()
        }

        for base in ["/global/schedule", "/schedule"] {
            route(router, .get, base) { _, context in
                _ = try context.requireRole(.observer)
                let store = self.store
                let queries = try await store.savedQueries()
                return jsonResponse(.object([("global_schedule", .array(queries.filter(\.isScheduled).map(\.scheduleJSON)))]))
            }
            route(router, .post, base) { request, context in
                let user = try context.requireRole(.maintainer)
                let body = try await decodeBody(ScheduleBody.self, from: request)
                guard let queryID = body.query_id else { throw FleetAPIError.invalid("query_id", "is required") }
                let query = try await self.schedule(queryID: queryID, body: body, enable: true, requireInterval: true)
                await self.recordActivity(user, "edited_saved_query", .object([("query_id", .int(query.id)), ("query_name", .string(query.name))]))
                return jsonResponse(.object([("scheduled", query.scheduleJSON)]))
            }
            route(router, .patch, base + "/:id") { request, context in
                let user = try context.requireRole(.maintainer)
                let id = try pathID(context)
                let body = try await decodeBody(ScheduleBody.self, from: request)
                let query = try await self.schedule(queryID: id, body: body, enable: true, requireInterval: false)
                await self.recordActivity(user, "edited_saved_query", .object([("query_id", .int(query.id)), ("query_name", .string(query.name))]))
                return jsonResponse(.object([("scheduled", query.scheduleJSON)]))
            }
            route(router, .delete, base + "/:id") { _, context in
                let user = try context.requireRole(.maintainer)
                let id = try pathID(context)
                let query = try await self.schedule(queryID: id, body: ScheduleBody(), enable: false, requireInterval: false)
                await self.recordActivity(user, "edited_saved_query", .object([("query_id", .int(query.id)), ("query_name", .string(query.name))]))
                return emptyObjectResponse()
            }
        }
    }

    /// Puts a saved query in the global schedule (or takes it out) with the given fields.
    func schedule(queryID: Int64, body: ScheduleBody, enable: Bool, requireInterval: Bool) async throws -> SavedQuery {
        let store = self.store
        guard let existing = try await store.savedQuery(id: queryID) else { throw FleetAPIError.notFound("query \(queryID)") }
        let fields = try Self.scheduleFields(body, requireInterval: requireInterval)
        var draft = SavedQueryDraft(existing)
        if let interval = fields.interval { draft.interval = interval }
        if let logging = fields.logging { draft.logging = logging }
        if let platform = fields.platform { draft.platform = platform }
        if let version = fields.version { draft.minOsqueryVersion = version }
        draft.automationsEnabled = enable
        if enable && draft.interval == 0 { throw FleetAPIError.invalid("interval", "a scheduled query needs an interval of 1 to 604800 seconds") }
        try FleetSQL.validate(draft.query, platform: draft.platform)
        let final = draft
        return try await store.updateSavedQuery(id: queryID, final)
    }

    static func scheduleFields(_ body: ScheduleBody, requireInterval: Bool) throws(FleetAPIError)
        -> (interval: Int?, logging: LoggingType?, platform: String?, version: String??)
    {
        let interval = try FleetSQL.interval(body.interval)
        if requireInterval && (interval ?? 0) == 0 { throw FleetAPIError.invalid("interval", "must be between 1 and 604800 seconds") }
        if let shard = body.shard, !(0...100).contains(shard) { throw FleetAPIError.invalid("shard", "must be between 0 and 100") }
        let platform = try packPlatform(body.platform)
        return (interval, ScheduleLogging.from(snapshot: body.snapshot, removed: body.removed), platform, try FleetSQL.version(body.version, field: "version"))
    }

    /// The targets of a pack body, or `nil` when it names none (a PATCH then keeps them). Giving
    /// either list replaces both.
    static func packTargets(_ body: PackBody) throws(FleetAPIError) -> PackTargets? {
        if let teams = body.team_ids, !teams.isEmpty { throw FleetAPIError.invalid("team_ids", "teams are not supported") }
        guard body.label_ids != nil || body.host_ids != nil else { return nil }
        return PackTargets(labelIDs: Set(body.label_ids ?? []), hostIDs: Set(body.host_ids ?? []))
    }

    static func packPlatform(_ text: String?) throws(FleetAPIError) -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty && OsqueryPlatform.parseFilter(trimmed) == nil {
            throw FleetAPIError.invalid("platform", "\"\(text)\" is not an osquery platform")
        }
        return trimmed
    }
}

extension PackRecord {
    /// Fleet's pack object.
    var json: JSONValue {
        .object([
            ("id", .int(id)), ("name", .string(name)), ("description", .string(description)), ("platform", .string(platform)),
            ("disabled", .bool(disabled)), ("query_count", .int(queryCount)), ("total_hosts_count", .int(hostCount)),
            ("host_ids", .array(targets.hostIDs.sorted().map { .int($0) })), ("label_ids", .array(targets.labelIDs.sorted().map { .int($0) })),
            ("team_ids", .array([])),
            ("created_at", .date(createdAt)), ("updated_at", .date(updatedAt)),
        ])
    }
}

extension PackScheduledQuery {
    /// Fleet's scheduled-query object.
    var json: JSONValue {
        .object([
            ("id", .int(id)), ("pack_id", .int(packID)), ("name", .string(name)), ("query_id", queryID.map { .int($0) } ?? .null),
            ("query_name", .string(name)), ("query", .string(query)), ("description", .string(description)), ("interval", .int(interval)),
            ("snapshot", .bool(logging == .snapshot)), ("removed", .bool(logging == .differential)), ("platform", .string(platform)),
            ("version", .string(version ?? "")), ("shard", shard.map { .int($0) } ?? .null), ("denylist", .bool(denylist)),
        ])
    }
}
