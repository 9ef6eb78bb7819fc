import Foundation

/// A host-vitals query Pomona sends through `distributed/read` as `fleet_detail_query_<name>`.
///
/// The names and prefix match Fleet's so SIEM rules and dashboards written for Fleet keep working.
/// Results never reach the logs: they are ingested into the host record (``DetailQueryIngest``).
public struct DetailQuery: Sendable, Equatable {
    public static let namePrefix = "fleet_detail_query_"

    public let name: String
    public let sql: String
    public let platforms: Set<OsqueryPlatform>
    /// Only software and users are large; they are refreshed on their own, slower, cycle.
    public let kind: Kind

    public enum Kind: Sendable { case vitals, software, users }

    public var distributedName: String { DetailQuery.namePrefix + name }

    init(_ name: String, _ platforms: Set<OsqueryPlatform>, kind: Kind = .vitals, _ sql: String) {
        self.name = name
        self.sql = sql
        self.platforms = platforms
        self.kind = kind
    }

    /// Every detail query, in the order they are listed in a read response.
    public static let all: [DetailQuery] = [
        DetailQuery("os_version", [.darwin, .linux, .windows], "SELECT os.name, os.version, os.major, os.minor, os.patch, os.build, os.platform, os.platform_like, os.codename, os.arch, k.version AS kernel_version FROM os_version os LEFT JOIN kernel_info k LIMIT 1"),
        DetailQuery("osquery_info", [.darwin, .linux, .windows], "SELECT version FROM osquery_info LIMIT 1"),
        DetailQuery("system_info", [.darwin, .linux, .windows], "SELECT hostname, uuid, cpu_type, cpu_subtype, cpu_brand, cpu_physical_cores, cpu_logical_cores, physical_memory, hardware_vendor, hardware_model, hardware_version, hardware_serial, computer_name FROM system_info LIMIT 1"),
        DetailQuery("osquery_flags", [.darwin, .linux, .windows], "SELECT name, value FROM osquery_flags WHERE name IN ('distributed_interval', 'config_tls_refresh', 'config_refresh', 'logger_tls_period')"),
        DetailQuery("uptime", [.darwin, .linux, .windows], "SELECT total_seconds FROM uptime LIMIT 1"),
        DetailQuery("network_interface_unix", [.darwin, .linux], """
            SELECT ia.address, id.mac FROM routes r JOIN interface_addresses ia ON ia.interface = r.interface \
            JOIN interface_details id ON id.interface = ia.interface \
            WHERE r.destination IN ('0.0.0.0', '::') AND r.netmask = 0 AND r.type IN ('gateway', 'remote') \
            AND ia.address NOT LIKE 'fe80:%' AND ia.address NOT LIKE '127.%' AND ia.address <> '::1' \
            ORDER BY (r.destination = '0.0.0.0') DESC, (ia.address LIKE '%.%') DESC, CAST(r.metric AS INTEGER) ASC LIMIT 1
            """),
        DetailQuery("network_interface_windows", [.windows], """
            SELECT ia.address, id.mac FROM interface_addresses ia JOIN interface_details id ON id.interface = ia.interface \
            WHERE ia.address NOT LIKE '169.254.%' AND ia.address NOT LIKE 'fe80:%' AND ia.address NOT IN ('127.0.0.1', '::1') \
            ORDER BY (ia.address LIKE '%.%') DESC, CAST(id.metric AS INTEGER) ASC LIMIT 1
            """),
        DetailQuery("disk_space_unix", [.darwin, .linux], """
            SELECT (blocks_available * 100.0 / blocks) AS percent_disk_space_available, \
            (blocks_available * blocks_size / 1073741824.0) AS gigs_disk_space_available, \
            (blocks * blocks_size / 1073741824.0) AS gigs_total_disk_space FROM mounts WHERE path = '/' AND blocks > 0 LIMIT 1
            """),
        DetailQuery("disk_space_windows", [.windows], """
            SELECT (SUM(free_space) * 100.0 / SUM(size)) AS percent_disk_space_available, \
            (SUM(free_space) / 1073741824.0) AS gigs_disk_space_available, (SUM(size) / 1073741824.0) AS gigs_total_disk_space \
            FROM logical_drives WHERE file_system = 'NTFS' AND size > 0
            """),
        DetailQuery("disk_encryption_darwin", [.darwin], "SELECT COUNT(*) AS encrypted FROM disk_encryption WHERE user_uuid <> '' AND filevault_status = 'on'"),
        DetailQuery("logged_in_users", [.darwin, .linux, .windows], "SELECT user, MAX(time) AS time FROM logged_in_users WHERE user <> '' AND type IN ('user', 'active') GROUP BY user ORDER BY MAX(time) DESC LIMIT 20"),
        DetailQuery("users", [.darwin, .linux], kind: .users, """
            SELECT u.uid, u.username, 'local' AS type, g.groupname, u.shell FROM users u LEFT JOIN groups g ON g.gid = u.gid \
            WHERE u.shell NOT LIKE '%/false' AND u.shell NOT LIKE '%/nologin' AND u.username NOT LIKE '\\_%' ESCAPE '\\'
            """),
        DetailQuery("users_windows", [.windows], kind: .users, """
            SELECT u.uid, u.username, u.type, g.groupname, u.shell FROM users u LEFT JOIN groups g ON g.gid = u.gid \
            WHERE u.username NOT LIKE '%$'
            """),
        DetailQuery("software_macos", [.darwin], kind: .software, """
            SELECT name, COALESCE(NULLIF(bundle_short_version, ''), bundle_version) AS version, 'apps' AS source, \
            bundle_identifier, path AS installed_path, last_opened_time FROM apps \
            UNION ALL SELECT name, version, 'homebrew_packages' AS source, '' AS bundle_identifier, path AS installed_path, \
            '' AS last_opened_time FROM homebrew_packages
            """),
        DetailQuery("software_linux", [.linux], kind: .software, """
            SELECT name, version, 'deb_packages' AS source, '' AS bundle_identifier, '' AS installed_path, '' AS last_opened_time \
            FROM deb_packages WHERE status LIKE '% ok installed' \
            UNION ALL SELECT name, version || '-' || release AS version, 'rpm_packages' AS source, '' AS bundle_identifier, \
            '' AS installed_path, '' AS last_opened_time FROM rpm_packages
            """),
        DetailQuery("software_windows", [.windows], kind: .software, """
            SELECT name, version, 'programs' AS source, '' AS bundle_identifier, install_location AS installed_path, \
            '' AS last_opened_time FROM programs
            """),
    ]

    /// The detail queries for a platform family (all of them while the platform is unknown would
    /// waste a round trip on errors, so an unknown host gets only the cross-platform ones).
    public static func queries(for platform: OsqueryPlatform?) -> [DetailQuery] {
        guard let platform else { return all.filter { $0.platforms.count == OsqueryPlatform.allCases.count } }
        return all.filter { $0.platforms.contains(platform) }
    }

    public static func named(distributedName: String) -> DetailQuery? {
        guard distributedName.hasPrefix(namePrefix) else { return nil }
        let name = distributedName.dropFirst(namePrefix.count)
        return all.first { $0.name == name }
    }
}
