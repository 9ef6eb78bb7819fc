import Foundation
import Testing

@testable import PomonaCore

/// The admin API's status counts and filters come from a snapshot of the registry, so a status
/// query at 50,000 hosts does not walk them all in the lock every check-in takes.
@Suite struct StatusSnapshotTests {
    let start = Date(timeIntervalSince1970: 2_000_000)

    func host(_ id: Int64, seenAt: Date?) -> HostCheckInState {
        HostCheckInState(
            id: id, platform: .linux, hostnameKnown: true, createdAt: start.addingTimeInterval(-86400), seenAt: seenAt,
            detailUpdatedAt: start, refetchRequested: false, distributedInterval: 10)
    }

    func digest(_ n: UInt8) -> NodeKeyDigest { NodeKeyDigest(bytes: Array(repeating: n, count: 32))! }

    /// A check-in does not rebuild the snapshot: within its maximum age the counts are the
    /// snapshot's; after it, they follow the check-in.
    @Test func checkInsShowAfterTheSnapshotAges() {
        let registry = HostRegistry(statusSnapshotMaxAge: 1)
        registry.register(host(1, seenAt: start.addingTimeInterval(-600)), digest: digest(1))
        #expect(registry.statusCounts(now: start) == [.offline: 1])
        #expect(registry.authenticate(digest(1), now: start) == 1)

        #expect(registry.statusCounts(now: start.addingTimeInterval(0.5)) == [.offline: 1], "served from the snapshot")
        #expect(registry.partitionByStatus(.online, now: start.addingTimeInterval(0.5)).matching.isEmpty)
        #expect(registry.statusCounts(now: start.addingTimeInterval(1.5)) == [.online: 1], "rebuilt once it is a second old")
        #expect(registry.partitionByStatus(.online, now: start.addingTimeInterval(1.5)) == ([1], []))
    }

    /// Hosts that enroll or are deleted show at once: the snapshot of an older generation is dropped.
    @Test func enrollmentsAndDeletionsShowAtOnce() {
        let registry = HostRegistry(statusSnapshotMaxAge: 60)
        registry.register(host(1, seenAt: start), digest: digest(1))
        #expect(registry.statusCounts(now: start) == [.online: 1])
        registry.register(host(2, seenAt: nil), digest: digest(2))
        #expect(registry.statusCounts(now: start) == [.online: 1, .offline: 1])
        #expect(registry.statusCounts(ids: [2, 99], now: start) == [.offline: 1])
        registry.remove(hostID: 1)
        #expect(registry.statusCounts(now: start) == [.offline: 1])
        #expect(registry.partitionByStatus(.offline, now: start) == ([2], []))
    }

    /// Statuses are computed for the caller's time, not the snapshot's: a host goes missing on
    /// time even from an old snapshot, and a clock that moves back gets a fresh one.
    @Test func statusesAreForTheCallersTime() {
        let registry = HostRegistry(statusSnapshotMaxAge: 1)
        registry.register(host(1, seenAt: start.addingTimeInterval(-HostStatus.missingAfter + 0.5)), digest: digest(1))
        #expect(registry.statusCounts(now: start) == [.offline: 1])
        #expect(registry.statusCounts(now: start.addingTimeInterval(0.6)) == [.missing: 1])
        #expect(registry.authenticate(digest(1), now: start) == 1)
        #expect(registry.statusCounts(now: start.addingTimeInterval(-1)) == [.online: 1], "earlier than the snapshot: rebuilt")
    }
}
