import Foundation
import GRDB
import PomonaCore
import PomonaServer
import PomonaSimulator
import PomonaStore
import Synchronization
import Testing

@Suite struct BackupUnderLoadTests {
    /// A backup taken while agents enroll and check in restores to a sound database holding
    /// every host whose enrollment was acknowledged before the backup started.
    @Test func backupDuringLoadRestoresEveryHostEnrolledBeforeIt() async throws {
        let running = try await RunningServer.start()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-backup-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let load = LoadState()
        var configuration = try running.agentConfiguration()
        configuration.identifierMode = .uuid
        let agentConfiguration = configuration
        let transport = try AgentTransport(tlsConfiguration: agentConfiguration.tlsConfiguration)

        let archive = work.appendingPathComponent("backup.tar").path
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Four streams of new hosts: enroll, then one distributed round each (detail writes).
            for stream in 0..<4 {
                group.addTask {
                    for index in 0..<100_000 where !load.stop.load(ordering: .relaxed) {
                        let agent = OsqueryAgent(
                            profile: HostProfile(seed: 77, index: stream * 100_000 + index, platform: .darwin),
                            configuration: agentConfiguration, transport: transport)
                        _ = try await agent.enroll()
                        let uuid = await agent.profile.hardwareUUID
                        load.enrolled.withLock { $0.append(uuid) }
                        _ = try? await agent.runDistributedOnce()
                    }
                }
            }
            // The backup, once the load is on.
            group.addTask {
                while load.enrolled.withLock({ $0.count }) < 40 { try await Task.sleep(for: .milliseconds(20)) }
                let snapshot = Set(load.enrolled.withLock { $0 })
                try PomonaBackup.create(configuration: running.server.configuration, configFile: nil, out: archive)
                load.stop.store(true, ordering: .relaxed)
                load.beforeBackup.withLock { $0 = snapshot }
            }
            try await group.waitForAll()
        }
        let beforeBackup = load.beforeBackup.withLock { $0 }
        await running.stop()

        let target = work.appendingPathComponent("restored").path
        _ = try PomonaBackup.restore(archive: archive, dataDirectory: target)
        #expect(try Datastore.integrityCheck(atPath: target + "/pomona.sqlite") == "ok")
        let queue = try DatabaseQueue(path: target + "/pomona.sqlite")
        let restoredHosts = try await queue.read { db in try String.fetchSet(db, sql: "SELECT osquery_host_id FROM hosts") }
        #expect(beforeBackup.count >= 40)
        #expect(beforeBackup.subtracting(restoredHosts).isEmpty, "hosts enrolled before the backup are all in it")
        // The restored directory serves: it opens (migrations are a no-op) with the same CA.
        let store = try Datastore(path: target + "/pomona.sqlite")
        #expect(try await store.hostCount() >= beforeBackup.count)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: target + "/tls/ca.pem"))
                == Data(contentsOf: running.dataDirectory.appendingPathComponent("tls/ca.pem")))
    }
}

/// Shared by the load tasks and the backup task.
private final class LoadState: Sendable {
    /// Hardware UUIDs of hosts whose enrollment was acknowledged, in order.
    let enrolled = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
    /// The hosts acknowledged before the backup began.
    let beforeBackup = Mutex<Set<String>>([])
}
