import GRDB

extension Datastore {
    /// The schema, as an append-only list of migrations. Never edit a shipped migration: add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE app_config (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                CREATE TABLE enroll_secrets (
                    id INTEGER PRIMARY KEY,
                    secret TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL DEFAULT '',
                    created_at REAL NOT NULL,
                    revoked_at REAL
                );
                CREATE TABLE hosts (
                    id INTEGER PRIMARY KEY,
                    node_key_digest TEXT NOT NULL UNIQUE,
                    osquery_host_id TEXT NOT NULL,
                    uuid TEXT NOT NULL DEFAULT '',
                    hardware_serial TEXT NOT NULL DEFAULT '',
                    hostname TEXT NOT NULL DEFAULT '',
                    computer_name TEXT NOT NULL DEFAULT '',
                    platform TEXT NOT NULL DEFAULT '',
                    vitals TEXT NOT NULL DEFAULT '{}',
                    enroll_secret_id INTEGER,
                    remote_ip TEXT NOT NULL DEFAULT '',
                    created_at REAL NOT NULL,
                    last_enrolled_at REAL NOT NULL,
                    seen_at REAL,
                    detail_updated_at REAL,
                    refetch_requested INTEGER NOT NULL DEFAULT 1
                );
                CREATE INDEX hosts_osquery_host_id ON hosts(osquery_host_id);
                CREATE INDEX hosts_uuid ON hosts(uuid);
                CREATE INDEX hosts_hardware_serial ON hosts(hardware_serial);
                CREATE INDEX hosts_hostname ON hosts(hostname);
                CREATE INDEX hosts_seen_at ON hosts(seen_at);
                CREATE TABLE software (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    bundle_identifier TEXT NOT NULL DEFAULT '',
                    UNIQUE(name, version, source, bundle_identifier)
                );
                CREATE TABLE host_software (
                    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                    software_id INTEGER NOT NULL REFERENCES software(id),
                    installed_path TEXT NOT NULL DEFAULT '',
                    last_opened_at REAL,
                    PRIMARY KEY (host_id, software_id)
                ) WITHOUT ROWID;
                CREATE INDEX host_software_software ON host_software(software_id);
                CREATE TABLE host_users (
                    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                    uid INTEGER NOT NULL,
                    username TEXT NOT NULL,
                    type TEXT NOT NULL DEFAULT '',
                    groupname TEXT NOT NULL DEFAULT '',
                    shell TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (host_id, username)
                ) WITHOUT ROWID;
                CREATE TABLE queries (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    query TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    interval INTEGER NOT NULL DEFAULT 0,
                    platform TEXT NOT NULL DEFAULT '',
                    min_osquery_version TEXT,
                    shard INTEGER,
                    logging TEXT NOT NULL DEFAULT 'snapshot',
                    denylist INTEGER NOT NULL DEFAULT 1,
                    builtin TEXT,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE packs (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    description TEXT NOT NULL DEFAULT '',
                    platform TEXT NOT NULL DEFAULT '',
                    min_osquery_version TEXT,
                    shard INTEGER,
                    discovery TEXT NOT NULL DEFAULT '[]',
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE pack_queries (
                    pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    query TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    interval INTEGER NOT NULL,
                    platform TEXT NOT NULL DEFAULT '',
                    min_osquery_version TEXT,
                    shard INTEGER,
                    logging TEXT NOT NULL,
                    denylist INTEGER NOT NULL DEFAULT 1,
                    PRIMARY KEY (pack_id, name)
                ) WITHOUT ROWID;
                CREATE TABLE distributed_results (
                    id INTEGER PRIMARY KEY,
                    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    message TEXT NOT NULL DEFAULT '',
                    rows TEXT NOT NULL DEFAULT '[]',
                    row_count INTEGER NOT NULL DEFAULT 0,
                    stats TEXT,
                    received_at REAL NOT NULL
                );
                CREATE INDEX distributed_results_name ON distributed_results(name, host_id);
                CREATE TABLE carves (
                    id INTEGER PRIMARY KEY,
                    host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
                    session_id TEXT NOT NULL UNIQUE,
                    carve_id TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    block_count INTEGER NOT NULL,
                    block_size INTEGER NOT NULL,
                    carve_size INTEGER NOT NULL,
                    blocks_received INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    completed_at REAL,
                    error TEXT
                );
                CREATE TABLE carve_blocks (
                    carve_id INTEGER NOT NULL REFERENCES carves(id) ON DELETE CASCADE,
                    block_id INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (carve_id, block_id)
                ) WITHOUT ROWID;
                CREATE TABLE activities (
                    id INTEGER PRIMARY KEY,
                    created_at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    type TEXT NOT NULL,
                    details TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX activities_created ON activities(created_at);
                """)
        }
        migrator.registerMigration("v2: one result per host and query name") { db in
            // osquery re-sends a distributed write whose response it did not get, and a query name
            // that is reused replaces the older result on the agent too: the last one wins.
            try db.execute(sql: """
                DELETE FROM distributed_results WHERE id NOT IN (SELECT MAX(id) FROM distributed_results GROUP BY name, host_id);
                DROP INDEX distributed_results_name;
                CREATE UNIQUE INDEX distributed_results_name_host ON distributed_results(name, host_id);
                """)
        }
        // Later areas own their migrations in their own files; the order here is the order
        // they run in, so only ever append.
        registerAdminMigrations(&migrator)      // Datastore+AdminSchema.swift: users, sessions, tokens
        registerFleetMigrations(&migrator)      // Datastore+FleetSchema.swift: labels, policies, campaigns
        return migrator
    }
}
