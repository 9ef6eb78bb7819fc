import Foundation
import GRDB

/// A file carve session (protocol spec §8): the agent uploads a tar (or zstd of a tar) in blocks.
public struct CarveSession: Sendable, Equatable {
    public var id: Int64
    public var hostID: Int64?
    public var sessionID: String
    public var carveID: String
    public var requestID: String
    public var blockCount: Int
    public var blockSize: Int
    public var carveSize: Int
    public var blocksReceived: Int
    public var createdAt: Date
    public var completedAt: Date?
    public var error: String?
}

/// Why a carve block was refused.
public enum CarveBlockError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownSession
    case blockOutOfRange(Int, count: Int)
    case wrongSize(block: Int, expected: Int, got: Int)
    case outOfOrder(block: Int, expected: Int)

    public var description: String {
        switch self {
        case .unknownSession: return "unknown carve session"
        case .blockOutOfRange(let b, let count): return "block_id \(b) is outside 0..<\(count)"
        case .wrongSize(let b, let expected, let got): return "block \(b) holds \(got) bytes, expected \(expected)"
        case .outOfOrder(let b, let expected): return "block \(b) arrived before block \(expected)"
        }
    }
}

/// Why a carve could not be started.
public enum CarveBeginError: Error, Equatable, Sendable, CustomStringConvertible {
    case alreadyReceived(carveID: String)

    public var description: String {
        switch self {
        case .alreadyReceived(let id): return "carve \(id) was already received in full"
        }
    }
}

extension Datastore {
    /// Opens a carve session. A host that starts the same carve again (its start's answer was
    /// lost and it retried) replaces its unfinished session; a carve already received in full
    /// is not taken twice.
    public func beginCarve(
        hostID: Int64, sessionID: String, carveID: String, requestID: String, blockCount: Int, blockSize: Int, carveSize: Int, now: Date
    ) async throws -> CarveSession {
        try await pool.write { db in
            let earlier = try Row.fetchAll(
                db, sql: "SELECT id, completed_at FROM carves WHERE host_id = ? AND carve_id = ?", arguments: [hostID, carveID])
            if earlier.contains(where: { ($0["completed_at"] as Double?) != nil }) { throw CarveBeginError.alreadyReceived(carveID: carveID) }
            for row in earlier {
                let id: Int64 = row["id"]
                try db.execute(sql: "DELETE FROM carve_blocks WHERE carve_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM carves WHERE id = ?", arguments: [id])
            }
            try db.execute(
                sql: """
                    INSERT INTO carves (host_id, session_id, carve_id, request_id, block_count, block_size, carve_size, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [hostID, sessionID, carveID, requestID, blockCount, blockSize, carveSize, now.storeValue])
            return try Datastore.carve(db, sessionID: sessionID)!
        }
    }

    /// Stores one block. Blocks come in order, one at a time; a repeat of a stored block (the agent's
    /// transparent resend, spec §8.3) is accepted and ignored. Every block but the last must be
    /// exactly `block_size` bytes, and the total must equal `carve_size`.
    /// - Returns: the session after the block, with `completedAt` set once every block is in.
    public func storeCarveBlock(sessionID: String, blockID: Int, data: Data, now: Date) async throws -> CarveSession {
        try await pool.write { db in
            guard let carve = try Datastore.carve(db, sessionID: sessionID) else { throw CarveBlockError.unknownSession }
            guard blockID >= 0 && blockID < carve.blockCount else {
                throw CarveBlockError.blockOutOfRange(blockID, count: carve.blockCount)
            }
            if blockID < carve.blocksReceived { return carve }  // a resend of a stored block
            guard blockID == carve.blocksReceived else { throw CarveBlockError.outOfOrder(block: blockID, expected: carve.blocksReceived) }
            let isLast = blockID == carve.blockCount - 1
            let expected = isLast ? carve.carveSize - carve.blockSize * (carve.blockCount - 1) : carve.blockSize
            guard data.count == expected else { throw CarveBlockError.wrongSize(block: blockID, expected: expected, got: data.count) }
            try db.execute(
                sql: "INSERT INTO carve_blocks (carve_id, block_id, data) VALUES (?, ?, ?)", arguments: [carve.id, blockID, data])
            try db.execute(
                sql: "UPDATE carves SET blocks_received = blocks_received + 1, completed_at = ? WHERE id = ?",
                arguments: [isLast ? now.storeValue : nil, carve.id])
            return try Datastore.carve(db, sessionID: sessionID)!
        }
    }

    public func carveSession(sessionID: String) async throws -> CarveSession? {
        try await pool.read { db in try Datastore.carve(db, sessionID: sessionID) }
    }

    public func carves() async throws -> [CarveSession] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM carves ORDER BY id").map(Datastore.carveSession) }
    }

    /// The reassembled upload of a completed carve, or `nil` while incomplete.
    public func carveArchive(id: Int64) async throws -> Data? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM carves WHERE id = ?", arguments: [id]) else { return nil }
            let carve = Datastore.carveSession(row)
            guard carve.completedAt != nil else { return nil }
            var archive = Data(capacity: carve.carveSize)
            let blocks = try Row.fetchCursor(db, sql: "SELECT data FROM carve_blocks WHERE carve_id = ? ORDER BY block_id", arguments: [id])
            while let block = try blocks.next() { archive.append(block["data"] as Data) }
            return archive
        }
    }

    static func carve(_ db: Database, sessionID: String) throws -> CarveSession? {
        try Row.fetchOne(db, sql: "SELECT * FROM carves WHERE session_id = ?", arguments: [sessionID]).map(carveSession)
    }

    static func carveSession(_ row: Row) -> CarveSession {
        CarveSession(
            id: row["id"], hostID: row["host_id"], sessionID: row["session_id"], carveID: row["carve_id"],
            requestID: row["request_id"], blockCount: row["block_count"], blockSize: row["block_size"],
            carveSize: row["carve_size"], blocksReceived: row["blocks_received"], createdAt: Date(storeValue: row["created_at"]),
            completedAt: (row["completed_at"] as Double?).map(Date.init(storeValue:)), error: row["error"])
    }
}
