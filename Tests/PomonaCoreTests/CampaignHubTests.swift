import Foundation
import Testing

@testable import PomonaCore

/// LiveQueryHub: targets, answers, replay to late subscribers, and the end of a campaign.
@Suite struct CampaignHubTests {
    let now = Date(timeIntervalSince1970: 4_000_000)

    func registry(hosts: [Int64]) -> (HostRegistry, [Int64: NodeKeyDigest]) {
        let registry = HostRegistry()
        var keys: [Int64: NodeKeyDigest] = [:]
        for id in hosts {
            let key = NodeKeyDigest(bytes: Array(repeating: UInt8(id), count: 32))!
            registry.register(
                HostCheckInState(id: id, platform: .darwin, hostnameKnown: true, createdAt: now, seenAt: now, detailUpdatedAt: now, refetchRequested: false),
                digest: key)
            keys[id] = key
        }
        return (registry, keys)
    }

    func result(_ campaign: Int64, _ host: Int64, rows: Int = 1, error: String? = nil) -> LiveQueryHostResult {
        LiveQueryHostResult(
            campaignID: campaign, hostID: host, rowsJSON: "[" + Array(repeating: "{\"a\":\"1\"}", count: rows).joined(separator: ",") + "]",
            rowCount: rows, error: error, statsJSON: nil, receivedAt: now)
    }

    @Test func targetsGetTheQueryAndTheLastAnswerEndsTheCampaign() async {
        let (registry, keys) = registry(hosts: [1, 2, 3])
        let hub = registry.liveQueries
        hub.start(id: 5, sql: "SELECT 1", targets: [1, 2], online: [1], deadline: now.addingTimeInterval(60), registry: registry)
        let plan = registry.checkIn(keys[1]!, now: now)!.plan
        #expect(plan.queries.contains { $0.0 == "fleet_distributed_query_5" && $0.1 == "SELECT 1" })
        #expect(!registry.checkIn(keys[3]!, now: now)!.plan.queries.contains { $0.0.hasPrefix("fleet_distributed_query_") })

        #expect(hub.deliver(result(5, 1, rows: 2)))
        #expect(!hub.deliver(result(5, 1)), "a resent answer counts once")
        #expect(!hub.deliver(result(5, 3)), "not a target")
        let events = hub.subscribe(id: 5)!
        #expect(hub.deliver(result(5, 2, rows: 0, error: "no such table: x")))
        #expect(hub.snapshot(id: 5) == nil, "finished")
        var seen: [LiveQueryEvent] = []
        for await event in events { seen.append(event) }
        #expect(seen.count == 3)
        guard case .result(let first, let firstTotals) = seen[0], case .done(let totals, let reason) = seen[2] else {
            Issue.record("unexpected events \(seen)")
            return
        }
        #expect(first.hostID == 1 && firstTotals.responded == 1)
        #expect(reason == .allResponded)
        #expect(totals == LiveQueryTotals(targeted: 2, online: 1, responded: 2, respondedOnline: 1, failed: 1, rows: 2))
        #expect(totals.summary.hasPrefix("100% responded | 1 of 1 online hosts responded"))
    }

    @Test func finishingEarlyWithdrawsTheQueryFromHostsThatDidNotAnswer() async {
        let (registry, keys) = registry(hosts: [1, 2])
        let hub = registry.liveQueries
        hub.start(id: 8, sql: "SELECT 2", targets: [1, 2], online: [1, 2], deadline: now, registry: registry)
        hub.deliver(result(8, 1))
        let events = hub.subscribe(id: 8)!
        let totals = hub.finish(id: 8, reason: .cancelled, registry: registry)
        #expect(totals?.responded == 1)
        #expect(registry.checkIn(keys[2]!, now: now)!.plan.isEmpty, "the query is no longer pending")
        var last: LiveQueryEvent?
        for await event in events { last = event }
        #expect(last == .done(totals!, .cancelled))
        #expect(hub.finish(id: 8, reason: .deadline, registry: registry) == nil)
        #expect(hub.subscribe(id: 8) == nil)
    }

    @Test func resultHookSeesEveryAnswerWithTheSQL() {
        let (registry, _) = registry(hosts: [1])
        let hub = registry.liveQueries
        let seen = Mutex<[String]>([])
        hub.setResultHook { result, sql in seen.withLock { $0.append("\(result.hostID):\(sql)") } }
        hub.start(id: 1, sql: "SELECT 3", targets: [1], online: [1], deadline: now, registry: registry)
        hub.deliver(result(1, 1))
        #expect(seen.withLock { $0 } == ["1:SELECT 3"])
    }

    @Test func manyCampaignsOnOneHostAreAllHandedOut() {
        let (registry, keys) = registry(hosts: [1])
        let hub = registry.liveQueries
        for id in 1...200 { hub.start(id: Int64(id), sql: "SELECT \(id)", targets: [1], online: [1], deadline: now, registry: registry) }
        #expect(hub.activeCount == 200)
        #expect(registry.checkIn(keys[1]!, now: now)!.plan.queries.count == 200)
    }
}

import Synchronization
