import GRDB

extension Datastore {
    /// Users, sessions and API tokens (management API). Append migrations; never edit a shipped one.
    static func registerAdminMigrations(_ migrator: inout DatabaseMigrator) {
    }
}
