import NIOCore
import Testing

@testable import PomonaAgentAPI

/// The agent listener's bounds as plain state: what is charged, counted and when time is up.
@Suite struct ListenerLimitsTests {
    // MARK: Body budget

    @Test func theBudgetGrantsWhatFitsAndNothingElse() {
        let budget = BodyBudget(capacity: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41), "more than is left")
        #expect(budget.inUse == 60, "a refused reservation took something")
        #expect(budget.reserve(40))
        budget.release(60)
        #expect(budget.inUse == 40)
    }

    @Test func aChargeCountsOnlyBytesBeyondTheFreeAllowanceAndGrowsWithTheBody() {
        let budget = BodyBudget(capacity: 100 << 10)
        let free = BodyBudget.freeBytes
        var charge = BodyCharge()
        do {
            let value = charge.hold(free, in: budget)
            #expect(value)
        }
        #expect(budget.inUse == 0)
        do {
            let value = charge.hold(free + 10_000, in: budget)
            #expect(value)
        }
        #expect(budget.inUse == 10_000)
        do {
            let value = charge.hold(free + 30_000, in: budget)
            #expect(value)
        }
        #expect(budget.inUse == 30_000, "charged twice for the same bytes")
        do {
            let value = charge.hold(free + 20_000, in: budget)
            #expect(value, "holding less never fails")
        }
        #expect(budget.inUse == 30_000)

        var other = BodyCharge()
        do {
            let value = other.hold(free + 80_000, in: budget)
            #expect(!value, "over what the first left")
        }
        #expect(budget.inUse == 30_000)
        charge.release(to: budget)
        #expect(budget.inUse == 0)
        do {
            let value = other.hold(free + 80_000, in: budget)
            #expect(value)
        }
        other.release(to: budget)
        other.release(to: budget)
        #expect(budget.inUse == 0, "a second release gave back more than was held")
    }

    // MARK: Connections per address

    static func address(_ ip: String) throws -> SocketAddress { try SocketAddress(ipAddress: ip, port: 40000) }

    @Test func connectionsAreLimitedPerAddressAndReleased() throws {
        let limiter = ConnectionLimiter(perSource: 2)
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let a = try Self.address("192.0.2.7"), b = try Self.address("192.0.2.8")
        guard case .admitted(let first) = limiter.admit(a, now: now), case .admitted = limiter.admit(a, now: now) else {
            Issue.record("the first two were refused")
            return
        }
        #expect(limiter.admit(a, now: now) == .refused(report: 1), "the first refusal is reported at once")
        #expect(limiter.admit(a, now: now) == .refused(report: nil), "every refusal is logged")
        #expect(limiter.admit(b, now: now) != .refused(report: nil) && limiter.openConnections(from: b) == 1, "another address is limited too")
        limiter.release(first)
        #expect(limiter.openConnections(from: a) == 1)
        #expect(limiter.admit(a, now: now) == .admitted(.v4(0xC000_0207)))
        // A minute later the next refusal reports the ones in between.
        #expect(limiter.admit(a, now: now + .minutes(1)) == .refused(report: 2))
    }

    @Test func theMachinesOwnLoopbackIsNotLimitedAndIPv6CountsPerPrefix() throws {
        #expect(ConnectionLimiter.Source(try Self.address("127.0.0.1")) == nil)
        #expect(ConnectionLimiter.Source(try Self.address("::1")) == nil)
        #expect(ConnectionLimiter.Source(try Self.address("::ffff:127.0.0.1")) == nil)
        #expect(ConnectionLimiter.Source(try Self.address("127.0.0.2")) == .v4(0x7F00_0002))
        #expect(ConnectionLimiter.Source(try Self.address("::ffff:192.0.2.7")) == .v4(0xC000_0207))
        let one = ConnectionLimiter.Source(try Self.address("2001:db8:1:2::1"))
        #expect(one == .v6Prefix(0x2001_0db8_0001_0002))
        #expect(one == ConnectionLimiter.Source(try Self.address("2001:db8:1:2:ffff:1:2:3")), "one /64, two sources")
        #expect(one != ConnectionLimiter.Source(try Self.address("2001:db8:1:3::1")))

        let limiter = ConnectionLimiter(perSource: 1)
        let now = NIODeadline.uptimeNanoseconds(0)
        for _ in 0..<5 { #expect(limiter.admit(try Self.address("127.0.0.1"), now: now) == .admitted(nil)) }
        #expect(limiter.admit(try Self.address("2001:db8::1"), now: now) == .admitted(.v6Prefix(0x2001_0db8_0000_0000)))
        #expect(limiter.admit(try Self.address("2001:db8::2"), now: now) == .refused(report: 1))
        let unlimited = ConnectionLimiter(perSource: 0)
        for _ in 0..<5 { #expect(unlimited.admit(try Self.address("192.0.2.1"), now: now) == .admitted(nil)) }
    }

    @Test func refusalsAreReportedFirstAtOnceThenOnceAMinuteWithTheirCount() {
        var tally = RefusalTally()
        let start = NIODeadline.uptimeNanoseconds(5_000_000_000)
        do {
            let value = tally.refused(now: start)
            #expect(value == 1)
        }
        do {
            let value = tally.refused(now: start + .seconds(1))
            #expect(value == nil)
        }
        do {
            let value = tally.refused(now: start + .seconds(59))
            #expect(value == nil)
        }
        do {
            let value = tally.refused(now: start + .seconds(60))
            #expect(value == 3)
        }
        do {
            let value = tally.refused(now: start + .seconds(61))
            #expect(value == nil)
        }
        do {
            let value = tally.refused(now: start + .minutes(10))
            #expect(value == 2)
        }
    }

    // MARK: Request deadlines

    @Test func aBodyIsGivenTheFloorPlusItsLengthAtTheMinimumRate() {
        let deadlines = RequestDeadlines(head: .seconds(30), bodyFloor: .seconds(30), bodyBytesPerSecond: 16 << 10)
        #expect(deadlines.body(length: 0) == .seconds(30))
        #expect(deadlines.body(length: 1 << 20) == .seconds(30 + 64))
        #expect(deadlines.body(length: 64 << 20) == .seconds(30 + 4096))
    }

    @Test func aHeadsDeadlineRunsFromItsFirstByteNotFromEachByte() {
        var clock = RequestClock(deadlines: RequestDeadlines(head: .seconds(30), bodyFloor: .seconds(10), bodyBytesPerSecond: 1000))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(clock.deadline == nil)
        do {
            let value = clock.headPending(now: t0)
            #expect(value == t0 + .seconds(30))
        }
        // Another byte 20 s later does not move it (the idle timeout would have been reset).
        do {
            let value = clock.headPending(now: t0 + .seconds(20))
            #expect(value == t0 + .seconds(30))
        }
        #expect(!clock.hasExpired(now: t0 + .seconds(29)))
        #expect(clock.hasExpired(now: t0 + .seconds(30)))
    }

    @Test func aBodysDeadlineRunsFromTheEndOfItsHeadAndTheNextRequestStartsAfresh() {
        var clock = RequestClock(deadlines: RequestDeadlines(head: .seconds(30), bodyFloor: .seconds(10), bodyBytesPerSecond: 1000))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = clock.headPending(now: t0)
        do {
            let value = clock.bodyPending(length: 5000, now: t0 + .seconds(2))
            #expect(value == t0 + .seconds(2 + 10 + 5))
        }
        do {
            let value = clock.bodyPending(length: 5000, now: t0 + .seconds(9))
            #expect(value == t0 + .seconds(17), "moved by later bytes")
        }
        #expect(!clock.hasExpired(now: t0 + .seconds(16)))
        #expect(clock.hasExpired(now: t0 + .seconds(17)))
        clock.complete()
        #expect(clock.deadline == nil)
        #expect(!clock.hasExpired(now: t0 + .hours(1)), "an idle connection is the idle timeout's")
        do {
            let value = clock.headPending(now: t0 + .hours(1))
            #expect(value == t0 + .hours(1) + .seconds(30))
        }
    }

    @Test func aChunkedBodyEarnsTimeWithEveryByteAtTheMinimumRate() {
        var clock = RequestClock(deadlines: RequestDeadlines(head: .seconds(30), bodyFloor: .seconds(10), bodyBytesPerSecond: 1000))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        do {
            let deadline = clock.streamingBodyReceived(0, now: t0)
            #expect(deadline == t0 + .seconds(10))
        }
        do {
            let deadline = clock.streamingBodyReceived(5000, now: t0 + .seconds(8))
            #expect(deadline == t0 + .seconds(15), "measured from the end of the head, not from the last bytes")
        }
        #expect(!clock.hasExpired(now: t0 + .seconds(14)))
        #expect(clock.hasExpired(now: t0 + .seconds(15)))
    }
}
