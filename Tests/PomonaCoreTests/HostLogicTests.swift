import Foundation
import Testing

@testable import PomonaCore

@Suite struct HostStatusTests {
    let created = Date(timeIntervalSince1970: 1_000_000)

    @Test func fleetOnlineRule() {
        let now = created.addingTimeInterval(1000)
        // distributed 10, config 30 → online if seen within 70 s (fleet PR #7706).
        #expect(HostStatus.of(seenAt: now.addingTimeInterval(-69), createdAt: created, distributedInterval: 10, configTLSRefresh: 30, now: now) == .online)
        #expect(HostStatus.of(seenAt: now.addingTimeInterval(-70), createdAt: created, distributedInterval: 10, configTLSRefresh: 30, now: now) == .offline)
    }

    @Test func missingAfterThirtyDaysAndNeverSeenUsesCreation() {
        let now = created.addingTimeInterval(31 * 86400)
        #expect(HostStatus.of(seenAt: nil, createdAt: created, distributedInterval: nil, configTLSRefresh: nil, now: now) == .missing)
        #expect(HostStatus.of(seenAt: nil, createdAt: created, distributedInterval: nil, configTLSRefresh: nil, now: created.addingTimeInterval(5)) == .online)
        #expect(HostStatus.isNew(createdAt: created, now: created.addingTimeInterval(3600)))
        #expect(!HostStatus.isNew(createdAt: created, now: created.addingTimeInterval(86401)))
    }
}

@Suite struct DistributedReadPlannerTests {
    let now = Date(timeIntervalSince1970: 2_000_000)
    func host(id: Int64 = 7, platform: OsqueryPlatform? = .darwin, updated: Date, refetch: Bool = false, requested: Date? = nil) -> HostCheckInState {
        var h = HostCheckInState(id: id, platform: platform, hostnameKnown: true, createdAt: now.addingTimeInterval(-86400), seenAt: nil, detailUpdatedAt: updated, refetchRequested: refetch)
        h.detailRequestedAt = requested
        return h
    }

    @Test func newHostGetsDetailsAndAcceleration() {
        let planner = DistributedReadPlanner()
        let plan = planner.plan(host: host(platform: nil, updated: .distantPast), pending: [:], now: now)
        #expect(plan.includesDetailQueries)
        #expect(plan.accelerate == 60)
        #expect(plan.queries.allSatisfy { $0.0.hasPrefix("fleet_detail_query_") })
    }

    @Test func freshHostGetsNothing() {
        let plan = DistributedReadPlanner().plan(host: host(updated: now.addingTimeInterval(-60)), pending: [:], now: now)
        #expect(plan.isEmpty)
    }

    @Test func dueAfterIntervalPlusStableJitter() {
        let planner = DistributedReadPlanner(detailInterval: 3600)
        let jitter = planner.jitter(hostID: 7)
        #expect(jitter >= 0 && jitter < 360)
        #expect(jitter == planner.jitter(hostID: 7))
        #expect(!planner.detailsDue(host(updated: now.addingTimeInterval(-3600 - jitter + 1)), now: now))
        #expect(planner.detailsDue(host(updated: now.addingTimeInterval(-3600 - jitter)), now: now))
    }

    @Test func notResentWhileOutstandingButRefetchWins() {
        let planner = DistributedReadPlanner()
        #expect(!planner.detailsDue(host(updated: .distantPast, requested: now.addingTimeInterval(-10)), now: now))
        #expect(planner.detailsDue(host(updated: .distantPast, requested: now.addingTimeInterval(-301)), now: now))
        #expect(planner.detailsDue(host(updated: now, refetch: true), now: now))
    }

    @Test func platformSpecificDetailQueries() {
        let names = Set(DetailQuery.queries(for: .windows).map(\.name))
        #expect(names.contains("software_windows") && !names.contains("software_macos"))
        #expect(Set(DetailQuery.queries(for: .darwin).map(\.name)).contains("disk_encryption_darwin"))
    }

    @Test func pendingQueriesAreSortedAndKept() {
        let plan = DistributedReadPlanner().plan(host: host(updated: now), pending: ["b": "SELECT 2", "a": "SELECT 1"], now: now)
        #expect(plan.queries.map(\.0) == ["a", "b"])
    }
}

@Suite struct HostRegistryTests {
    let digest = NodeKeyDigest(bytes: Array(repeating: 1, count: 32))!
    let other = NodeKeyDigest(bytes: Array(repeating: 2, count: 32))!

    @Test func reEnrollReplacesTheOldKey() {
        let registry = HostRegistry()
        let now = Date()
        let state = HostCheckInState(id: 1, platform: .linux, hostnameKnown: true, createdAt: now, seenAt: nil, detailUpdatedAt: now, refetchRequested: false)
        registry.register(state, digest: digest)
        #expect(registry.authenticate(digest, now: now) == 1)
        registry.register(state, digest: other)
        #expect(registry.authenticate(digest, now: now) == nil)
        #expect(registry.authenticate(other, now: now) == 1)
        #expect(registry.drainSeen().keys.sorted() == [1])
        #expect(registry.drainSeen().isEmpty)
    }

    @Test func oneShotQueriesUntilAnswered() {
        let registry = HostRegistry()
        let now = Date()
        registry.register(HostCheckInState(id: 1, platform: .linux, hostnameKnown: true, createdAt: now, seenAt: nil, detailUpdatedAt: now, refetchRequested: false), digest: digest)
        registry.enqueue(name: "fleet_distributed_query_9", sql: "SELECT 1", hostIDs: [1, 2])
        #expect(registry.checkIn(digest, now: now)?.plan.queries.map(\.0) == ["fleet_distributed_query_9"])
        #expect(registry.checkIn(digest, now: now)?.plan.queries.count == 1, "handed out again until answered")
        registry.completeQuery(name: "fleet_distributed_query_9", hostID: 1)
        #expect(registry.checkIn(digest, now: now)?.plan.isEmpty == true)
    }

    @Test func digestHexRoundTrip() {
        #expect(NodeKeyDigest(hex: digest.hex) == digest)
        #expect(NodeKeyDigest(hex: "zz") == nil)
    }
}

@Suite struct DetailQueryIngestTests {
    @Test func systemInfoIgnoresPlaceholderSerials() {
        let v = DetailQueryIngest.systemInfo(row: ["hostname": "mac.local", "hardware_serial": "-1", "physical_memory": "17179869184", "cpu_brand": " Apple M2 "])
        #expect(v.hostname == "mac.local")
        #expect(v.hardwareSerial == nil)
        #expect(v.memoryBytes == 17_179_869_184)
        #expect(v.cpuBrand == "Apple M2")
    }

    @Test func osVersionFormatsLikeFleet() {
        #expect(DetailQueryIngest.osVersion(row: ["name": "macOS", "major": "14", "minor": "5", "patch": "0", "platform": "darwin"]).osVersion == "macOS 14.5.0")
        #expect(DetailQueryIngest.osVersion(row: ["name": "Ubuntu", "version": "22.04.4 LTS (Jammy Jellyfish)", "platform": "ubuntu"]).osVersion == "Ubuntu 22.04.4 LTS (Jammy Jellyfish)")
    }

    @Test func flagsGiveIntervals() {
        let v = DetailQueryIngest.osqueryFlags(rows: [["name": "distributed_interval", "value": "10"], ["name": "config_refresh", "value": "60"], ["name": "config_tls_refresh", "value": "0"]])
        #expect(v.distributedInterval == 10 && v.configTLSRefresh == 60)
    }

    @Test func softwareDeduplicates() throws {
        let q = try #require(DetailQuery.all.first { $0.name == "software_linux" })
        let rows = [["name": "bash", "version": "5.2", "source": "deb_packages"], ["name": "bash", "version": "5.2", "source": "deb_packages"], ["name": "", "version": "1"]]
        guard case .software(let items) = DetailQueryIngest.ingest(q, rows: rows) else { Issue.record("no software"); return }
        #expect(items.count == 1)
    }

    @Test func enrollmentDetailsGiveIdentity() throws {
        let details = try JSONValue.parse(Array(#"{"os_version":{"platform":"darwin","name":"macOS","major":"14","minor":"1","patch":"0"},"osquery_info":{"version":"5.23.1"},"system_info":{"hostname":"a.local","uuid":"U-1","hardware_serial":"C02X"}}"#.utf8))
        let v = EnrollmentDetails.vitals(from: details)
        #expect(v.platform == "darwin" && v.osqueryVersion == "5.23.1" && v.uuid == "U-1" && v.hardwareSerial == "C02X")
        #expect(v.platformFamily == .darwin)
    }
}
