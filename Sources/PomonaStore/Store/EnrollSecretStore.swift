import Foundation
import PomonaCore

/// Enroll secrets agents present to enroll.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol EnrollSecretStore: Sendable {
    func addEnrollSecret(_ secret: String, name: String, now: Date) async throws -> EnrollSecret
    func revokeEnrollSecret(_ secret: String, now: Date) async throws -> Bool
    func enrollSecrets(includeRevoked: Bool) async throws -> [EnrollSecret]
}

/// The defaults of ``EnrollSecretStore``'s parameters (a protocol requirement cannot have any).
extension EnrollSecretStore {
    public func addEnrollSecret(_ secret: String, now: Date) async throws -> EnrollSecret {
        try await addEnrollSecret(secret, name: "", now: now)
    }

    public func addEnrollSecret(_ secret: String, name: String) async throws -> EnrollSecret {
        try await addEnrollSecret(secret, name: name, now: Date())
    }

    public func addEnrollSecret(_ secret: String) async throws -> EnrollSecret {
        try await addEnrollSecret(secret, name: "", now: Date())
    }

    public func revokeEnrollSecret(_ secret: String) async throws -> Bool {
        try await revokeEnrollSecret(secret, now: Date())
    }

    public func enrollSecrets() async throws -> [EnrollSecret] {
        try await enrollSecrets(includeRevoked: false)
    }
}
