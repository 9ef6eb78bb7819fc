import Foundation

/// Turns detail-query rows (all values strings) into host facts.
///
/// Pure functions, one per query, so they are tested without a server. Unknown or empty values
/// (`""`, `"-1"` serials, unparsable numbers) leave the field unset rather than overwriting good data.
public enum DetailQueryIngest {
    /// What one detail query result changes.
    public enum Outcome: Sendable, Equatable {
        case vitals(HostVitals)
        case software([SoftwareItem])
        case users([HostUser])
    }

    /// Ingests the rows of `query`; returns `nil` when the rows carry nothing usable.
    public static func ingest(_ query: DetailQuery, rows: [[String: String]]) -> Outcome? {
        switch query.name {
        case "os_version": return rows.first.map { .vitals(osVersion(row: $0)) }
        case "osquery_info": return rows.first.map { .vitals(osqueryInfo(row: $0)) }
        case "system_info": return rows.first.map { .vitals(systemInfo(row: $0)) }
        case "osquery_flags": return .vitals(osqueryFlags(rows: rows))
        case "uptime":
            var v = HostVitals()
            v.uptimeSeconds = rows.first?["total_seconds"].flatMap { Int64($0) }
            return .vitals(v)
        case "network_interface_unix", "network_interface_windows":
            var v = HostVitals()
            v.primaryIP = nonEmpty(rows.first?["address"])
            v.primaryMAC = nonEmpty(rows.first?["mac"])
            return rows.isEmpty ? nil : .vitals(v)
        case "disk_space_unix", "disk_space_windows":
            guard let row = rows.first else { return nil }
            var v = HostVitals()
            v.percentDiskSpaceAvailable = row["percent_disk_space_available"].flatMap(Double.init).map(round2)
            v.gigsDiskSpaceAvailable = row["gigs_disk_space_available"].flatMap(Double.init).map(round2)
            v.gigsTotalDiskSpace = row["gigs_total_disk_space"].flatMap(Double.init).map(round2)
            return .vitals(v)
        case "disk_encryption_darwin":
            var v = HostVitals()
            v.diskEncryptionEnabled = (rows.first?["encrypted"].flatMap { Int($0) } ?? 0) > 0
            return .vitals(v)
        case "logged_in_users":
            var v = HostVitals()
            v.loggedInUsers = rows.compactMap { nonEmpty($0["user"]) }
            return .vitals(v)
        case "users", "users_windows":
            return .users(rows.compactMap { row in
                guard let name = nonEmpty(row["username"]) else { return nil }
                return HostUser(
                    uid: Int64(row["uid"] ?? "") ?? -1, username: name, type: row["type"] ?? "",
                    groupname: row["groupname"] ?? "", shell: row["shell"] ?? "")
            })
        case "software_macos", "software_linux", "software_windows":
            var seen = Set<SoftwareItem>()
            var items: [SoftwareItem] = []
            for row in rows {
                guard let name = nonEmpty(row["name"]) else { continue }
                let item = SoftwareItem(
                    name: name, version: row["version"] ?? "", source: row["source"] ?? "",
                    bundleIdentifier: row["bundle_identifier"] ?? "", installedPath: row["installed_path"] ?? "",
                    lastOpenedAt: row["last_opened_time"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil })
                if seen.insert(item).inserted { items.append(item) }
            }
            return .software(items)
        default:
            return nil
        }
    }

    public static func osVersion(row: [String: String]) -> HostVitals {
        var v = HostVitals()
        v.platform = nonEmpty(row["platform"])
        v.platformLike = nonEmpty(row["platform_like"])
        v.build = nonEmpty(row["build"])
        v.codeName = nonEmpty(row["codename"])
        v.kernelVersion = nonEmpty(row["kernel_version"])
        let name = row["name"] ?? ""
        if v.platform == "windows" || v.platform == "ubuntu" {
            // Windows and Ubuntu carry the meaningful text in `version` ("22.04.4 LTS", "10.0.22631").
            v.osVersion = nonEmpty([name, row["version"] ?? ""].filter { !$0.isEmpty }.joined(separator: " "))
        } else {
            let numbers = [row["major"], row["minor"], row["patch"]].compactMap { nonEmpty($0) }
            let version = numbers.isEmpty ? (row["version"] ?? "") : numbers.joined(separator: ".")
            v.osVersion = nonEmpty([name, version].filter { !$0.isEmpty }.joined(separator: " "))
        }
        return v
    }

    public static func osqueryInfo(row: [String: String]) -> HostVitals {
        var v = HostVitals()
        v.osqueryVersion = nonEmpty(row["version"])
        return v
    }

    public static func systemInfo(row: [String: String]) -> HostVitals {
        var v = HostVitals()
        v.hostname = nonEmpty(row["hostname"])
        v.computerName = nonEmpty(row["computer_name"])
        v.uuid = nonEmpty(row["uuid"])
        v.cpuType = nonEmpty(row["cpu_type"])
        v.cpuSubtype = nonEmpty(row["cpu_subtype"])
        v.cpuBrand = nonEmpty(row["cpu_brand"])?.trimmingCharacters(in: .whitespaces)
        v.cpuPhysicalCores = row["cpu_physical_cores"].flatMap { Int($0) }
        v.cpuLogicalCores = row["cpu_logical_cores"].flatMap { Int($0) }
        v.memoryBytes = row["physical_memory"].flatMap { Int64($0) }
        v.hardwareVendor = nonEmpty(row["hardware_vendor"])
        v.hardwareModel = nonEmpty(row["hardware_model"])
        v.hardwareVersion = nonEmpty(row["hardware_version"])
        // Virtual machines report "-1", "0" or "None" as a serial; that is no identity.
        if let serial = nonEmpty(row["hardware_serial"]), !["-1", "0", "None", "Not Specified"].contains(serial) {
            v.hardwareSerial = serial
        }
        return v
    }

    public static func osqueryFlags(rows: [[String: String]]) -> HostVitals {
        var v = HostVitals()
        var configRefresh: Int?
        for row in rows {
            let value = row["value"].flatMap { Int($0) }
            switch row["name"] {
            case "distributed_interval": v.distributedInterval = value
            case "logger_tls_period": v.loggerTLSPeriod = value
            case "config_tls_refresh", "config_refresh": if let value, value > 0 { configRefresh = value }
            default: break
            }
        }
        v.configTLSRefresh = configRefresh
        return v
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    static func round2(_ d: Double) -> Double { (d * 100).rounded() / 100 }
}
