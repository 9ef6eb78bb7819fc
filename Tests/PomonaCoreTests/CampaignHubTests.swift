import Foundation
import Synchronization
import Testing

@testable import PomonaCore

/// LiveQueryHub: targets, answers, replay to late subscribers, and the end of a campaign.
@Suite struct CampaignHubTests {
    let now = Date(timeIntervalSince1970: 4_000_000)

    func registry(hosts: [Int64]) -> (HostRegistry, [Int64: NodeKeyDigest]) {
        let registry = HostRegistry()
        var keys: [Int64: NodeKeyDigest] = [:]
        for id in hosts {
            var bytes = [UInt8](repeating: 7, count: 32)
            bytes[0] = UInt8(truncatingIfNeeded: id)
            bytes[1] = UInt8(truncatingIfNeeded: id >> 8)
            let key = NodeKeyDigest(bytes: bytes)!
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

    /// Listeners that go away (their task cancelled) while results are delivered: the stream's
    /// termination handler once took the campaign's lock, which `deliver` holds while it wakes
    /// listeners, and the two deadlocked. A deadlock hangs the test.
    @Test(.timeLimit(.minutes(1))) func listenersCancelledWhileResultsArriveNeverDeadlock() async {
        let hosts = Array(Int64(1)...20_000)
        let (registry, _) = registry(hosts: hosts)
        let hub = registry.liveQueries
        hub.settings.maxBufferedResults = 16  // keep each new listener's replay short
        hub.start(id: 9, sql: "SELECT 1", targets: Set(hosts), online: Set(hosts), deadline: now.addingTimeInterval(60), registry: registry)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for host in hosts {
                    hub.deliver(self.result(9, host))
                    if host % 8 == 0 { await Task.yield() }
                }
            }
            group.addTask {
                for _ in 0..<3_000 {
                    guard let events = hub.subscribe(id: 9) else { return }
                    let listener = Task { for await _ in events {} }
                    await Task.yield()
                    listener.cancel()
                }
            }
        }
        #expect(hub.snapshot(id: 9) == nil, "every host answered, so the campaign ended")
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

    /// A listener that stops reading is cut off once it is `subscriberBuffer` results behind: its
    /// stream ends without `done`, while a listener that keeps up still sees every result and
    /// `done`, and an end-only listener (the supervisor) sees only `done`.
    @Test func aListenerThatFallsBehindIsCutOffAndOthersAreNot() async {
        let count = LiveQueryHub.subscriberBuffer + 10
        let hosts = (1...Int64(count)).map { $0 }
        let registry = HostRegistry(liveQueries: LiveQueryHub(settings: LiveQuerySettings(maxBufferedResults: 0)))
        let hub = registry.liveQueries
        hub.start(id: 9, sql: "SELECT 1", targets: Set(hosts), online: Set(hosts), deadline: now.addingTimeInterval(60), registry: registry)
        let stalled = hub.subscribe(id: 9)!
        let endOnly = hub.subscribe(id: 9, results: false)!
        var reader = hub.subscribe(id: 9)!.makeAsyncIterator()
        var readerResults = 0
        for host in hosts {
            hub.deliver(result(9, host))
            if case .result = await reader.next() { readerResults += 1 }  // keeps up: reads each as it comes
        }
        let readerDone = await reader.next().map { if case .done = $0 { true } else { false } } ?? false
        var stalledResults = 0
        var stalledDone = false
        for await event in stalled {
            if case .result = event { stalledResults += 1 }
            if case .done = event { stalledDone = true }
        }
        #expect(stalledResults == LiveQueryHub.subscriberBuffer + 1, "the buffer, then cut off")
        #expect(!stalledDone)
        var endEvents: [LiveQueryEvent] = []
        for await event in endOnly { endEvents.append(event) }
        #expect(endEvents.count == 1)
        if case .done(let totals, .allResponded) = endEvents.first { #expect(totals.responded == count) } else { Issue.record("\(endEvents)") }
        #expect(readerResults == count && readerDone, "a listener that keeps up gets every result and done")
    }

    @Test func keepAlivesArriveWhileNobodyAnswers() async {
        let (registry, _) = registry(hosts: [1])
        let hub = registry.liveQueries
        hub.start(id: 11, sql: "SELECT 1", targets: [1], online: [1], deadline: now.addingTimeInterval(60), registry: registry)
        let events = hub.subscribe(id: 11, keepAlive: .milliseconds(20))!
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .keepAlive)
        #expect(await iterator.next() == .keepAlive)
        hub.deliver(result(11, 1))
        var rest: [LiveQueryEvent] = []
        while let event = await iterator.next() { rest.append(event) }
        #expect(rest.contains { if case .done = $0 { true } else { false } })
    }
}

/// The hub frees a campaign's place under the caps however it ends, exactly once.
@Suite struct CampaignHubAdmissionTests {
    let now = Date(timeIntervalSince1970: 4_000_000)
    let owner = LiveQueryOwner(userID: 5, isAdmin: false)

    @Test func aPlaceIsHeldFromReservationUntilTheEnd() throws {
        let registry = HostRegistry(liveQueries: LiveQueryHub(settings: LiveQuerySettings(maxConcurrentCampaigns: 10, maxCampaignsPerUser: 2)))
        let hub = registry.liveQueries
        let first = try hub.reserve(for: owner)
        let second = try hub.reserve(for: owner)
        #expect(throws: LiveQueryAdmission.Refusal.perUser(limit: 2)) { try hub.reserve(for: owner) }
        hub.start(id: 1, sql: "SELECT 1", targets: [1], online: [1], deadline: now, registry: registry, reservation: first)
        hub.start(id: 2, sql: "SELECT 1", targets: [1], online: [1], deadline: now, registry: registry, reservation: second)
        #expect(hub.openCount(userID: 5) == 2)
        // Ended by its last answer, then stopped by a user (twice): one place each, freed once.
        hub.deliver(LiveQueryHostResult(campaignID: 1, hostID: 1, rowsJSON: "[]", rowCount: 0, error: nil, statsJSON: nil, receivedAt: now))
        #expect(hub.openCount(userID: 5) == 1)
        hub.finish(id: 2, reason: .cancelled, registry: registry)
        hub.finish(id: 2, reason: .cancelled, registry: registry)
        #expect(hub.openCount(userID: 5) == 0)
        // A reservation whose campaign is never started is given back.
        let unused = try hub.reserve(for: owner)
        hub.release(unused)
        #expect(hub.openCount(userID: 5) == 0)
        // A start refused for a running id gives its reservation back too.
        let third = try hub.reserve(for: owner)
        hub.start(id: 3, sql: "SELECT 1", targets: [1], online: [1], deadline: now, registry: registry)
        #expect(!hub.start(id: 3, sql: "SELECT 1", targets: [1], online: [1], deadline: now, registry: registry, reservation: third))
        #expect(hub.openCount(userID: 5) == 0)
    }
}
