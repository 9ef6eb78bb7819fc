import Foundation
import PomonaCore

/// A tiny fake dataset so a simulated host can answer the queries a Fleet-style server sends.
///
/// It is not SQL: it finds the table names after `FROM`/`JOIN` and answers with plausible rows
/// for the host. Fleet detail queries (`fleet_detail_query_*`) get rows for their tables; label
/// and policy queries (`fleet_label_query_*`, `fleet_policy_query_*`) get one row or none,
/// decided by a hash of the host and the query name, so a host always gives the same answer.
extension HostProfile {
    /// Tables the dataset treats as missing, to exercise the error path (`no such table: nope`).
    public static let missingTables: Set<String> = ["nope", "does_not_exist", "no_such_table", "nonexistent_table"]

    /// Answers one distributed query.
    ///
    /// ```swift
    /// host.answer(name: "fleet_detail_query_os_version", sql: "SELECT * FROM os_version LIMIT 1")
    /// host.answer(name: "q1", sql: "SELECT * FROM nope")   // status 1, "no such table: nope"
    /// ```
    public func answer(name: String, sql: String) -> QueryAnswer {
        let tables = Self.tableNames(in: sql)
        if let missing = tables.first(where: { Self.missingTables.contains($0) }) {
            return .failure("no such table: \(missing)")
        }
        if name.hasPrefix("fleet_label_query_") || name.hasPrefix("fleet_policy_query_") {
            return .rows(stableBit(name) ? [["1": "1"]] : [])
        }
        for table in tables {
            if let rows = rows(forTable: table) { return .rows(rows) }
        }
        // Unknown table or no table at all (`SELECT 1`): one generic row.
        return .rows([["1": "1"]])
    }

    /// Table names following `FROM` or `JOIN`, lowercased, in order of appearance.
    static func tableNames(in sql: String) -> [String] {
        let separators = Set(" \t\n\r,;()".unicodeScalars)
        var words: [String] = []
        var current = ""
        for scalar in sql.lowercased().unicodeScalars {
            if separators.contains(scalar) {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        var tables: [String] = []
        for (position, word) in words.enumerated() where (word == "from" || word == "join") && position + 1 < words.count {
            let table = words[position + 1].trimmingCharacters(in: ["`", "\"", "'"])
            if table != "select" { tables.append(table) }
        }
        return tables
    }

    /// Whether this host "matches" a label or passes a policy: stable per (host, query name).
    func stableBit(_ name: String) -> Bool {
        // FNV-1a over the name and the host's UUID: cheap, stable across runs and platforms.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in (name + hardwareUUID).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash % 2 == 0
    }

    /// Rows for a known table, or `nil` when the dataset does not know it.
    func rows(forTable table: String) -> [[String: String]]? {
        var random = SeededGenerator(seed: seed, index: index, stream: 2)
        switch table {
        case "os_version": return [osVersion]
        case "osquery_info": return [osqueryInfo]
        case "system_info": return [systemInfo]
        case "platform_info": return platformInfo.map { [$0] } ?? []
        case "uptime":
            let seconds = random.int(in: 3_600...4_000_000)
            return [[
                "days": String(seconds / 86_400), "hours": String(seconds % 86_400 / 3_600),
                "minutes": String(seconds % 3_600 / 60), "seconds": String(seconds % 60),
                "total_seconds": String(seconds),
            ]]
        case "interface_details", "interface_addresses", "network_interface":
            let octet = index % 250 + 2
            let mac = "02:42:\(random.hex(bytes: 1)):\(random.hex(bytes: 1)):\(random.hex(bytes: 1)):\(random.hex(bytes: 1))".lowercased()
            let interface = platform == .darwin ? "en0" : platform == .linux ? "eth0" : "Ethernet"
            return [[
                "address": "10.\(index / 62_500 % 256).\(index / 250 % 250).\(octet)", "broadcast": "",
                "interface": interface, "mac": mac, "mask": "255.255.255.0", "point_to_point": "", "type": "",
            ]]
        case "mounts", "disk_space", "logical_drives":
            let total = Int64(random.pick([256, 512, 1024])) * 1_000_000_000
            let free = total * Int64(random.int(in: 10...80)) / 100
            return [[
                "gigs_disk_space_available": String(free / 1_000_000_000),
                "gigs_total_disk_space": String(total / 1_000_000_000),
                "percent_disk_space_available": String(free * 100 / total),
            ]]
        case "memory_info", "memory":
            return [["memory": systemInfo["physical_memory"] ?? "0"]]
        case "users":
            switch platform {
            case .darwin:
                return [
                    ["uid": "0", "username": "root", "type": "", "groupname": "wheel", "shell": "/bin/sh"],
                    ["uid": "501", "username": "alice", "type": "", "groupname": "staff", "shell": "/bin/zsh"],
                ]
            case .linux:
                return [
                    ["uid": "0", "username": "root", "type": "", "groupname": "root", "shell": "/bin/bash"],
                    ["uid": "1000", "username": "ubuntu", "type": "", "groupname": "ubuntu", "shell": "/bin/bash"],
                ]
            case .windows:
                return [
                    ["uid": "500", "username": "Administrator", "type": "local", "groupname": "", "shell": "C:\\Windows\\system32\\cmd.exe"],
                    ["uid": "1001", "username": "alice", "type": "local", "groupname": "", "shell": "C:\\Windows\\system32\\cmd.exe"],
                ]
            }
        case "apps":
            return [
                ["name": "Safari.app", "version": "18.3", "bundle_identifier": "com.apple.Safari", "source": "apps"],
                ["name": "Google Chrome.app", "version": "133.0.6943.98", "bundle_identifier": "com.google.Chrome", "source": "apps"],
            ]
        case "deb_packages", "rpm_packages":
            let source = table
            return [
                ["name": "openssl", "version": "3.0.2-0ubuntu1.18", "source": source, "arch": "amd64"],
                ["name": "bash", "version": "5.1-6ubuntu1.1", "source": source, "arch": "amd64"],
            ]
        case "programs":
            return [
                ["name": "Google Chrome", "version": "133.0.6943.98", "source": "programs", "publisher": "Google LLC"],
                ["name": "7-Zip 23.01 (x64)", "version": "23.01", "source": "programs", "publisher": "Igor Pavlov"],
            ]
        case "osquery_flags":
            return [
                ["name": "distributed_interval", "value": "10"],
                ["name": "config_tls_refresh", "value": "10"],
                ["name": "logger_tls_period", "value": "10"],
            ]
        case "processes":
            return [["pid": "1", "name": platform == .windows ? "System" : "launchd", "path": ""]]
        default:
            return nil
        }
    }
}
