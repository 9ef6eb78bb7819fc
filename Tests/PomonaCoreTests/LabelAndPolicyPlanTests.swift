import Foundation
import Testing

@testable import PomonaCore

/// Label and policy queries on the check-in plan: when they are due, for which platforms, and
/// that an answered host goes back to the empty read.
@Suite struct LabelAndPolicyPlanTests {
    let now = Date(timeIntervalSince1970: 3_000_000)

    func host(platform: OsqueryPlatform? = .linux) -> HostCheckInState {
        HostCheckInState(
            id: 11, platform: platform, hostnameKnown: true, createdAt: now.addingTimeInterval(-86400), seenAt: nil, detailUpdatedAt: now,
            refetchRequested: false)
    }

    let queries = HostEvaluationQueries(
        labels: [
            HostEvaluationQuery(id: 1, sql: "SELECT 1;", platform: ""),
            HostEvaluationQuery(id: 2, sql: "SELECT 1 FROM os_version WHERE platform = 'darwin';", platform: "darwin"),
            HostEvaluationQuery(id: 3, sql: "SELECT 1 FROM os_version WHERE platform = 'ubuntu';", platform: "ubuntu"),
        ],
        policies: [HostEvaluationQuery(id: 9, sql: "SELECT 1 FROM users WHERE uid = 0;", platform: "")],
        labelsChangedAt: Date(timeIntervalSince1970: 1_000), policiesChangedAt: Date(timeIntervalSince1970: 1_000))

    @Test func platformFilterSelectsLabelQueries() {
        let plan = DistributedReadPlanner().plan(host: host(platform: .linux), pending: [:], evaluations: queries, now: now)
        let names = plan.queries.map(\.0)
        #expect(names.contains("fleet_label_query_1"))
        #expect(names.contains("fleet_label_query_3"), "ubuntu is a Linux distribution")
        #expect(!names.contains("fleet_label_query_2"))
        #expect(names.contains("fleet_policy_query_9"))
        #expect(plan.includesLabelQueries && plan.includesPolicyQueries)
    }

    @Test func unknownPlatformGetsEveryLabelQuery() {
        let plan = DistributedReadPlanner().plan(host: host(platform: nil), pending: [:], evaluations: queries, now: now)
        #expect(Set(plan.queries.map(\.0)).isSuperset(of: ["fleet_label_query_1", "fleet_label_query_2", "fleet_label_query_3"]))
    }

    @Test func registryHandsThemOutOnceThenIdlesAfterTheAnswer() {
        let registry = HostRegistry()
        let key = NodeKeyDigest(bytes: Array(repeating: 3, count: 32))!
        registry.register(host(), digest: key)
        registry.setEvaluationQueries(queries)
        let first = registry.checkIn(key, now: now)!.plan
        #expect(first.includesLabelQueries)
        // Handed out and not yet answered: not resent on the next poll.
        let second = registry.checkIn(key, now: now.addingTimeInterval(10))!.plan
        #expect(second.isEmpty)
        registry.labelsEvaluated(hostID: 11, at: now.addingTimeInterval(12))
        registry.policiesEvaluated(hostID: 11, at: now.addingTimeInterval(12))
        #expect(registry.checkIn(key, now: now.addingTimeInterval(400))!.plan.isEmpty, "answered: idle until the interval passes")
        // After the interval (plus at most 10 % jitter) they are due again.
        let later = registry.checkIn(key, now: now.addingTimeInterval(12 + 3600 * 1.1 + 1))!.plan
        #expect(later.includesLabelQueries && later.includesPolicyQueries)
    }

    @Test func aChangedLabelSetIsDueAtOnce() {
        let registry = HostRegistry()
        let key = NodeKeyDigest(bytes: Array(repeating: 4, count: 32))!
        registry.register(host(), digest: key)
        registry.setEvaluationQueries(queries)
        _ = registry.checkIn(key, now: now)
        registry.labelsEvaluated(hostID: 11, at: now)
        registry.policiesEvaluated(hostID: 11, at: now)
        let changed = HostEvaluationQueries(
            labels: [HostEvaluationQuery(id: 5, sql: "SELECT 1 FROM processes;", platform: "")], policies: [],
            labelsChangedAt: now.addingTimeInterval(60))
        registry.setEvaluationQueries(changed)
        let plan = registry.checkIn(key, now: now.addingTimeInterval(400))!.plan
        #expect(plan.queries.map(\.0) == ["fleet_label_query_5"])
        #expect(!plan.includesPolicyQueries)
    }

    @Test func unparseablePlatformSelectsNobodyButUnknownHosts() {
        let odd = HostEvaluationQueries(labels: [HostEvaluationQuery(id: 1, sql: "SELECT 1;", platform: "amiga")], policies: [])
        #expect(odd.labelQueries(for: .darwin).isEmpty)
        #expect(odd.labelQueries(for: nil).count == 1)
    }

    @Test func namesAndOutcomes() {
        #expect(HostEvaluationQueries.labelID(distributedName: "fleet_label_query_42") == 42)
        #expect(HostEvaluationQueries.labelID(distributedName: "fleet_label_query_x") == nil)
        #expect(HostEvaluationQueries.policyID(distributedName: "fleet_policy_query_7") == 7)
        #expect(HostEvaluationQueries.policyID(distributedName: "fleet_label_query_7") == nil)
        #expect(LiveQueryName.campaignID(distributedName: "fleet_distributed_query_9") == 9)
        #expect(HostEvaluationOutcome(status: 0, rowCount: 2) == .yes)
        #expect(HostEvaluationOutcome(status: 0, rowCount: 0) == .no)
        #expect(HostEvaluationOutcome(status: 1, rowCount: 0).boolValue == nil)
    }
}
