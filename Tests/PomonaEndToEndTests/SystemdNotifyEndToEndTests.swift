import Foundation
import GRDB
import PomonaServer
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Holds SQLite's write lock on a database from another connection (as a stuck `sqlite3` shell
/// or backup tool would), so the server's store writer cannot commit: a real wedge, no hook in
/// the server needed.
final class WriteLockHolder: Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(databasePath: String) async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
        let release = self.release, finished = self.finished
        // The lock belongs to one connection used on one thread for its whole life.
        try await withCheckedThrowingContinuation { (locked: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try queue.inDatabase { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        locked.resume()
                        release.wait()
                        try db.execute(sql: "ROLLBACK")
                    }
                } catch {
                    locked.resume(throwing: error)
                }
                finished.signal()
            }
        }
    }

    func unlock() async {
        release.signal()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.finished.wait()
                done.resume()
            }
        }
    }
}

@Suite struct SystemdNotifyEndToEndTests {
    /// The notifier reaches a socket in the abstract namespace (`@name`), which has no file and
    /// whose address length must be exact.
    @Test func notifierSendsToAnAbstractSocket() async throws {
        let receiver = try NotifyReceiver(abstract: true)
        let notifier = try #require(try SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": receiver.address]))
        try notifier.send([("STATUS", "abstract works")])
        let got = try await receiver.next("STATUS", timeout: .seconds(10)) { _ in true }
        #expect(got.match == "STATUS=abstract works")
    }

    @Test func notifierSendsToAPathSocket() async throws {
        let receiver = try NotifyReceiver(abstract: false)
        let notifier = SystemdNotifier(address: try NotifySocketAddress(receiver.address))
        try notifier.send([("READY", "1"), ("STATUS", "path works")])
        let got = try await receiver.next("READY", timeout: .seconds(10)) { _ in true }
        #expect(got.match == "READY=1\nSTATUS=path works")
    }

    /// `pomona serve` under a fake service manager: READY=1 once it serves, watchdog pings while
    /// healthy, none while the store writer is wedged, pings again once it recovers, STOPPING=1
    /// and a clean exit on SIGTERM.
    @Test func serveReportsReadinessWatchdogAndStopping() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: PomonaProcess.binary.path), "pomona binary at \(PomonaProcess.binary.path)")
        let receiver = try NotifyReceiver(abstract: false)
        let cli = try CLIProcess()
        defer { cli.cleanUp() }
        let dataDirectory = cli.directory.appendingPathComponent("data")
        let agentPort = try PomonaProcess.freePort(), adminPort = try PomonaProcess.freePort()
        let server = try cli.start(
            [
                "serve", "--data-dir", dataDirectory.path, "--agent-listen", "127.0.0.1:\(agentPort)",
                "--admin-listen", "127.0.0.1:\(adminPort)", "--log-level", "notice",
            ],
            environment: [
                "NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "2000000",
                "POMONA_ENROLL_SECRET": "notify-test-enroll-secret-0001",
            ])
        defer { server.stop() }

        let ready = try await receiver.next("READY=1") { $0.notifyAssignments["READY"] == "1" }
        #expect(ready.before.allSatisfy { $0.notifyAssignments["READY"] == nil })
        #expect(ready.match.notifyAssignments["STATUS"] == "0 hosts enrolled, 0 online; pipeline backlog 0 events")
        // READY=1 means both listeners accept connections now.
        #expect(Self.canConnect(port: agentPort), "agent listener bound at READY=1")
        #expect(Self.canConnect(port: adminPort), "admin listener bound at READY=1")
        _ = try await receiver.next("a first WATCHDOG=1") { $0.notifyAssignments["WATCHDOG"] == "1" }

        // Wedge the store writer: another connection holds SQLite's write lock.
        let lock = try await WriteLockHolder(databasePath: dataDirectory.appendingPathComponent("pomona.sqlite").path)
        let stalled = try await receiver.next("STATUS naming the stalled writer") {
            $0.notifyAssignments["STATUS"]?.contains("stalled: store writer: no progress") == true
        }
        #expect(stalled.match.notifyAssignments["WATCHDOG"] == nil, "no ping in the message reporting the stall: \(stalled.match)")
        // Two more ticks (each sends a STATUS): still no ping while the lock is held.
        for tick in 0..<2 {
            let next = try await receiver.next("status tick \(tick) while wedged") { $0.notifyAssignments["STATUS"] != nil }
            #expect(next.match.notifyAssignments["WATCHDOG"] == nil, "pinged while the writer was wedged: \(next.match)")
            #expect(next.match.contains("stalled: store writer"))
        }

        // The lock goes away: the writer catches up and the pings resume.
        await lock.unlock()
        let resumed = try await receiver.next("WATCHDOG=1 after the writer recovered", timeout: .seconds(40)) {
            $0.notifyAssignments["WATCHDOG"] == "1"
        }
        #expect(resumed.match.notifyAssignments["STATUS"]?.contains("stalled") == false)

        kill(server.process.processIdentifier, SIGTERM)
        let stopping = try await receiver.next("STOPPING=1") { $0.notifyAssignments["STOPPING"] == "1" }
        #expect(stopping.match.notifyAssignments["STATUS"]?.hasPrefix("stopping") == true)
        let result = await server.wait()
        #expect(result.status == 0, "clean exit after SIGTERM: \(result)")
        #expect(result.stderr.contains("health: stalled, withholding watchdog pings"), "the stall is logged: \(result.stderr)")
    }

    /// A TCP connect to 127.0.0.1:`port` succeeds.
    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
