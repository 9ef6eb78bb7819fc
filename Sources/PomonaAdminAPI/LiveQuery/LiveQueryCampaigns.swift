import Foundation
import Hummingbird
import Logging
import PomonaCore
import PomonaStore

/// What a live query targets, as resolved from a request.
struct LiveQuerySelection: Sendable {
    var hostIDs: [Int64] = []
    var labelIDs: [Int64] = []
    var all = false
}

/// A started campaign.
struct StartedCampaign: Sendable {
    var record: CampaignRecord
    var totals: LiveQueryTotals
}

extension AdminAPI {
    var liveQueries: LiveQueryHub { registry.liveQueries }

    /// Fleet's rule: maintainers and admins run anything; observers only saved queries marked
    /// `observer_can_run`.
    static func authorizeRun(_ user: AdminUser, saved: SavedQuery?) throws(FleetAPIError) {
        if user.role >= .maintainer { return }
        guard let saved, saved.observerCanRun else {
            throw FleetAPIError(
                status: .forbidden, message: "Permission Denied",
                errors: [.init(name: "base", reason: "observers may only run saved queries that allow it (observer_can_run)")])
        }
    }

    /// The SQL to run: a saved query's (by id) or the given text, validated; plus the saved query.
    func liveQuerySQL(query: String?, queryID: Int64?) async throws -> (sql: String, saved: SavedQuery?) {
        if let queryID {
            let store = self.store
            guard let saved = try await store.savedQuery(id: queryID) else {
                throw FleetAPIError.invalid("query_id", "no saved query with id \(queryID)")
            }
            return (saved.query, saved)
        }
        guard let query, !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw FleetAPIError.invalid("query", "give the SQL to run (query) or a saved query (query_id)")
        }
        try FleetSQL.validate(query, platform: "")
        return (query, nil)
    }

    /// Resolves the targets, records the campaign, queues the query for every target's next
    /// check-in and starts the clock. Records a `live_query` activity.
    func startCampaign(
        user: AdminUser, sql: String, saved: SavedQuery?, selection: LiveQuerySelection, lifetime requested: TimeInterval?
    ) async throws -> StartedCampaign {
        let hub = liveQueries
        let settings = hub.settings
        if user.role < .maintainer, let requested, requested > settings.observerMaxCampaignLifetime {
            throw FleetAPIError.invalid(
                "queue_for_offline_seconds", "observers may keep a live query open at most \(Int(settings.observerMaxCampaignLifetime)) s")
        }
        // Held from here until the campaign ends; given back below if it never starts.
        let reservation: LiveQueryHub.Reservation
        do {
            reservation = try hub.reserve(for: LiveQueryOwner(userID: user.id, isAdmin: user.role == .admin))
        } catch {
            throw FleetAPIError(status: .tooManyRequests, message: "Too many live queries", errors: [.init(name: "base", reason: error.reason)])
        }
        var started = false
        defer { if !started { hub.release(reservation) } }
        let store = self.store
        var targets = Set<Int64>()
        if selection.all {
            targets.formUnion(registry.allHostIDs)
        } else {
            let hostIDs = selection.hostIDs
            let labelIDs = selection.labelIDs
            let existing = try await store.existingHostIDs(hostIDs)
            let members = try await store.hostIDs(inLabels: labelIDs)
            targets.formUnion(existing)
            targets.formUnion(members)
        }
        // Only hosts the check-in path knows can pick the query up.
        targets = targets.filter { registry.host(id: $0) != nil }
        if targets.isEmpty { throw FleetAPIError.invalid("selected", "no hosts targeted") }
        let now = clock()
        let online = registry.onlineHosts(among: targets, now: now)
        let lifetime = min(max(requested ?? settings.campaignLifetime, 1), settings.maxCampaignLifetime)
        let deadline = now.addingTimeInterval(lifetime)
        var described: [CampaignTarget] = selection.hostIDs.map { CampaignTarget(type: "host", id: $0) }
        described += selection.labelIDs.map { CampaignTarget(type: "label", id: $0) }
        if selection.all { described.append(CampaignTarget(type: "all", id: 0)) }
        let targetCount = targets.count
        let onlineCount = online.count
        let recordTargets = described
        let id = try await store.createCampaign(
                query: sql, queryID: saved?.id, user: (user.id, user.email), targets: recordTargets, targetedHostCount: targetCount,
                onlineHostCount: onlineCount, deadline: deadline, now: now)
        hub.start(id: id, sql: sql, targets: targets, online: online, deadline: deadline, registry: registry, reservation: reservation)
        started = true  // the hub holds the reservation now (and frees it if the id was taken)
        supervise(campaignID: id, lifetime: lifetime)
        var details: [(String, JSONValue)] = [("campaign_id", .int(id)), ("targets_count", .int(targetCount)), ("query_sql", .string(sql))]
        if let saved { details += [("query_id", .int(saved.id)), ("query_name", .string(saved.name))] }
        await recordActivity(user, "live_query", .object(details))
        guard let record = try await store.campaign(id: id) else { throw FleetAPIError.notFound("campaign \(id)") }
        return StartedCampaign(record: record, totals: LiveQueryTotals(targeted: targetCount, online: onlineCount))
    }

    /// Ends the campaign at its deadline and records how it ended. One task per campaign, asleep
    /// almost all the time.
    func supervise(campaignID id: Int64, lifetime: TimeInterval) {
        let hub = liveQueries
        let registry = self.registry
        let store = self.store
        let logger = self.logger
        guard let events = hub.subscribe(id: id, results: false) else { return }
        Task {
            let timer = Task {
                try await Task.sleep(for: .milliseconds(Int64(lifetime * 1000)))
                hub.finish(id: id, reason: .deadline, registry: registry)
            }
            var responded = 0
            for await event in events {
                if case .done(let totals, _) = event { responded = totals.responded }
            }
            timer.cancel()
            let final = responded
            do {
                try await store.finishCampaign(id: id, respondedHostCount: final)
            } catch {
                logger.error("cannot record the end of a live query", metadata: ["campaign_id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// Every answer of a campaign, waiting until it ends (all targets answered or its deadline).
    func collectResults(campaignID id: Int64) async throws -> [LiveQueryHostResult] {
        if let events = liveQueries.subscribe(id: id) {
            var results: [LiveQueryHostResult] = []
            var ended = false
            for await event in events {
                switch event {
                case .result(let result, _): results.append(result)
                case .done: ended = true
                case .keepAlive: break
                }
            }
            // Beyond the in-memory buffer, or when this listener was cut off for falling behind,
            // only the database has them all.
            if ended && results.count < liveQueries.settings.maxBufferedResults { return results }
        }
        let store = self.store
        return try await store.campaignResults(id: id)
    }

    /// Fleet's campaign object, with Pomona's progress counts.
    static func campaignJSON(_ record: CampaignRecord, totals: LiveQueryTotals, running: Bool) -> JSONValue {
        .object([
            ("id", .int(record.id)), ("query", .string(record.query)), ("query_id", record.queryID.map { .int($0) } ?? .null),
            ("user_id", record.userID.map { .int($0) } ?? .null), ("user_email", .string(record.userEmail)),
            ("status", .string(running ? "running" : "finished")), ("created_at", .date(record.createdAt)),
            ("deadline", .date(record.deadline)), ("finished_at", .date(record.finishedAt)),
            ("metrics", .object([
                ("total_hosts", .int(totals.targeted)), ("online_hosts", .int(totals.online)), ("offline_hosts", .int(totals.offline)),
                ("missing_in_action_hosts", .int(0)), ("responded_hosts", .int(totals.responded)),
                ("responded_online_hosts", .int(totals.respondedOnline)), ("failed_hosts", .int(totals.failed)), ("rows", .int(totals.rows)),
            ])),
            ("summary", .string(totals.summary)),
        ])
    }

    /// Totals of a stored campaign (finished, or run by another process).
    static func storedTotals(_ record: CampaignRecord, results: [LiveQueryHostResult]) -> LiveQueryTotals {
        LiveQueryTotals(
            targeted: record.targetedHostCount, online: record.onlineHostCount, responded: results.count,
            respondedOnline: min(results.count, record.onlineHostCount), failed: results.filter { $0.error != nil }.count,
            rows: results.reduce(0) { $0 + $1.rowCount })
    }

    /// The rows of a result as a JSON value (for synchronous answers; the stream splices bytes).
    static func rowsValue(_ result: LiveQueryHostResult) -> JSONValue {
        (try? JSONValue.parse(Array(result.rowsJSON.utf8))) ?? .array([])
    }
}
