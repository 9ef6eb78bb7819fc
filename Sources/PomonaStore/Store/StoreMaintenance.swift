import Foundation
import PomonaCore

/// The store as a whole: health, size, shutdown.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol StoreMaintenance: Sendable {
    /// Where the store lives, for operators (a file path; never a credential).
    var location: String { get }
    /// The store's own consistency check: "ok" when sound, else what is wrong.
    func integrityCheck() async throws -> String
    /// Bytes the store occupies on disk (for metrics; 0 when it cannot tell).
    func fileSize() -> Int64
    /// Flushes what is pending and closes the store (on shutdown; nothing may use it after).
    func close() async throws
}
