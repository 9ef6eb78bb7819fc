import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Synchronization
import Testing

@testable import PomonaAdminAPI

/// Live queries in process: campaigns, the SSE stream, the synchronous forms and who may run what.
/// Agent answers are fed exactly as `distributed/write` does: stored through the writer, then
/// delivered to the hub.
@Suite struct LiveQueryRouteTests {
    func answer(_ h: AdminTestHarness, campaign: Int64, host: Int64, rows: String = #"[{"version":"5.12.1"}]"#, error: String? = nil) async throws {
        let count = (try JSONValue.parse(Array(rows.utf8))).arrayValue?.count ?? 0
        let result = LiveQueryHostResult(campaignID: campaign, hostID: host, rowsJSON: rows, rowCount: count, error: error, statsJSON: nil, receivedAt: Date())
        try await h.api.writer.write(.fleet(.campaignResult(result)))
        h.registry.completeQuery(name: LiveQueryName.name(campaignID: campaign), hostID: host)
        h.registry.liveQueries.deliver(result)
    }

    /// Waits (bounded) until a campaign is running and returns its id.
    func runningCampaign(_ h: AdminTestHarness, excluding: Set<Int64> = []) async throws -> Int64 {
        for _ in 0..<2_000 {
            if let id = h.registry.liveQueries.runningIDs.first(where: { !excluding.contains($0) }) { return id }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }

    @Test func campaignStreamsEveryResultThenDone() async throws {
        let h = try await AdminTestHarness()
        let now = h.now
        let alpha = try await h.addHost("alpha", seenAt: now)
        let beta = try await h.addHost("beta", seenAt: now)
        let gamma = try await h.addHost("gamma", createdAt: now.addingTimeInterval(-86400))
        let token = h.tokens[.maintainer]!
        try await h.application.test(.router) { client in
            let created = try await client.call(
                .post, "/api/v1/fleet/queries/run", token: token,
                body: #"{"query":"SELECT version FROM osquery_info;","selected":{"hosts":[\#(alpha),\#(beta),\#(gamma)]}}"#)
            #expect(created.status == .ok)
            let campaign = created.json["campaign"]
            let id = Int64(try #require(campaign?["id"]?.intValue))
            #expect(campaign?["metrics"]?["total_hosts"]?.intValue == 3)
            #expect(campaign?["metrics"]?["online_hosts"]?.intValue == 2)
            #expect(h.registry.liveQueries.snapshot(id: id)?.pendingHostIDs == [alpha, beta, gamma])

            try await answer(h, campaign: id, host: alpha)
            async let streamed = client.call(.get, "/api/v1/fleet/queries/run/\(id)/stream", token: token)
            try await answer(h, campaign: id, host: beta, rows: "[]")
            try await answer(h, campaign: id, host: gamma, rows: "[]", error: "no such table: osquery_info")
            let stream = try await streamed
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType] == "text/event-stream")
            let text = String(buffer: stream.body)
            #expect(text.components(separatedBy: "event: result\n").count - 1 == 3)
            #expect(text.contains(#""host":{"id":\#(alpha),"hostname":"alpha","display_name":"alpha"},"host_id":\#(alpha),"rows":[{"version":"5.12.1"}],"error":null"#))
            #expect(text.contains(#""error":"no such table: osquery_info""#))
            #expect(text.contains("event: done\n"))
            #expect(text.hasSuffix("\n\n"))

            let status = try await client.call(.get, "/api/v1/fleet/queries/run/\(id)", token: token)
            #expect(status.json["campaign"]?["status"] == .string("finished"))
            #expect(status.json["results"]?.arrayValue?.count == 3)
            // The stored campaign replays through the stream too.
            let replay = String(buffer: try await client.call(.get, "/api/v1/fleet/queries/run/\(id)/stream", token: token).body)
            #expect(replay.components(separatedBy: "event: result\n").count - 1 == 3)
            #expect(replay.contains("\"reason\":\"finished\""))

            let activity = try await h.store.activities(ListPage(sort: .id, descending: true, limit: 10)).first { $0.type == "live_query" }
            #expect(activity?.detailsJSON.contains("SELECT version FROM osquery_info;") == true)
            #expect(activity?.actor.email == "maintainer@example.com")
        }
    }

    @Test func whoMayRunWhat() async throws {
        let h = try await AdminTestHarness()
        let host = try await h.addHost("alpha", seenAt: h.now)
        let observer = h.tokens[.observer]!
        let maintainer = h.tokens[.maintainer]!
        try await h.application.test(.router) { client in
            let adHoc = try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: #"{"query":"SELECT 1;","selected":{"hosts":[\#(host)]}}"#)
            #expect(adHoc.status == .forbidden)
            let closed = try await client.call(.post, "/api/v1/fleet/queries", token: maintainer, body: #"{"name":"closed","query":"SELECT 1;"}"#)
            let open = try await client.call(.post, "/api/v1/fleet/queries", token: maintainer, body: #"{"name":"open","query":"SELECT 1;","observer_can_run":true}"#)
            let closedID = try #require(closed.json["query"]?["id"]?.intValue)
            let openID = try #require(open.json["query"]?["id"]?.intValue)
            #expect(try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: #"{"query_id":\#(closedID),"selected":{"hosts":[\#(host)]}}"#).status == .forbidden)
            let allowed = try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: #"{"query_id":\#(openID),"selected":{"hosts":[\#(host)]}}"#)
            #expect(allowed.status == .ok)
            let id = try #require(allowed.json["campaign"]?["id"]?.intValue)
            // Observers see their own campaigns; the maintainer may stop it.
            #expect(try await client.call(.get, "/api/v1/fleet/queries/run/\(id)", token: observer).status == .ok)
            let stopped = try await client.call(.delete, "/api/v1/fleet/queries/run/\(id)", token: maintainer)
            #expect(stopped.json["stopped"] == .bool(true))
            #expect(h.registry.liveQueries.activeCount == 0)

            let nobody = try await client.call(.post, "/api/v1/fleet/queries/run", token: maintainer, body: #"{"query":"SELECT 1;","selected":{"hosts":[4242]}}"#)
            #expect(nobody.firstError?.name == "selected")
            let badSQL = try await client.call(.post, "/api/v1/fleet/queries/run", token: maintainer, body: #"{"query":"SELECT * FROM nope_nope;","selected":{"all":true}}"#)
            #expect(badSQL.firstError?.name == "query")
            let byName = try await client.call(
                .post, "/api/v1/fleet/queries/run_by_identifiers", token: maintainer, body: #"{"query":"SELECT 1;","selected":{"labels":["All Hosts"]}}"#)
            #expect(byName.json["campaign"]?["metrics"]?["total_hosts"]?.intValue == 1)
            let unknownLabel = try await client.call(
                .post, "/api/v1/fleet/queries/run_by_identifiers", token: maintainer, body: #"{"query":"SELECT 1;","selected":{"labels":["Nope"]}}"#)
            #expect(unknownLabel.firstError?.name == "selected.labels")
        }
    }

    /// The probe's attack: an observer filled the one global cap (1,000 campaigns kept open for a
    /// week) and admins got 429. Now: a per-user cap, a shared cap admins are not counted in or
    /// refused by, and observers may not keep a campaign open for long.
    @Test func anObserverCannotLockOthersOutOfLiveQueries() async throws {
        let h = try await AdminTestHarness()
        let host = try await h.addHost("alpha", seenAt: h.now)
        var settings = h.registry.liveQueries.settings
        settings.maxCampaignsPerUser = 3
        settings.maxConcurrentCampaigns = 4
        h.registry.liveQueries.settings = settings
        let observer = h.tokens[.observer]!
        let maintainer = h.tokens[.maintainer]!
        let admin = h.tokens[.admin]!
        try await h.application.test(.router) { client in
            let open = try await client.call(.post, "/api/v1/fleet/queries", token: maintainer, body: #"{"name":"open","query":"SELECT 1;","observer_can_run":true}"#)
            let queryID = try #require(open.json["query"]?["id"]?.intValue)
            let week = try await client.call(
                .post, "/api/v1/fleet/queries/run", token: observer,
                body: #"{"query_id":\#(queryID),"selected":{"hosts":[\#(host)]},"queue_for_offline_seconds":604800}"#)
            #expect(week.status == .unprocessableContent)
            #expect(week.firstError?.name == "queue_for_offline_seconds")
            #expect(week.firstError?.reason == "observers may keep a live query open at most 3600 s")

            let run = #"{"query_id":\#(queryID),"selected":{"hosts":[\#(host)]},"queue_for_offline_seconds":3600}"#
            var observerCampaigns: [Int] = []
            for _ in 0..<3 {
                let started = try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: run)
                #expect(started.status == .ok)
                observerCampaigns += [try #require(started.json["campaign"]?["id"]?.intValue)]
            }
            let fourth = try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: run)
            #expect(fourth.status == .tooManyRequests)
            #expect(fourth.firstError?.reason.hasPrefix("you have 3 live queries open") == true)
            // The maintainer takes the last shared place; then the shared cap is full for non-admins ...
            #expect(try await client.call(.post, "/api/v1/fleet/queries/run", token: maintainer, body: run).status == .ok)
            let full = try await client.call(.post, "/api/v1/fleet/queries/run", token: maintainer, body: run)
            #expect(full.status == .tooManyRequests)
            #expect(full.firstError?.reason.hasPrefix("4 live queries of observers and maintainers are open") == true)
            // ... and an admin still runs live queries, up to the admin's own cap.
            for _ in 0..<3 {
                #expect(try await client.call(.post, "/api/v1/fleet/queries/run", token: admin, body: run).status == .ok)
            }
            #expect(try await client.call(.post, "/api/v1/fleet/queries/run", token: admin, body: run).status == .tooManyRequests)
            // A stopped campaign frees its place.
            #expect(try await client.call(.delete, "/api/v1/fleet/queries/run/\(observerCampaigns[0])", token: observer).status == .ok)
            #expect(try await client.call(.post, "/api/v1/fleet/queries/run", token: observer, body: run).status == .ok)
            #expect(h.registry.liveQueries.activeCount == 7)
        }
    }

    @Test func synchronousRunsWaitForTheAnswer() async throws {
        let h = try await AdminTestHarness()
        let now = h.now
        let alpha = try await h.addHost("alpha", seenAt: now)
        let offline = try await h.addHost("sleepy", createdAt: now.addingTimeInterval(-86400))
        var settings = h.registry.liveQueries.settings
        settings.synchronousWait = 30
        h.registry.liveQueries.settings = settings
        let token = h.tokens[.admin]!
        try await h.application.test(.router) { client in
            async let ran = client.call(.post, "/api/v1/fleet/hosts/identifier/alpha/query", token: token, body: #"{"query":"SELECT version FROM osquery_info;"}"#)
            let id = try await runningCampaign(h)
            try await answer(h, campaign: id, host: alpha)
            let response = try await ran
            #expect(response.json["status"] == .string("online"))
            #expect(response.json["rows"] == .array([.object([("version", .string("5.12.1"))])]))
            #expect(response.json["error"] == .null)

            let sleepy = try await client.call(.post, "/api/v1/fleet/hosts/\(offline)/query", token: token, body: #"{"query":"SELECT 1;"}"#)
            #expect(sleepy.json["status"] == .string("offline"))

            let saved = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: #"{"name":"v","query":"SELECT version FROM osquery_info;"}"#)
            let queryID = try #require(saved.json["query"]?["id"]?.intValue)
            async let savedRun = client.call(.post, "/api/v1/fleet/queries/\(queryID)/run", token: token, body: #"{"host_ids":[\#(alpha)]}"#)
            let second = try await runningCampaign(h, excluding: [id])
            try await answer(h, campaign: second, host: alpha, rows: #"[{"version":"5.13.0"}]"#)
            let result = try await savedRun
            #expect(result.json["responded_host_count"]?.intValue == 1)
            #expect(result.json["results"]?.arrayValue?.first?["rows"]?.arrayValue?.first?["version"] == .string("5.13.0"))
        }
    }
}
