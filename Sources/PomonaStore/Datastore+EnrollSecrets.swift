import Foundation
import GRDB

/// An enroll secret. Several can be active at once so they can be rotated without downtime:
/// add the new one, roll it out, then revoke the old one.
public struct EnrollSecret: Sendable, Equatable {
    public var id: Int64
    public var secret: String
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?
}

extension Datastore {
    public func addEnrollSecret(_ secret: String, name: String, now: Date) async throws -> EnrollSecret {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO enroll_secrets (secret, name, created_at) VALUES (?, ?, ?) ON CONFLICT(secret) DO UPDATE SET revoked_at = NULL",
                arguments: [secret, name, now.storeValue])
            try Datastore.bumpGeneration(db)
            return try Datastore.fetchSecret(db, secret: secret)!
        }
    }

    public func revokeEnrollSecret(_ secret: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE enroll_secrets SET revoked_at = ? WHERE secret = ? AND revoked_at IS NULL", arguments: [now.storeValue, secret])
            let revoked = db.changesCount > 0
            if revoked { try Datastore.bumpGeneration(db) }
            return revoked
        }
    }

    public func enrollSecrets(includeRevoked: Bool) async throws -> [EnrollSecret] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM enroll_secrets \(includeRevoked ? "" : "WHERE revoked_at IS NULL") ORDER BY id")
                .map(Datastore.secret(from:))
        }
    }

    static func fetchSecret(_ db: Database, secret: String) throws -> EnrollSecret? {
        try Row.fetchOne(db, sql: "SELECT * FROM enroll_secrets WHERE secret = ?", arguments: [secret]).map(secret(from:))
    }

    static func secret(from row: Row) -> EnrollSecret {
        EnrollSecret(
            id: row["id"], secret: row["secret"], name: row["name"], createdAt: Date(storeValue: row["created_at"]),
            revokedAt: (row["revoked_at"] as Double?).map(Date.init(storeValue:)))
    }
}
