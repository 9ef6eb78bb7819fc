import Foundation
import PomonaCore

/// Users of the management API, their login sessions and API tokens.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol UserStore: Sendable {
    func userCount() async throws -> Int
    /// Creates a user. With `onlyIfNoUsers`, the check and the insert are one transaction, so two
    /// concurrent setup calls cannot both create a first admin (the loser gets `nil`).
    func createUser(name: String, email: String, passwordHash: String, globalRole: String, apiOnly: Bool, onlyIfNoUsers: Bool, now: Date) async throws -> UserRecord?
    func user(id: Int64) async throws -> UserRecord?
    func user(email: String) async throws -> UserRecord?
    func users() async throws -> [UserRecord]
    /// Changes the given fields. Demoting the last admin is refused; a role or password change ends
    /// the user's login sessions (not API tokens) when `endSessions` is set, except the one whose
    /// digest is `keepingSession` (the session that made the change), in the same transaction.
    func updateUser(id: Int64, _ change: UserChange, now: Date) async throws -> UserRecord
    /// Deletes a user and every session and token of theirs. Deleting the last admin is refused.
    func deleteUser(id: Int64) async throws -> UserRecord
    func createSession(tokenDigest: String, userID: Int64, kind: SessionRecord.Kind, expiresAt: Date?, replacingTokensOfKind: Bool, now: Date) async throws
    /// The session and its user for a token digest, or `nil` when unknown.
    func session(tokenDigest: String) async throws -> (SessionRecord, UserRecord)?
    /// Slides a session's expiry forward (called at most about once a minute per session).
    func touchSession(tokenDigest: String, now: Date, expiresAt: Date?) async throws
    @discardableResult
    func deleteSession(tokenDigest: String) async throws -> Bool
    /// Removes expired sessions (housekeeping; an expired session is refused whether or not it is purged).
    @discardableResult
    func purgeExpiredSessions(now: Date) async throws -> Int
}

/// The defaults of ``UserStore``'s parameters (a protocol requirement cannot have any).
extension UserStore {
    public func createUser(name: String, email: String, passwordHash: String, globalRole: String, apiOnly: Bool, now: Date) async throws -> UserRecord? {
        try await createUser(name: name, email: email, passwordHash: passwordHash, globalRole: globalRole, apiOnly: apiOnly, onlyIfNoUsers: false, now: now)
    }

    public func createUser(name: String, email: String, passwordHash: String, globalRole: String, apiOnly: Bool, onlyIfNoUsers: Bool) async throws -> UserRecord? {
        try await createUser(name: name, email: email, passwordHash: passwordHash, globalRole: globalRole, apiOnly: apiOnly, onlyIfNoUsers: onlyIfNoUsers, now: Date())
    }

    public func createUser(name: String, email: String, passwordHash: String, globalRole: String, apiOnly: Bool) async throws -> UserRecord? {
        try await createUser(name: name, email: email, passwordHash: passwordHash, globalRole: globalRole, apiOnly: apiOnly, onlyIfNoUsers: false, now: Date())
    }

    public func updateUser(id: Int64, _ change: UserChange) async throws -> UserRecord {
        try await updateUser(id: id, change, now: Date())
    }

    public func createSession(tokenDigest: String, userID: Int64, kind: SessionRecord.Kind, expiresAt: Date?, now: Date) async throws {
        try await createSession(tokenDigest: tokenDigest, userID: userID, kind: kind, expiresAt: expiresAt, replacingTokensOfKind: false, now: now)
    }

    public func createSession(tokenDigest: String, userID: Int64, kind: SessionRecord.Kind, expiresAt: Date?, replacingTokensOfKind: Bool) async throws {
        try await createSession(tokenDigest: tokenDigest, userID: userID, kind: kind, expiresAt: expiresAt, replacingTokensOfKind: replacingTokensOfKind, now: Date())
    }

    public func createSession(tokenDigest: String, userID: Int64, kind: SessionRecord.Kind, expiresAt: Date?) async throws {
        try await createSession(tokenDigest: tokenDigest, userID: userID, kind: kind, expiresAt: expiresAt, replacingTokensOfKind: false, now: Date())
    }

    @discardableResult
    public func purgeExpiredSessions() async throws -> Int {
        try await purgeExpiredSessions(now: Date())
    }
}
