/// Other names osquery accepts for some tables and columns.
///
/// osquery's table specs declare aliases (`table_name("sharing_preferences", aliases=["alf_services"])`,
/// `Column("env", TEXT, aliases=["environment"])`); the agent serves a table alias as a view over
/// the table and a column alias as an extra hidden column. `osquery-tables.json` does not carry
/// them, so they are listed here, taken from the specs in osquery's `specs/` directory. Without
/// them, official packs that still use old names (`alf_services` in `incident-response` and
/// `it-compliance`) would be reported as invalid although osquery runs them.
enum OsquerySchemaAliases {
    /// Alias → table it stands for.
    static let tables: [String: String] = [
        "alf_services": "sharing_preferences",
        "cb_info": "carbon_black_info",
        "configurations": "augeas",
        "hosts": "etc_hosts",
        "hvci_status": "deviceguard_status",
        "packages": "package_receipts",
        "programs_and_features": "programs",
        "syslog": "syslog_events",
        "yara": "yara_file",
    ]

    /// Table → [alias → column it stands for].
    static let columns: [String: [String: String]] = [
        "disk_events": ["bsd_name": "device"],
        "osquery_schedule": ["blacklisted": "denylisted"],
        "process_events": [
            "environment": "env", "environment_count": "env_count", "environment_size": "env_size",
            "access_time": "atime", "modify_time": "mtime", "change_time": "ctime", "create_time": "btime",
        ],
        "time": ["date_time": "datetime"],
    ]
}
