import Foundation
import GRDB

extension Datastore {
    /// Labels, policies, live-query campaigns. Append migrations; never edit a shipped one.
    static func registerFleetMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("fleet v1: query fields, labels, policies, campaigns") { db in
            try db.execute(sql: """
                ALTER TABLE queries ADD COLUMN automations_enabled INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE queries ADD COLUMN observer_can_run INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE queries ADD COLUMN discard_data INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE queries ADD COLUMN author_id INTEGER;
                ALTER TABLE queries ADD COLUMN author_name TEXT NOT NULL DEFAULT '';
                ALTER TABLE queries ADD COLUMN author_email TEXT NOT NULL DEFAULT '';

                -- Fleet's /packs/schedule API addresses a pack's queries by id; pack_queries has none
                -- (it is keyed by pack and name), so ids are kept beside it.
                CREATE TABLE pack_query_ids (
                    id INTEGER PRIMARY KEY,
                    pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    query_id INTEGER,
                    UNIQUE(pack_id, name)
                );

                CREATE TABLE labels (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    description TEXT NOT NULL DEFAULT '',
                    query TEXT NOT NULL DEFAULT '',
                    platform TEXT NOT NULL DEFAULT '',
                    label_type TEXT NOT NULL DEFAULT 'regular',
                    membership_type TEXT NOT NULL DEFAULT 'dynamic',
                    author_id INTEGER,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE label_membership (
                    label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
                    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (label_id, host_id)
                ) WITHOUT ROWID;
                CREATE INDEX label_membership_host ON label_membership(host_id);

                CREATE TABLE policies (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    query TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    resolution TEXT NOT NULL DEFAULT '',
                    platform TEXT NOT NULL DEFAULT '',
                    critical INTEGER NOT NULL DEFAULT 0,
                    author_id INTEGER,
                    author_name TEXT NOT NULL DEFAULT '',
                    author_email TEXT NOT NULL DEFAULT '',
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                -- passes: 1 pass (≥1 row), 0 fail (no rows), NULL unknown (the query failed).
                CREATE TABLE policy_membership (
                    policy_id INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
                    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
                    passes INTEGER,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (policy_id, host_id)
                ) WITHOUT ROWID;
                CREATE INDEX policy_membership_host ON policy_membership(host_id);

                -- When each host last answered its label and policy queries (survives a restart, so
                -- the fleet does not re-run them all at once).
                CREATE TABLE host_evaluations (
                    host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
                    labels_updated_at REAL,
                    policies_updated_at REAL
                );

                CREATE TABLE campaigns (
                    id INTEGER PRIMARY KEY,
                    query TEXT NOT NULL,
                    query_id INTEGER,
                    user_id INTEGER,
                    user_email TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL DEFAULT 'running',
                    targeted_host_count INTEGER NOT NULL DEFAULT 0,
                    online_host_count INTEGER NOT NULL DEFAULT 0,
                    responded_host_count INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    deadline REAL NOT NULL,
                    finished_at REAL
                );
                CREATE TABLE campaign_targets (
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    target_type TEXT NOT NULL,
                    target_id INTEGER NOT NULL,
                    PRIMARY KEY (campaign_id, target_type, target_id)
                ) WITHOUT ROWID;
                -- host_id has no foreign key: the history outlives a deleted host.
                CREATE TABLE campaign_results (
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    host_id INTEGER NOT NULL,
                    status INTEGER NOT NULL,
                    error TEXT,
                    rows TEXT NOT NULL DEFAULT '[]',
                    row_count INTEGER NOT NULL DEFAULT 0,
                    stats TEXT,
                    received_at REAL NOT NULL,
                    PRIMARY KEY (campaign_id, host_id)
                ) WITHOUT ROWID;
                """)
            let now = Date().storeValue
            for label in BuiltinLabel.all {
                try db.execute(
                    sql: """
                        INSERT INTO labels (name, description, query, platform, label_type, membership_type, created_at, updated_at)
                        VALUES (?, ?, ?, ?, 'builtin', 'dynamic', ?, ?)
                        """,
                    arguments: [label.name, label.description, label.query, label.platform, now, now])
            }
        }
        migrator.registerMigration("fleet v2: pack targets") { db in
            // No foreign key on target_id: a target that disappears (a deleted label or host)
            // must keep matching nobody rather than leave the pack untargeted, which would serve
            // it to every host.
            try db.execute(sql: """
                CREATE TABLE pack_targets (
                    pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
                    target_type TEXT NOT NULL CHECK (target_type IN ('label', 'host')),
                    target_id INTEGER NOT NULL,
                    PRIMARY KEY (pack_id, target_type, target_id)
                );
                """)
        }
    }
}

/// The labels every installation starts with, as Fleet's migrations create them. Each one's SQL
/// checks the platform itself, so the answer is right even from a host whose platform is not yet
/// known (such hosts get every label query, see ``DistributedReadPlanner``).
enum BuiltinLabel {
    struct Definition {
        var name: String
        var description: String
        var query: String
        var platform: String
    }

    static let all: [Definition] = [
        .init(name: "All Hosts", description: "All hosts which have enrolled in Pomona", query: "SELECT 1;", platform: ""),
        .init(name: "macOS", description: "All macOS hosts", query: "SELECT 1 FROM os_version WHERE platform = 'darwin';", platform: "darwin"),
        .init(name: "Ubuntu Linux", description: "All Ubuntu hosts", query: "SELECT 1 FROM os_version WHERE platform = 'ubuntu';", platform: "ubuntu"),
        .init(
            name: "CentOS Linux", description: "All CentOS hosts",
            query: "SELECT 1 FROM os_version WHERE platform = 'centos' OR name LIKE '%centos%';", platform: "centos"),
        .init(name: "MS Windows", description: "All Windows hosts", query: "SELECT 1 FROM os_version WHERE platform = 'windows';", platform: "windows"),
        .init(name: "Red Hat Linux", description: "All Red Hat Enterprise Linux hosts", query: "SELECT 1 FROM os_version WHERE name LIKE '%red hat%';", platform: "rhel"),
        .init(
            name: "All Linux", description: "All Linux distributions",
            query: "SELECT 1 FROM os_version WHERE platform NOT IN ('darwin', 'windows');", platform: "linux"),
    ]
}
