import Foundation
import GRDB
import PomonaCore
import Testing

@testable import PomonaStore

/// Databases from other releases: an older schema is migrated with its data intact; a newer one
/// is refused before anything is written to it.
@Suite struct SchemaUpgradeTests {
    /// A database written by this release's schema, committed so that later releases (with more
    /// migrations) open a real file of this one. Regenerate only when starting a new fixture for a
    /// new release: `POMONA_WRITE_SCHEMA_FIXTURE=1 swift test --filter SchemaUpgradeTests`.
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/schema-0.1.0.sqlite")

    static func copyOfFixture() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("pomona.sqlite").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        return path
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["POMONA_WRITE_SCHEMA_FIXTURE"] == "1"))
    func writeFixture() async throws {
        let store = try makeTemporaryStore()
        _ = try await store.addEnrollSecret("fixture-enroll-secret-0001", name: "fixture")
        _ = try await store.enroll(enrollment("fixture-host-1", key: 1))
        _ = try await store.enroll(enrollment("fixture-host-2", key: 2))
        try await store.saveQuery(ScheduledQuery(name: "fixture_uptime", sql: "SELECT * FROM uptime;", interval: 300))
        try? FileManager.default.removeItem(at: Self.fixture)
        try Datastore.snapshot(databaseAt: store.path, to: Self.fixture.path)
    }

    @Test func fixtureOfThePreviousSchemaOpensMigratedWithItsData() async throws {
        let path = try Self.copyOfFixture()
        let before = try Datastore.appliedMigrations(atPath: path)
        #expect(!before.isEmpty && before.allSatisfy(Datastore.knownMigrations.contains), "the fixture is of a schema this release knows")
        let store = try Datastore(path: path)
        #expect(try Datastore.appliedMigrations(atPath: path) == Datastore.knownMigrations, "migrated to the current schema")
        #expect(try await store.integrityCheck() == "ok")
        #expect(try await store.enrollSecrets().map(\.secret).contains("fixture-enroll-secret-0001"))
        let hosts = try await store.loadCheckInStates()
        #expect(Set(hosts.map(\.1)) == [digest(1), digest(2)], "both hosts keep their node keys")
        #expect(try await store.queries().contains { $0.name == "fixture_uptime" && $0.interval == 300 })
    }

    @Test func aDatabaseFromANewerReleaseIsRefusedUntouched() throws {
        let path = try Self.copyOfFixture()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        try queue.close()
        let migrationsBefore = try Datastore.appliedMigrations(atPath: path)
        #expect {
            _ = try Datastore(path: path)
        } throws: { error in
            let refused = error as? NewerSchemaError
            return refused?.unknownMigrations == ["v99: from the future"]
                && refused?.description.contains("was written by a newer Pomona") == true
                && refused?.description.contains("\"v99: from the future\"") == true
        }
        #expect(try Datastore.appliedMigrations(atPath: path) == migrationsBefore, "no migration ran on it")
        #expect(throws: NewerSchemaError.self) {
            try Datastore.snapshot(databaseAt: path, to: path + ".copy")
        }
    }
}
