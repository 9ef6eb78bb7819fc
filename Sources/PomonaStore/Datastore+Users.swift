import Foundation
import GRDB

/// A management-API user as stored. The password hash is opaque here (the admin module makes and checks it).
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var email: String
    public var passwordHash: String
    public var globalRole: String
    public var apiOnly: Bool
    public var createdAt: Date
    public var updatedAt: Date
}

/// A login session or an API-only user's token, known by the SHA-256 of the bearer token.
public struct SessionRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case session, api }
    public var tokenDigest: String
    public var userID: Int64
    public var kind: Kind
    public var createdAt: Date
    public var lastUsedAt: Date
    /// `nil`: never expires (API-only tokens by default).
    public var expiresAt: Date?
}

/// Why a user change was refused.
public enum UserStoreError: Error, Equatable, Sendable {
    case emailTaken
    /// The change would leave no admin able to manage the server.
    case lastAdmin
    case notFound
}

/// What ``Datastore/updateUser(id:_:now:)`` changes: `nil` fields keep their value.
public struct UserChange: Sendable, Equatable {
    public var name: String?
    public var email: String?
    public var globalRole: String?
    public var passwordHash: String?
    /// End the user's login sessions (not API tokens), except the one whose digest is `keepingSession`.
    public var endSessions: Bool
    public var keepingSession: String?

    public init(
        name: String? = nil, email: String? = nil, globalRole: String? = nil, passwordHash: String? = nil, endSessions: Bool = false,
        keepingSession: String? = nil
    ) {
        self.name = name
        self.email = email
        self.globalRole = globalRole
        self.passwordHash = passwordHash
        self.endSessions = endSessions
        self.keepingSession = keepingSession
    }
}

extension Datastore {
    public func userCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 }
    }

    /// Creates a user. With `onlyIfNoUsers`, the check and the insert are one transaction, so two
    /// concurrent setup calls cannot both create a first admin (the loser gets `nil`).
    public func createUser(
        name: String, email: String, passwordHash: String, globalRole: String, apiOnly: Bool, onlyIfNoUsers: Bool, now: Date
    ) async throws -> UserRecord? {
        try await pool.write { db in
            if onlyIfNoUsers, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 > 0 { return nil }
            if try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE email = ?", arguments: [email]) != nil {
                throw UserStoreError.emailTaken
            }
            try db.execute(
                sql: """
                    INSERT INTO users (name, email, password_hash, global_role, api_only, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [name, email, passwordHash, globalRole, apiOnly, now.storeValue, now.storeValue])
            return try Datastore.user(db, id: db.lastInsertedRowID)
        }
    }

    public func user(id: Int64) async throws -> UserRecord? {
        try await pool.read { db in try Datastore.user(db, id: id) }
    }

    public func user(email: String) async throws -> UserRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email = ?", arguments: [email]).map(Datastore.userRecord)
        }
    }

    public func users() async throws -> [UserRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY id").map(Datastore.userRecord) }
    }

    /// Changes the given fields. Demoting the last admin is refused; a role or password change ends
    /// the user's login sessions (not API tokens) when `endSessions` is set, except the one whose
    /// digest is `keepingSession` (the session that made the change), in the same transaction.
    public func updateUser(id: Int64, _ change: UserChange, now: Date) async throws -> UserRecord {
        let (name, email, globalRole, passwordHash) = (change.name, change.email, change.globalRole, change.passwordHash)
        let (endSessions, keepingSession) = (change.endSessions, change.keepingSession)
        return try await pool.write { db in
            guard let current = try Datastore.user(db, id: id) else { throw UserStoreError.notFound }
            if let email, email.lowercased() != current.email.lowercased(),
                try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE email = ? AND id <> ?", arguments: [email, id]) != nil
            {
                throw UserStoreError.emailTaken
            }
            if let globalRole, current.globalRole == "admin", globalRole != "admin", try Datastore.adminCount(db) <= 1 {
                throw UserStoreError.lastAdmin
            }
            try db.execute(
                sql: """
                    UPDATE users SET name = ?, email = ?, global_role = ?, password_hash = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    name ?? current.name, email ?? current.email, globalRole ?? current.globalRole,
                    passwordHash ?? current.passwordHash, now.storeValue, id,
                ])
            if endSessions {
                try db.execute(
                    sql: "DELETE FROM sessions WHERE user_id = ? AND kind = 'session' AND token_digest <> ?",
                    arguments: [id, keepingSession ?? ""])
            }
            return try Datastore.user(db, id: id)!
        }
    }

    /// Deletes a user and every session and token of theirs. Deleting the last admin is refused.
    public func deleteUser(id: Int64) async throws -> UserRecord {
        try await pool.write { db in
            guard let current = try Datastore.user(db, id: id) else { throw UserStoreError.notFound }
            if current.globalRole == "admin", try Datastore.adminCount(db) <= 1 { throw UserStoreError.lastAdmin }
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            return current
        }
    }

    static func adminCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE global_role = 'admin'") ?? 0
    }

    static func user(_ db: Database, id: Int64) throws -> UserRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(userRecord)
    }

    static func userRecord(_ row: Row) -> UserRecord {
        UserRecord(
            id: row["id"], name: row["name"], email: row["email"], passwordHash: row["password_hash"],
            globalRole: row["global_role"], apiOnly: row["api_only"], createdAt: Date(storeValue: row["created_at"]),
            updatedAt: Date(storeValue: row["updated_at"]))
    }

    // MARK: - Sessions and API tokens

    public func createSession(
        tokenDigest: String, userID: Int64, kind: SessionRecord.Kind, expiresAt: Date?, replacingTokensOfKind: Bool, now: Date
    ) async throws {
        try await pool.write { db in
            if replacingTokensOfKind {
                try db.execute(sql: "DELETE FROM sessions WHERE user_id = ? AND kind = ?", arguments: [userID, kind.rawValue])
            }
            try db.execute(
                sql: "INSERT INTO sessions (token_digest, user_id, kind, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [tokenDigest, userID, kind.rawValue, now.storeValue, now.storeValue, expiresAt?.storeValue])
        }
    }

    /// The session and its user for a token digest, or `nil` when unknown.
    public func session(tokenDigest: String) async throws -> (SessionRecord, UserRecord)? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.token_digest, s.user_id, s.kind, s.created_at AS s_created_at, s.last_used_at, s.expires_at, u.*
                        FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_digest = ?
                        """, arguments: [tokenDigest])
            else { return nil }
            let session = SessionRecord(
                tokenDigest: row["token_digest"], userID: row["user_id"],
                kind: SessionRecord.Kind(rawValue: row["kind"]) ?? .session,
                createdAt: Date(storeValue: row["s_created_at"]), lastUsedAt: Date(storeValue: row["last_used_at"]),
                expiresAt: (row["expires_at"] as Double?).map(Date.init(storeValue:)))
            return (session, Datastore.userRecord(row))
        }
    }

    /// Slides a session's expiry forward (called at most about once a minute per session).
    public func touchSession(tokenDigest: String, now: Date, expiresAt: Date?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE token_digest = ?",
                arguments: [now.storeValue, expiresAt?.storeValue, tokenDigest])
        }
    }

    @discardableResult
    public func deleteSession(tokenDigest: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_digest = ?", arguments: [tokenDigest])
            return db.changesCount > 0
        }
    }

    /// Removes expired sessions (housekeeping; an expired session is refused whether or not it is purged).
    @discardableResult
    public func purgeExpiredSessions(now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at IS NOT NULL AND expires_at <= ?", arguments: [now.storeValue])
            return db.changesCount
        }
    }
}
