import Foundation
import GRDB
import PomonaCore

/// Who did something, as the audit log records it (Fleet's `actor_id`, `actor_full_name`, `actor_email`).
public struct ActivityActor: Sendable, Equatable {
    public var id: Int64?
    public var name: String
    public var email: String

    public init(id: Int64?, name: String, email: String) {
        self.id = id
        self.name = name
        self.email = email
    }
}

/// One audit-log entry.
public struct Activity: Sendable, Equatable {
    public var id: Int64
    public var createdAt: Date
    public var actor: ActivityActor
    public var type: String
    /// The details object as stored JSON text.
    public var detailsJSON: String
}

extension Datastore {
    /// Appends to the audit log with an identified actor (a user of the management API).
    public func recordActivity(actor: ActivityActor, type: String, details: JSONValue, now: Date) async throws {
        try await pool.write { db in
            try Datastore.insertActivity(db, actor: actor, type: type, details: details, now: now)
        }
    }

    /// The insert itself, for callers that record the activity inside their own transaction.
    static func insertActivity(_ db: Database, actor: ActivityActor, type: String, details: JSONValue, now: Date) throws {
        try db.execute(
            sql: "INSERT INTO activities (created_at, actor, actor_id, actor_email, type, details) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [now.storeValue, actor.name, actor.id, actor.email, type, String(decoding: details.encoded(), as: UTF8.self)])
    }

    /// A page of the audit log.
    public func activities(_ page: ListPage<ActivitySortKey>) async throws -> [Activity] {
        let column = page.sort.column
        let direction = page.direction
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM activities ORDER BY \(column) \(direction), id \(direction) LIMIT ? OFFSET ?",
                arguments: [page.limit, page.offset]
            ).map { row in
                Activity(
                    id: row["id"], createdAt: Date(storeValue: row["created_at"]),
                    actor: ActivityActor(id: row["actor_id"], name: row["actor"], email: row["actor_email"] ?? ""),
                    type: row["type"], detailsJSON: row["details"])
            }
        }
    }

    public func activityCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activities") ?? 0 }
    }
}
