import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization
import Testing
@testable import PomonaAdminAPI

/// The carve download streams the archive block by block.
@Suite struct CarveDownloadTests {
    /// Records each buffer a response body writes.
    final class Recording: Sendable {
        let chunks = Mutex<[Int]>([])
        let bytes = Mutex<[UInt8]>([])
    }

    struct RecordingWriter: ResponseBodyWriter {
        let recording: Recording
        func write(_ buffer: ByteBuffer) async throws {
            recording.chunks.withLock { $0.append(buffer.readableBytes) }
            recording.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static func storedCarve(_ harness: AdminTestHarness, payload: Data, blockSize: Int, complete: Bool = true) async throws -> CarveSession {
        _ = try await harness.store.addEnrollSecret("carve-test-secret-0123456789")
        let hostID = try await harness.addHost("carver")
        let count = (payload.count + blockSize - 1) / blockSize
        var carve = try await harness.store.beginCarve(
            hostID: hostID, sessionID: "s-1", carveID: "c-1", requestID: "r-1", blockCount: count, blockSize: blockSize,
            carveSize: payload.count)
        for block in 0..<(complete ? count : count - 1) {
            let chunk = payload[(block * blockSize)..<min(payload.count, (block + 1) * blockSize)]
            carve = try await harness.store.storeCarveBlock(sessionID: "s-1", blockID: block, data: Data(chunk))
        }
        return carve
    }

    @Test func theArchiveIsWrittenOneBlockAtATime() async throws {
        let harness = try await AdminTestHarness()
        let payload = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let carve = try await Self.storedCarve(harness, payload: payload, blockSize: 16_384)
        let body = harness.api.carveDownload(carve)
        #expect(body.contentLength == payload.count)
        let recording = Recording()
        try await body.write(RecordingWriter(recording: recording))
        #expect(recording.chunks.withLock { $0 } == [16_384, 16_384, 16_384, 50_000 - 3 * 16_384], "one write per block, none whole")
        #expect(Data(recording.bytes.withLock { $0 }) == payload)
    }

    @Test func theRouteStreamsTheWholeArchiveAndRefusesAnIncompleteOne() async throws {
        let harness = try await AdminTestHarness()
        let payload = Data((0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let carve = try await Self.storedCarve(harness, payload: payload, blockSize: 8192)
        try await harness.application.test(.router) { client in
            let response = try await client.call(.get, "/api/v1/fleet/carves/\(carve.id)/download", token: harness.tokens[.maintainer])
            #expect(response.status == .ok)
            #expect(response.headers[.contentLength] == String(payload.count))
            #expect(Data(response.body.readableBytesView) == payload)
        }

        let unfinished = try await AdminTestHarness()
        let partial = try await Self.storedCarve(unfinished, payload: payload, blockSize: 8192, complete: false)
        try await unfinished.application.test(.router) { client in
            let response = try await client.call(.get, "/api/v1/fleet/carves/\(partial.id)/download", token: unfinished.tokens[.maintainer])
            #expect(response.status == .conflict)
        }
    }
}
