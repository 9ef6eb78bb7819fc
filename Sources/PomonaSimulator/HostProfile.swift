import PomonaCore

/// A realistic, deterministic fake host for one emulated osqueryd (spec §1.2 and §11).
///
/// Everything derives from `(seed, index)`, so a fleet of 10 000 simulated hosts is the same on
/// every run. The four enroll tables are `[String: String]`: osqueryd sends every `host_details`
/// value as a string, and the type makes that impossible to get wrong.
///
/// ```swift
/// let host = HostProfile(seed: 42, index: 7)          // platform chosen from the index
/// host.platformType                                    // "21", "9" or "2"
/// host.hostDetails.compactString()                    // {"os_version":{…},"osquery_info":{…},…}
/// ```
public struct HostProfile: Sendable, Equatable {
    /// The seed the profile was derived from.
    public let seed: UInt64
    /// The host's position in the simulated fleet.
    public let index: Int
    /// The OS family.
    public let platform: OsqueryPlatform
    /// The osquery version the host runs, e.g. `"5.23.1"`.
    public let osqueryVersion: String
    /// Hardware UUID (`system_info.uuid`; the `uuid` host identifier).
    public let hardwareUUID: String
    /// Hardware serial number.
    public let hardwareSerial: String
    /// `gethostname()`: the short name, the default `host_identifier`.
    public let hostname: String
    /// `system_info.hostname`: the FQDN.
    public let fqdn: String
    /// `system_info.computer_name`.
    public let computerName: String
    /// `osquery_info.instance_id`.
    public let instanceID: String
    /// `osquery_info.start_time` (unix seconds).
    public let startTime: Int64
    /// First row of `os_version`, as sent at enroll.
    public let osVersion: [String: String]
    /// First row of `osquery_info`, as sent at enroll.
    public let osqueryInfo: [String: String]
    /// First row of `system_info`, as sent at enroll.
    public let systemInfo: [String: String]
    /// First row of `platform_info`; `nil` like on VMs without DMI data (the table is left out).
    public let platformInfo: [String: String]?

    /// Builds the host at `index` of a fleet derived from `seed`.
    ///
    /// - Parameters:
    ///   - seed: Fleet-wide seed.
    ///   - index: Host position; with `platform == nil` it also picks the OS (darwin, linux, windows in turn).
    ///   - platform: Forces an OS family.
    ///   - osqueryVersion: Version reported in `osquery_info`, status lines and `User-Agent`.
    ///   - startTime: `osquery_info.start_time`; a fixed 2026 instant by default so profiles are repeatable.
    public init(
        seed: UInt64,
        index: Int,
        platform: OsqueryPlatform? = nil,
        osqueryVersion: String = "5.23.1",
        startTime: Int64 = 1_785_844_790
    ) {
        var random = SeededGenerator(seed: seed, index: index, stream: 1)
        let platform = platform ?? [OsqueryPlatform.darwin, .linux, .windows][((index % 3) + 3) % 3]
        self.seed = seed
        self.index = index
        self.platform = platform
        self.osqueryVersion = osqueryVersion
        self.startTime = startTime
        hardwareUUID = random.uuid()
        instanceID = random.uuid().lowercased()
        let pid = random.int(in: 300...65_000)
        let suffix = String(index).leftPadded(to: 5)

        var osVersion: [String: String]
        var systemInfo: [String: String]
        let platformInfo: [String: String]?
        let buildPlatform: String
        let buildDistro: String
        switch platform {
        case .darwin:
            hardwareSerial = random.serial(length: 10)
            let model = random.pick(["MacBookPro18,3", "Mac14,2", "Mac15,6", "Macmini9,1"])
            hostname = "mac-\(suffix)"
            computerName = "Mac \(suffix)"
            fqdn = "\(hostname).corp.example.com"
            let (major, minor, build) = random.pick([("14", "6", "23G93"), ("15", "3", "24D60"), ("13", "7", "22H123")])
            osVersion = [
                "arch": "arm64", "build": build, "codename": "", "major": major, "minor": minor,
                "name": "macOS", "patch": "1", "platform": "darwin", "platform_like": "darwin",
                "version": "\(major).\(minor).1",
            ]
            systemInfo = [
                "board_model": "", "board_serial": "", "board_vendor": "", "board_version": "",
                "computer_name": computerName, "cpu_brand": "Apple M2 Pro", "cpu_logical_cores": "12",
                "cpu_microcode": "", "cpu_physical_cores": "12", "cpu_sockets": "1", "cpu_subtype": "ARM64E",
                "cpu_type": "arm64e", "hardware_model": model, "hardware_serial": hardwareSerial,
                "hardware_vendor": "Apple Inc.", "hardware_version": "", "hostname": fqdn,
                "local_hostname": hostname, "physical_memory": "34359738368", "uuid": hardwareUUID,
            ]
            platformInfo = [
                "address": "", "date": "", "extra": "", "firmware_type": "uefi", "revision": "",
                "size": "0", "vendor": "Apple Inc.", "version": "10151.140.19", "volume_size": "0",
            ]
            buildPlatform = "darwin"
            buildDistro = "10.14"
        case .linux:
            hardwareSerial = random.serial(length: 12)
            hostname = "web-\(suffix)"
            computerName = hostname
            fqdn = "\(hostname).example.com"
            let (name, platformName, like, codename, major, minor, version) = random.pick([
                ("Ubuntu", "ubuntu", "debian", "jammy", "22", "4", "22.04.4 LTS (Jammy Jellyfish)"),
                ("Ubuntu", "ubuntu", "debian", "noble", "24", "4", "24.04.1 LTS (Noble Numbat)"),
                ("Rocky Linux", "rocky", "rhel centos fedora", "", "9", "4", "9.4 (Blue Onyx)"),
                ("Debian GNU/Linux", "debian", "", "bookworm", "12", "0", "12 (bookworm)"),
            ])
            osVersion = [
                "arch": "x86_64", "build": "", "codename": codename, "major": major, "minor": minor,
                "name": name, "patch": "0", "pid_with_namespace": "0", "platform": platformName,
                "platform_like": like, "version": version,
            ]
            let cores = random.pick(["2", "4", "8", "16"])
            systemInfo = [
                "board_model": "", "board_serial": "", "board_vendor": "", "board_version": "",
                "computer_name": computerName, "cpu_brand": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
                "cpu_logical_cores": cores, "cpu_microcode": "0xd0003a5", "cpu_physical_cores": cores,
                "cpu_sockets": "1", "cpu_subtype": "106", "cpu_type": "x86_64",
                "hardware_model": "Standard PC (Q35 + ICH9, 2009)", "hardware_serial": hardwareSerial,
                "hardware_vendor": "QEMU", "hardware_version": "pc-q35-8.2", "hostname": fqdn,
                "local_hostname": fqdn, "physical_memory": "8253874176", "uuid": hardwareUUID,
            ]
            // Some VMs have no DMI data, so platform_info returns no row and is left out of host_details.
            platformInfo =
                random.int(in: 0...4) == 0
                ? nil
                : [
                    "address": "0xf0000", "date": "04/01/2014", "extra": "", "firmware_type": "bios",
                    "revision": "0.0", "size": "65536", "vendor": "SeaBIOS", "version": "1.16.3-debian-1",
                    "volume_size": "0",
                ]
            buildPlatform = "linux"
            buildDistro = "centos7"
        case .windows:
            hardwareSerial = random.serial(length: 8)
            hostname = "DESKTOP-\(random.serial(length: 7))"
            computerName = hostname
            fqdn = "\(hostname).corp.example.com"
            let build = random.pick(["22631", "19045", "26100"])
            osVersion = [
                "arch": "64-bit", "build": build, "codename": "Microsoft Windows 11 Enterprise",
                "install_date": "1704067200", "major": "10", "minor": "0", "name": "Microsoft Windows 11 Enterprise",
                "patch": "", "platform": "windows", "platform_like": "windows", "revision": "3880",
                "version": "10.0.\(build)",
            ]
            systemInfo = [
                "board_model": "0A2Bh", "board_serial": ".\(hardwareSerial).", "board_vendor": "Dell Inc.",
                "board_version": "A00", "computer_name": computerName,
                "cpu_brand": "13th Gen Intel(R) Core(TM) i7-1365U", "cpu_logical_cores": "12",
                "cpu_microcode": "", "cpu_physical_cores": "10", "cpu_sockets": "1", "cpu_subtype": "-1",
                "cpu_type": "x86_64", "hardware_model": "Latitude 7440", "hardware_serial": hardwareSerial,
                "hardware_vendor": "Dell Inc.", "hardware_version": "", "hostname": hostname,
                "local_hostname": hostname, "physical_memory": "34359738368", "uuid": hardwareUUID,
            ]
            platformInfo = [
                "address": "", "date": "03/12/2024", "extra": "", "firmware_type": "uefi", "revision": "1.11",
                "size": "33554432", "vendor": "Dell Inc.", "version": "1.11.0", "volume_size": "0",
            ]
            buildPlatform = "windows"
            buildDistro = "10"
        }
        osqueryInfo = [
            "build_distro": buildDistro, "build_platform": buildPlatform, "config_hash": "", "config_valid": "0",
            "extensions": "inactive", "instance_id": instanceID, "pid": String(pid),
            "platform_mask": HostProfile.platformType(for: platform), "start_time": String(startTime),
            "uuid": hardwareUUID, "version": osqueryVersion, "watcher": String(pid - 3),
        ]
        self.osVersion = osVersion
        self.systemInfo = systemInfo
        self.platformInfo = platformInfo
    }

    /// The enroll `platform_type`: the build's platform bitmask as a decimal string.
    public var platformType: String { Self.platformType(for: platform) }

    /// `"21"` macOS (POSIX|BSD|OSX), `"9"` Linux (POSIX|LINUX), `"2"` Windows.
    public static func platformType(for platform: OsqueryPlatform) -> String {
        switch platform {
        case .darwin: "21"
        case .linux: "9"
        case .windows: "2"
        }
    }

    /// How the agent names itself (`--host_identifier`, spec §1.5).
    public enum IdentifierMode: Sendable, Hashable {
        /// `gethostname()` (the default).
        case hostname
        /// The hardware UUID.
        case uuid
        /// `osquery_info.instance_id`.
        case instance
        /// `--specified_identifier`; an empty value falls back to the hostname.
        case specified(String)
    }

    /// The `host_identifier` sent at enroll and in every log line.
    public func hostIdentifier(_ mode: IdentifierMode = .hostname) -> String {
        switch mode {
        case .hostname: hostname
        case .uuid: hardwareUUID
        case .instance: instanceID
        case .specified(let value): value.isEmpty ? hostname : value
        }
    }

    /// `host_details` for the enroll body: each table's first row with keys in alphabetical order,
    /// `platform_info` left out when the host has none.
    public var hostDetails: JSONObject {
        var details: JSONObject = [
            "os_version": .object(Self.row(osVersion)),
            "osquery_info": .object(Self.row(osqueryInfo)),
            "system_info": .object(Self.row(systemInfo)),
        ]
        if let platformInfo { details["platform_info"] = .object(Self.row(platformInfo)) }
        return details
    }

    /// A string row as a JSON object with alphabetical keys (osqueryd rows are `std::map`s).
    static func row(_ values: [String: String]) -> JSONObject {
        JSONObject(values.sorted(by: { $0.key < $1.key }).map { ($0.key, .string($0.value)) })
    }
}
