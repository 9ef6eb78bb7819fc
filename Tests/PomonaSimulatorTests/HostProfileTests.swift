import Foundation
import PomonaCore
import Testing

@testable import PomonaSimulator

@Suite("HostProfile")
struct HostProfileTests {
    @Test func sameSeedAndIndexGiveTheSameHost() {
        #expect(HostProfile(seed: 7, index: 12) == HostProfile(seed: 7, index: 12))
        #expect(HostProfile(seed: 7, index: 12).hardwareUUID != HostProfile(seed: 7, index: 13).hardwareUUID)
        #expect(HostProfile(seed: 7, index: 12).hardwareUUID != HostProfile(seed: 8, index: 12).hardwareUUID)
    }

    @Test("platform_type per platform", arguments: [(OsqueryPlatform.darwin, "21"), (.linux, "9"), (.windows, "2")])
    func platformType(_ platform: OsqueryPlatform, _ expected: String) {
        let host = HostProfile(seed: 1, index: 0, platform: platform)
        #expect(host.platformType == expected)
        #expect(host.osqueryInfo["platform_mask"] == expected)
    }

    @Test(arguments: OsqueryPlatform.allCases)
    func hostDetailsAreAllStringsWithOsqueryKeys(_ platform: OsqueryPlatform) throws {
        for index in 0..<20 {
            let host = HostProfile(seed: 99, index: index, platform: platform)
            // Round-trip through Foundation to check the wire types, not our own model.
            let parsed = try #require(
                try JSONSerialization.jsonObject(with: JSONValue.object(host.hostDetails).compactData()) as? [String: Any])
            for table in ["os_version", "osquery_info", "system_info"] {
                #expect(parsed[table] != nil, "\(table) missing")
            }
            for (table, row) in parsed {
                let columns = try #require(row as? [String: Any])
                for (column, value) in columns {
                    #expect(value is String, "\(table).\(column) is not a string")
                }
            }
            let osqueryInfo = try #require(parsed["osquery_info"] as? [String: Any])
            #expect(
                Set(osqueryInfo.keys) == [
                    "build_distro", "build_platform", "config_hash", "config_valid", "extensions", "instance_id", "pid",
                    "platform_mask", "start_time", "uuid", "version", "watcher",
                ])
            let systemInfo = try #require(parsed["system_info"] as? [String: String])
            #expect(systemInfo["uuid"] == host.hardwareUUID)
            #expect(systemInfo["hardware_serial"] == host.hardwareSerial)
            #expect(systemInfo["computer_name"] == host.computerName)
            for key in ["cpu_brand", "hostname", "local_hostname", "physical_memory", "hardware_model", "hardware_vendor"] {
                #expect(systemInfo[key] != nil, "system_info.\(key)")
            }
            let osVersion = try #require(parsed["os_version"] as? [String: String])
            for key in ["name", "version", "major", "minor", "patch", "build", "platform", "platform_like", "codename", "arch"] {
                #expect(osVersion[key] != nil, "os_version.\(key)")
            }
            #expect(OsqueryPlatform(hostPlatform: osVersion["platform"] ?? "") == platform)
        }
    }

    @Test func hostDetailsKeysAreAlphabetical() throws {
        let details = HostProfile(seed: 3, index: 1, platform: .linux).hostDetails
        for member in details {
            let keys = try #require(member.value.objectValue).keys
            #expect(keys == keys.sorted())
        }
        #expect(HostProfile(seed: 3, index: 1, platform: .linux).osVersion["pid_with_namespace"] == "0")
    }

    @Test func someLinuxHostsHaveNoPlatformInfo() {
        let hosts = (0..<60).map { HostProfile(seed: 5, index: $0, platform: .linux) }
        #expect(hosts.contains { $0.platformInfo == nil })
        #expect(hosts.contains { $0.platformInfo != nil })
        for host in hosts where host.platformInfo == nil {
            #expect(!host.hostDetails.contains("platform_info"))
        }
    }

    @Test func identifierModes() {
        let host = HostProfile(seed: 1, index: 4)
        #expect(host.hostIdentifier() == host.hostname)
        #expect(host.hostIdentifier(.uuid) == host.hardwareUUID)
        #expect(host.hostIdentifier(.instance) == host.instanceID)
        #expect(host.hostIdentifier(.specified("x")) == "x")
        #expect(host.hostIdentifier(.specified("")) == host.hostname)
    }

    static let fleetDetailQueries: [(name: String, sql: String)] = [
        ("fleet_detail_query_os_version", "SELECT * FROM os_version LIMIT 1"),
        ("fleet_detail_query_osquery_info", "select * from osquery_info limit 1"),
        ("fleet_detail_query_system_info", "SELECT * FROM system_info LIMIT 1"),
        ("fleet_detail_query_uptime", "SELECT * FROM uptime LIMIT 1"),
        ("fleet_detail_query_network_interface", "SELECT ia.address, id.mac FROM interface_addresses ia JOIN interface_details id ON id.interface = ia.interface"),
        ("fleet_detail_query_disk_space", "SELECT (blocks_available * 100 / blocks) AS percent_disk_space_available FROM mounts WHERE path = '/' LIMIT 1;"),
        ("fleet_detail_query_memory", "SELECT memory_total AS memory FROM memory_info;"),
        ("fleet_detail_query_users", "SELECT uid, username, type, groupname, shell FROM users"),
        ("fleet_detail_query_software_macos", "SELECT name AS name, bundle_short_version AS version FROM apps"),
        ("fleet_detail_query_software_linux", "SELECT name, version FROM deb_packages UNION SELECT name, version FROM rpm_packages"),
        ("fleet_detail_query_software_windows", "SELECT name, version FROM programs"),
        ("fleet_detail_query_osquery_flags", "SELECT name, value FROM osquery_flags WHERE name IN ('distributed_interval')"),
    ]

    @Test("Fleet detail queries get rows of strings", arguments: fleetDetailQueries)
    func detailQueries(_ query: (name: String, sql: String)) {
        for platform in OsqueryPlatform.allCases {
            let answer = HostProfile(seed: 2, index: 0, platform: platform).answer(name: query.name, sql: query.sql)
            #expect(answer.status == 0)
            #expect(answer.message == "")
            #expect(!answer.rows.isEmpty, "\(query.name) on \(platform)")
        }
    }

    @Test func tableSpecificRows() {
        let host = HostProfile(seed: 2, index: 0, platform: .darwin)
        #expect(host.answer(name: "q", sql: "SELECT * FROM os_version").rows == [host.osVersion])
        #expect(host.answer(name: "q", sql: "SELECT * FROM uptime").rows.first?["total_seconds"] != nil)
    }

    @Test("missing tables fail", arguments: ["SELECT * FROM nope", "select x from does_not_exist where 1"])
    func missingTable(_ sql: String) {
        let answer = HostProfile(seed: 2, index: 0).answer(name: "bad", sql: sql)
        #expect(answer.status == 1)
        #expect(answer.rows.isEmpty)
        #expect(answer.message.hasPrefix("no such table: "))
    }

    @Test func unknownQueriesGetOneGenericRow() {
        #expect(HostProfile(seed: 2, index: 0).answer(name: "x", sql: "SELECT 1").rows.count == 1)
        #expect(HostProfile(seed: 2, index: 0).answer(name: "x", sql: "SELECT * FROM kernel_extensions").rows.count == 1)
    }

    @Test func labelsAndPoliciesAreDeterministicAndMixed() {
        let hosts = (0..<40).map { HostProfile(seed: 11, index: $0) }
        for name in ["fleet_label_query_7", "fleet_policy_query_3"] {
            let counts = hosts.map { $0.answer(name: name, sql: "SELECT 1 FROM os_version WHERE major > 10").rows.count }
            #expect(Set(counts) == [0, 1])
            #expect(counts == hosts.map { $0.answer(name: name, sql: "SELECT 1 FROM os_version WHERE major > 10").rows.count })
        }
    }
}
