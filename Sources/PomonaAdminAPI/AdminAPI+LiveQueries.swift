import Foundation
import Hummingbird
import NIOCore
import PomonaCore
import PomonaStore

/// Live queries: campaigns with results over Server-Sent Events, and the synchronous forms.
///
/// - `POST /queries/run` `{query | query_id, selected: {hosts: [id], labels: [id], all: bool}, queue_for_offline_seconds?}`
///   and `POST /queries/run_by_identifiers` (`selected.hosts`: identifiers resolved by `Datastore.resolveHostID`,
///   `selected.labels`: names)
///   → `{campaign}`.
/// - `GET /queries/run/{id}/stream` → `text/event-stream` (see ``LiveQueryEventEncoding``).
/// - `GET /queries/run/{id}` → `{campaign, results}`; `DELETE /queries/run/{id}` stops it.
/// - `POST /hosts/{id}/query`, `POST /hosts/identifier/{identifier}/query` `{query}` and
///   `POST /queries/{id}/run` `{host_ids}` wait for answers (up to the synchronous wait, Fleet's 25 s).
extension AdminAPI {
    struct RunBody: Decodable, Sendable {
        struct Selected: Decodable, Sendable {
            var hosts: [Int64]?
            var labels: [Int64]?
            var all: Bool?
        }
        var query: String?
        var query_id: Int64?
        var selected: Selected?
        var queue_for_offline_seconds: Int?
    }

    struct RunByIdentifiersBody: Decodable, Sendable {
        struct Selected: Decodable, Sendable {
            var hosts: [String]?
            var labels: [String]?
        }
        var query: String?
        var query_id: Int64?
        var selected: Selected?
        var queue_for_offline_seconds: Int?
    }

    struct HostQueryBody: Decodable, Sendable {
        var query: String?
        var query_id: Int64?
    }

    struct SavedRunBody: Decodable, Sendable {
        var host_ids: [Int64]
    }

    func registerLiveQueries(on router: Router<AdminRequestContext>) {
        route(router, .post, "/queries/run") { request, context in
            let user = try context.requireRole(.observer)
            let body = try await decodeBody(RunBody.self, from: request)
            let (sql, saved) = try await self.liveQuerySQL(query: body.query, queryID: body.query_id)
            try Self.authorizeRun(user, saved: saved)
            let selection = LiveQuerySelection(
                hostIDs: body.selected?.hosts ?? [], labelIDs: body.selected?.labels ?? [], all: body.selected?.all ?? false)
            let started = try await self.startCampaign(
                user: user, sql: sql, saved: saved, selection: selection, lifetime: try Self.lifetime(body.queue_for_offline_seconds))
            return jsonResponse(.object([("campaign", Self.campaignJSON(started.record, totals: started.totals, running: true))]))
        }

        route(router, .post, "/queries/run_by_identifiers") { request, context in
            let user = try context.requireRole(.observer)
            let body = try await decodeBody(RunByIdentifiersBody.self, from: request)
            let (sql, saved) = try await self.liveQuerySQL(query: body.query, queryID: body.query_id)
            try Self.authorizeRun(user, saved: saved)
            let selection = try await self.selection(identifiers: body.selected?.hosts ?? [], labelNames: body.selected?.labels ?? [])
            let started = try await self.startCampaign(
                user: user, sql: sql, saved: saved, selection: selection, lifetime: try Self.lifetime(body.queue_for_offline_seconds))
            return jsonResponse(.object([("campaign", Self.campaignJSON(started.record, totals: started.totals, running: true))]))
        }

        route(router, .get, "/queries/run/:id") { _, context in
            let user = try context.requireRole(.observer)
            let id = try pathID(context)
            let record = try await self.visibleCampaign(id, user: user)
            let store = self.store
            let results = try await store.campaignResults(id: id)
            let names = try await store.hostNames(ids: results.map(\.hostID))
            let running = self.liveQueries.snapshot(id: id)
            let totals = running?.totals ?? Self.storedTotals(record, results: results)
            let items: [JSONValue] = results.map { r in
                .object([
                    ("host_id", .int(r.hostID)), ("hostname", .string(names[r.hostID]?.hostname ?? "")),
                    ("rows", Self.rowsValue(r)), ("error", .optionalString(r.error)), ("received_at", .date(r.receivedAt)),
                ])
            }
            return jsonResponse(.object([
                ("campaign", Self.campaignJSON(record, totals: totals, running: running != nil)), ("results", .array(items)),
            ]))
        }

        route(router, .delete, "/queries/run/:id") { _, context in
            let user = try context.requireRole(.observer)
            let id = try pathID(context)
            let record = try await self.visibleCampaign(id, user: user)
            if user.role < .maintainer && record.userID != user.id { throw FleetAPIError.forbidden }
            let totals = self.liveQueries.finish(id: id, reason: .cancelled, registry: self.registry)
            return jsonResponse(.object([("stopped", .bool(totals != nil))]))
        }

        route(router, .get, "/queries/run/:id/stream") { _, context in
            let user = try context.requireRole(.observer)
            let id = try pathID(context)
            let record = try await self.visibleCampaign(id, user: user)
            return try await self.eventStream(record)
        }

        route(router, .post, "/hosts/:id/query") { request, context in
            let user = try context.requireRole(.observer)
            let hostID = try pathID(context)
            return try await self.runOnHost(request: request, user: user) { hostID }
        }

        route(router, .post, "/hosts/identifier/:identifier/query") { request, context in
            let user = try context.requireRole(.observer)
            let identifier = try hostIdentifierParameter(context)
            let store = self.store
            return try await self.runOnHost(request: request, user: user) {
                guard let hostID = try await store.hostID(identifier: identifier) else {
                    throw FleetAPIError.notFound("host \"\(identifier)\"")
                }
                return hostID
            }
        }

        route(router, .post, "/queries/:id/run") { request, context in
            let user = try context.requireRole(.observer)
            let queryID = try pathID(context)
            let body = try await decodeBody(SavedRunBody.self, from: request)
            let (sql, saved) = try await self.liveQuerySQL(query: nil, queryID: queryID)
            try Self.authorizeRun(user, saved: saved)
            if body.host_ids.isEmpty { throw FleetAPIError.invalid("host_ids", "must name at least one host") }
            let started = try await self.startCampaign(
                user: user, sql: sql, saved: saved, selection: LiveQuerySelection(hostIDs: body.host_ids),
                lifetime: self.liveQueries.settings.synchronousWait)
            let results = try await self.collectResults(campaignID: started.record.id)
            let items: [JSONValue] = results.map { r in
                .object([("host_id", .int(r.hostID)), ("rows", Self.rowsValue(r)), ("error", .optionalString(r.error))])
            }
            return jsonResponse(.object([
                ("query_id", .int(queryID)), ("targeted_host_count", .int(started.totals.targeted)),
                ("responded_host_count", .int(results.count)), ("results", .array(items)),
            ]))
        }
    }

    static func lifetime(_ queueForOffline: Int?) throws(FleetAPIError) -> TimeInterval? {
        guard let queueForOffline else { return nil }
        guard queueForOffline >= 0 else { throw FleetAPIError.invalid("queue_for_offline_seconds", "must not be negative") }
        return TimeInterval(queueForOffline)
    }

    /// The campaign, if it exists and the caller may see it (observers see their own).
    func visibleCampaign(_ id: Int64, user: AdminUser) async throws -> CampaignRecord {
        let store = self.store
        guard let record = try await store.campaign(id: id) else { throw FleetAPIError.notFound("campaign \(id)") }
        if user.role < .maintainer && record.userID != user.id { throw FleetAPIError.forbidden }
        return record
    }

    /// Targets from host identifiers and label names; an unknown one is an error naming it, and so is
    /// an identifier several hosts share (409, from the store).
    /// The built-in "All Hosts" label means every host, whether or not its label query ran yet.
    func selection(identifiers: [String], labelNames: [String]) async throws -> LiveQuerySelection {
        var selection = LiveQuerySelection()
        let store = self.store
        for identifier in identifiers {
            guard let id = try await store.hostID(identifier: identifier) else {
                throw FleetAPIError.invalid("selected.hosts", "no host with uuid, osquery host id, serial or hostname \"\(identifier)\"")
            }
            selection.hostIDs.append(id)
        }
        for name in labelNames {
            guard let label = try await store.label(named: name) else {
                throw FleetAPIError.invalid("selected.labels", "no label named \"\(name)\"")
            }
            if label.isBuiltin && label.name == "All Hosts" { selection.all = true } else { selection.labelIDs.append(label.id) }
        }
        return selection
    }

    /// `POST /hosts/{id}/query`: one host, waits for its answer. An offline host is answered at once.
    /// The host is resolved after the caller is authorized, so an observer learns nothing about hosts here.
    func runOnHost(request: Request, user: AdminUser, host: () async throws -> Int64) async throws -> Response {
        let body = try await decodeBody(HostQueryBody.self, from: request)
        let (sql, saved) = try await liveQuerySQL(query: body.query, queryID: body.query_id)
        try Self.authorizeRun(user, saved: saved)
        let hostID = try await host()
        guard registry.host(id: hostID) != nil else { throw FleetAPIError.notFound("host \(hostID)") }
        func answer(status: String, error: String?, rows: JSONValue) -> Response {
            jsonResponse(.object([
                ("host_id", .int(hostID)), ("query", .string(sql)), ("status", .string(status)), ("error", .optionalString(error)), ("rows", rows),
            ]))
        }
        if registry.onlineHosts(among: [hostID], now: clock()).isEmpty {
            return answer(status: "offline", error: "host is offline", rows: .array([]))
        }
        let started = try await startCampaign(
            user: user, sql: sql, saved: saved, selection: LiveQuerySelection(hostIDs: [hostID]), lifetime: liveQueries.settings.synchronousWait)
        let results = try await collectResults(campaignID: started.record.id)
        guard let result = results.first(where: { $0.hostID == hostID }) else {
            return answer(status: "online", error: "no answer within \(Int(liveQueries.settings.synchronousWait)) s", rows: .array([]))
        }
        return answer(status: "online", error: result.error, rows: Self.rowsValue(result))
    }

    /// A comment line this often while no host answers, so proxies and clients with idle timeouts
    /// keep the stream open.
    static let streamKeepAlive: Duration = .seconds(15)

    /// The campaign's results as Server-Sent Events: those so far, each new one as it arrives, a
    /// `totals` and `status` event at most every second, and `done` at the end. A finished
    /// campaign replays its stored results and ends.
    func eventStream(_ record: CampaignRecord) async throws -> Response {
        let id = record.id
        let store = self.store
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        // nginx and similar proxies would otherwise hold events back until a buffer fills.
        if let name = HTTPFields.Element.Name("X-Accel-Buffering") { headers[name] = "no" }
        guard let snapshot = liveQueries.snapshot(id: id), let events = liveQueries.subscribe(id: id, keepAlive: Self.streamKeepAlive) else {
            let results = try await store.campaignResults(id: id)
            let names = try await store.hostNames(ids: results.map(\.hostID))
            var bytes: [UInt8] = []
            for (index, result) in results.enumerated() {
                bytes += LiveQueryEventEncoding.result(result, names: names[result.hostID], sequence: index + 1)
            }
            bytes += LiveQueryEventEncoding.done(Self.storedTotals(record, results: results), reason: "finished")
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let names = try await store.hostNames(ids: snapshot.targets)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: LiveQueryEventEncoding.totals(snapshot.totals) + LiveQueryEventEncoding.status(snapshot.totals, finished: false)))
            var sequence = 0
            var lastTotals = ContinuousClock.now
            var ended = false
            for await event in events {
                switch event {
                case .result(let result, let totals):
                    sequence += 1
                    var bytes = LiveQueryEventEncoding.result(result, names: names[result.hostID], sequence: sequence)
                    if ContinuousClock.now - lastTotals >= .seconds(1) {
                        bytes += LiveQueryEventEncoding.totals(totals) + LiveQueryEventEncoding.status(totals, finished: false)
                        lastTotals = .now
                    }
                    try await writer.write(ByteBuffer(bytes: bytes))
                case .done(let totals, let reason):
                    ended = true
                    try await writer.write(ByteBuffer(bytes: LiveQueryEventEncoding.done(totals, reason: reason.rawValue)))
                case .keepAlive:
                    try await writer.write(ByteBuffer(bytes: LiveQueryEventEncoding.keepAlive))
                }
            }
            if !ended {
                // The hub cut this client off: it fell too far behind. Say so, and where the rest is.
                try await writer.write(ByteBuffer(bytes: LiveQueryEventEncoding.fellBehind(campaignID: id, received: sequence)))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
