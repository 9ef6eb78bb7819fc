import Foundation
import PomonaCore

/// File carves uploaded by hosts, block by block.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol CarveStore: Sendable {
    /// Opens a carve session. A host that starts the same carve again (its start's answer was
    /// lost and it retried) replaces its unfinished session; a carve already received in full
    /// is not taken twice.
    func beginCarve(hostID: Int64, sessionID: String, carveID: String, requestID: String, blockCount: Int, blockSize: Int, carveSize: Int, now: Date) async throws -> CarveSession
    /// Stores one block. Blocks come in order, one at a time; a repeat of a stored block (the agent's
    /// transparent resend, spec §8.3) is accepted and ignored. Every block but the last must be
    /// exactly `block_size` bytes, and the total must equal `carve_size`.
    /// - Returns: the session after the block, with `completedAt` set once every block is in.
    func storeCarveBlock(sessionID: String, blockID: Int, data: Data, now: Date) async throws -> CarveSession
    func carveSession(sessionID: String) async throws -> CarveSession?
    func carves() async throws -> [CarveSession]
    /// The reassembled upload of a completed carve, or `nil` while incomplete.
    func carveArchive(id: Int64) async throws -> Data?
    func carve(id: Int64) async throws -> CarveSession?
    /// One stored block of a carve, or `nil` when it has not arrived.
    func carveBlock(carveID: Int64, blockID: Int) async throws -> Data?
}

/// The defaults of ``CarveStore``'s parameters (a protocol requirement cannot have any).
extension CarveStore {
    public func beginCarve(hostID: Int64, sessionID: String, carveID: String, requestID: String, blockCount: Int, blockSize: Int, carveSize: Int) async throws -> CarveSession {
        try await beginCarve(hostID: hostID, sessionID: sessionID, carveID: carveID, requestID: requestID, blockCount: blockCount, blockSize: blockSize, carveSize: carveSize, now: Date())
    }

    public func storeCarveBlock(sessionID: String, blockID: Int, data: Data) async throws -> CarveSession {
        try await storeCarveBlock(sessionID: sessionID, blockID: blockID, data: data, now: Date())
    }
}
