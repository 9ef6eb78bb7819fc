import Foundation
import Logging
import NIOCore
import PomonaPipeline
import PomonaServer
import PomonaSimulator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A data directory on a small tmpfs, so the disk can really fill up and then get space back.
/// Needs root (mount); CI runs as root. Outside CI, without root, the suite is skipped.
struct SmallDisk {
    let directory: URL

    static var canMount: Bool { geteuid() == 0 }

    init(megabytes: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-diskfull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", directory.path])
    }

    /// Gives the filesystem more room, as an operator freeing space would.
    func grow(to megabytes: Int) throws {
        try Self.mount(["-o", "remount,size=\(megabytes)m", directory.path])
    }

    func remove() {
        try? Self.mount(["-l", directory.path], command: "/bin/umount")
        try? FileManager.default.removeItem(at: directory)
    }

    private static func mount(_ arguments: [String], command: String = "/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EPERM) }
    }
}

@Suite(.serialized, .enabled(if: SmallDisk.canMount || ProcessInfo.processInfo.environment["CI"] != nil, "needs root to mount a small tmpfs"))
struct DiskFullTests {
    /// With the data directory full, `/log` answers error bodies (so agents keep their batches),
    /// nothing acknowledged is lost, and once space returns ingest and delivery carry on by
    /// themselves, without a restart.
    /// The disk fills exactly when the spool starts a new segment: the segment file is created
    /// (an empty file needs no blocks) but the record cannot be written. The append fails, and
    /// once space returns appends succeed again. They once failed for good (EBADF) until restart.
    @Test func spoolRecoversWhenTheDiskFillsAtASegmentRotation() async throws {
        let disk = try SmallDisk(megabytes: 2)
        defer { disk.remove() }
        var options = SpoolOptions(directory: disk.directory.appendingPathComponent("spool"))
        options.segmentBytes = 64 << 10
        let spool = try Spool(options: options, logger: Logger(label: "test"))
        let record = [ByteBuffer(string: #"{"pad":""# + String(repeating: "x", count: 40 << 10) + #""}"#)]
        try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: record)

        // Fill the rest of the disk.
        let filler = disk.directory.appendingPathComponent("filler").path
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        try #require(fd >= 0)
        let chunk = [UInt8](repeating: 0, count: 16 << 10)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)

        // 40 KiB more does not fit the 64 KiB segment: rotation, then no room for the record.
        await #expect(throws: (any Error).self) {
            try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: record)
        }
        unlink(filler)
        for _ in 0..<3 {
            try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: record)
        }
        await spool.close()
    }

    @Test func fullDataDirectorySurfacesErrorsAndRecovers() async throws {
        let disk = try SmallDisk(megabytes: 6)
        defer { disk.remove() }
        let server = try await RunningServer.start(dataDirectory: disk.directory) { configuration in
            // Small segments so that consumed ones are freed, and quick retries after the space returns.
            configuration.pipeline.configuration.spool.segmentBytes = 256 << 10
            configuration.pipeline.configuration.delivery.retry = .init(initialBackoff: 0.05, maxBackoff: 0.5)
        }
        do {
            try await withAgentClient { client in
                let agent = try server.agent(index: 0)
                _ = try await agent.enroll()
                let padding = String(repeating: "x", count: 900)
                var acknowledged = Set<String>()
                var failedBatches = 0
                var batch = 0

                // Fill the disk: ~45 KB per batch, so a few hundred batches cannot fit in 6 MB.
                while failedBatches == 0, batch < 2_000 {
                    let marks = (0..<50).map { "b\(batch)-l\($0)" }
                    let lines = marks.map { PomonaSimulator.JSONValue.object(["name": .string("disk_full"), "mark": .string($0), "pad": .string(padding)]) }
                    let result = await agent.sendLogs(type: .result, lines: lines)
                    if result.delivered { acknowledged.formUnion(marks) } else { failedBatches += 1 }
                    batch += 1
                }
                #expect(failedBatches == 1, "the disk never filled up in \(batch) batches")
                #expect(acknowledged.count > 100, "some batches must be acknowledged before the disk fills")
                // The agent keeps the refused batch (an error body, not `{}`), to resend it later.
                #expect(await agent.bufferedLogCount(.result) == 50)

                // Space comes back: the retained batch and new ones are accepted without a restart.
                try disk.grow(to: 64)
                var resent = false
                for _ in 0..<100 where !resent {
                    let result = await agent.sendLogs(type: .result, lines: [])
                    if result.delivered && result.remaining == 0 { resent = true } else { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(resent, "the retained batch was not accepted after space returned")
                acknowledged.formUnion((0..<50).map { "b\(batch - 1)-l\($0)" })

                // Everything acknowledged reaches the default file output.
                let file = disk.directory.appendingPathComponent("logs/osquery_result.log")
                var missing = acknowledged
                for _ in 0..<300 where !missing.isEmpty {
                    missing.subtract(Self.marks(in: file))
                    if !missing.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(missing.isEmpty, "\(missing.count) acknowledged lines never reached the output")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func marks(in file: URL) -> Set<String> {
        guard let data = try? Data(contentsOf: file) else { return [] }
        var marks = Set<String>()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? PomonaSimulator.JSONValue.parse(Array(line)) else { continue }
            if let mark = value["mark"]?.stringValue { marks.insert(mark) }
        }
        return marks
    }
}
