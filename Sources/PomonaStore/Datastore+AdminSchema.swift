import GRDB

extension Datastore {
    /// Users, sessions and API tokens (management API). Append migrations; never edit a shipped one.
    static func registerAdminMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("admin v1: users, sessions, activity actors, host list indexes") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    -- "pbkdf2-sha256$<rounds>$<salt b64>$<hash b64>"; '' for API-only users, who cannot log in.
                    password_hash TEXT NOT NULL,
                    global_role TEXT NOT NULL,
                    api_only INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                -- Login sessions and API-only tokens alike: only the SHA-256 of the bearer token is kept.
                CREATE TABLE sessions (
                    token_digest TEXT PRIMARY KEY NOT NULL,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL NOT NULL,
                    expires_at REAL
                ) WITHOUT ROWID;
                CREATE INDEX sessions_user ON sessions(user_id);
                ALTER TABLE activities ADD COLUMN actor_id INTEGER;
                ALTER TABLE activities ADD COLUMN actor_email TEXT NOT NULL DEFAULT '';
                CREATE INDEX hosts_platform ON hosts(platform);
                CREATE INDEX hosts_created_at ON hosts(created_at);
                CREATE INDEX hosts_remote_ip ON hosts(remote_ip);
                """)
        }
    }
}
