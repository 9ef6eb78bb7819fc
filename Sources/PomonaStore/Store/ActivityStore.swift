import Foundation
import PomonaCore

/// The audit log.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol ActivityStore: Sendable {
    /// Appends to the audit log with an identified actor (a user of the management API).
    func recordActivity(actor: ActivityActor, type: String, details: JSONValue, now: Date) async throws
    /// A page of the audit log.
    func activities(_ page: ListPage<ActivitySortKey>) async throws -> [Activity]
    func activityCount() async throws -> Int
    /// Appends to the audit log.
    func recordActivity(actor: String, type: String, details: JSONValue, now: Date) async throws
}

/// The defaults of ``ActivityStore``'s parameters (a protocol requirement cannot have any).
extension ActivityStore {
    public func recordActivity(actor: ActivityActor, type: String, now: Date) async throws {
        try await recordActivity(actor: actor, type: type, details: .object([]), now: now)
    }

    public func recordActivity(actor: ActivityActor, type: String, details: JSONValue) async throws {
        try await recordActivity(actor: actor, type: type, details: details, now: Date())
    }

    public func recordActivity(actor: ActivityActor, type: String) async throws {
        try await recordActivity(actor: actor, type: type, details: .object([]), now: Date())
    }

    public func recordActivity(actor: String, type: String, now: Date) async throws {
        try await recordActivity(actor: actor, type: type, details: .object([]), now: now)
    }

    public func recordActivity(actor: String, type: String, details: JSONValue) async throws {
        try await recordActivity(actor: actor, type: type, details: details, now: Date())
    }

    public func recordActivity(actor: String, type: String) async throws {
        try await recordActivity(actor: actor, type: type, details: .object([]), now: Date())
    }
}
