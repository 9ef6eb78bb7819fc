import GRDB

extension Datastore {
    /// Labels, policies, live-query campaigns. Append migrations; never edit a shipped one.
    static func registerFleetMigrations(_ migrator: inout DatabaseMigrator) {
    }
}
