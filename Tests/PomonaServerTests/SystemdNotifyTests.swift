import Testing

@testable import PomonaServer

@Suite struct SystemdNotifyTests {
    @Test func pathSocketAddressEndsWithNUL() throws {
        let address = try NotifySocketAddress("/run/systemd/notify")
        #expect(address.sunPath == Array("/run/systemd/notify".utf8) + [0])
    }

    @Test func abstractSocketAddressStartsWithNULAndHasNoTerminator() throws {
        let address = try NotifySocketAddress("@/org/freedesktop/systemd1/notify/123")
        #expect(address.sunPath == [0] + Array("/org/freedesktop/systemd1/notify/123".utf8))
    }

    @Test func badAddressesAreRefusedWithTheReason() {
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET is empty")) { try NotifySocketAddress("") }
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET names an empty abstract socket")) { try NotifySocketAddress("@") }
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET must be an absolute path or @abstract name, not vsock:2:1234")) {
            try NotifySocketAddress("vsock:2:1234")
        }
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET must be an absolute path or @abstract name, not run/notify")) {
            try NotifySocketAddress("run/notify")
        }
        // 107 path bytes + NUL fit sun_path; 108 do not.
        #expect(throws: Never.self) { try NotifySocketAddress("/" + String(repeating: "a", count: 106)) }
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET is longer than 108 bytes")) {
            try NotifySocketAddress("/" + String(repeating: "a", count: 107))
        }
        #expect(throws: Never.self) { try NotifySocketAddress("@" + String(repeating: "a", count: 107)) }
        #expect(throws: SystemdNotifyError("NOTIFY_SOCKET is longer than 108 bytes")) {
            try NotifySocketAddress("@" + String(repeating: "a", count: 108))
        }
    }

    @Test func noNotifySocketMeansNoNotifier() throws {
        #expect(try SystemdNotifier.fromEnvironment([:]) == nil)
        #expect(try SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "@x"])?.address.sunPath == [0, UInt8(ascii: "x")])
    }

    @Test func messageIsNewlineSeparatedAssignmentsWithNewlinesInValuesFlattened() {
        let bytes = SystemdNotifyMessage.encode([("READY", "1"), ("STATUS", "2 hosts\nenrolled\r")])
        #expect(String(decoding: bytes, as: UTF8.self) == "READY=1\nSTATUS=2 hosts enrolled ")
    }

    @Test func watchdogFromEnvironment() throws {
        #expect(try SystemdWatchdog.fromEnvironment([:], pid: 42) == nil)
        let armed = try #require(try SystemdWatchdog.fromEnvironment(["WATCHDOG_USEC": "30000000"], pid: 42))
        #expect(armed.timeout == .seconds(30))
        #expect(armed.pingInterval == .seconds(15))
        #expect(try SystemdWatchdog.fromEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"], pid: 42) == armed)
        #expect(
            try SystemdWatchdog.fromEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "41"], pid: 42) == nil,
            "a watchdog meant for another process (our parent) is not ours to feed")
        #expect(throws: SystemdNotifyError("WATCHDOG_USEC must be a positive number of microseconds, not 0")) {
            try SystemdWatchdog.fromEnvironment(["WATCHDOG_USEC": "0"], pid: 42)
        }
        #expect(throws: SystemdNotifyError("WATCHDOG_USEC must be a positive number of microseconds, not 3s")) {
            try SystemdWatchdog.fromEnvironment(["WATCHDOG_USEC": "3s"], pid: 42)
        }
    }
}

@Suite struct HealthMonitorTests {
    let parts = ["store writer", "spool writer", "event loop 0"]

    @Test func healthyWhileProbesComplete() {
        var monitor = HealthMonitor(parts: parts, stallAfter: 10, now: 0)
        for t in stride(from: 1.0, through: 100, by: 5) {
            for part in parts {
                let began = monitor.beginProbe(part, now: t)
                #expect(began)
                monitor.finishProbe(part, error: nil, now: t + 0.1)
            }
            #expect(monitor.stalled(now: t + 0.2).isEmpty)
        }
    }

    @Test func aProbeThatNeverReturnsStallsItsPartAfterStallAfter() {
        var monitor = HealthMonitor(parts: parts, stallAfter: 10, now: 0)
        for part in parts { _ = monitor.beginProbe(part, now: 1) }
        for part in parts where part != "store writer" { monitor.finishProbe(part, error: nil, now: 1) }
        #expect(monitor.stalled(now: 9).isEmpty, "within stallAfter of the start: not stalled yet")
        let second = monitor.beginProbe("store writer", now: 5)
        #expect(!second, "one outstanding probe per part, not a pile")
        for part in parts where part != "store writer" {
            _ = monitor.beginProbe(part, now: 11)
            monitor.finishProbe(part, error: nil, now: 11)
        }
        #expect(
            monitor.stalled(now: 12) == [.init(part: "store writer", reason: "no progress for 12 s (probe pending for 11 s)")])
        #expect(!monitor.isWorking("store writer", now: 12))
        #expect(monitor.isWorking("spool writer", now: 10), "the others are judged on their own probes")
        // The wedge clears: the pending probe finishes and the part is healthy at once.
        monitor.finishProbe("store writer", error: nil, now: 13)
        #expect(monitor.stalled(now: 13).isEmpty)
        #expect(monitor.isWorking("store writer", now: 13))
    }

    @Test func failingProbesStallAfterStallAfterButReadinessDropsAtOnce() {
        var monitor = HealthMonitor(parts: ["store writer"], stallAfter: 10, now: 0)
        _ = monitor.beginProbe("store writer", now: 1)
        monitor.finishProbe("store writer", error: nil, now: 1)
        let began = monitor.beginProbe("store writer", now: 2)
        #expect(began)
        monitor.finishProbe("store writer", error: "database is locked", now: 3)
        #expect(!monitor.isWorking("store writer", now: 3), "not ready after the first failure")
        #expect(monitor.stalled(now: 10).isEmpty, "but one failure does not restart the server")
        #expect(monitor.stalled(now: 12).map(\.description) == ["store writer: no progress for 11 s (database is locked)"])
        #expect(monitor.lastError("store writer") == "database is locked")
    }

    @Test func partsThatNeverStartAProbeStallToo() {
        let monitor = HealthMonitor(parts: ["event loop 1"], stallAfter: 5, now: 100)
        #expect(monitor.stalled(now: 104).isEmpty)
        #expect(monitor.stalled(now: 106).map(\.description) == ["event loop 1: no progress for 6 s (no probe completed)"])
    }
}
