import Foundation

/// What Pomona knows about a host's hardware, OS and agent, from enrollment and detail queries.
///
/// Every field is optional in an update: a detail query fills the fields it knows and leaves the rest.
/// Values follow Fleet's host JSON so API clients and SIEM rules written for Fleet keep working.
public struct HostVitals: Sendable, Equatable, Codable {
    public var hostname: String?
    public var computerName: String?
    public var uuid: String?
    public var hardwareSerial: String?
    public var hardwareVendor: String?
    public var hardwareModel: String?
    public var hardwareVersion: String?
    public var platform: String?
    public var platformLike: String?
    public var osVersion: String?
    public var build: String?
    public var codeName: String?
    public var kernelVersion: String?
    public var osqueryVersion: String?
    public var cpuType: String?
    public var cpuSubtype: String?
    public var cpuBrand: String?
    public var cpuPhysicalCores: Int?
    public var cpuLogicalCores: Int?
    public var memoryBytes: Int64?
    public var uptimeSeconds: Int64?
    public var primaryIP: String?
    public var primaryMAC: String?
    public var gigsDiskSpaceAvailable: Double?
    public var percentDiskSpaceAvailable: Double?
    public var gigsTotalDiskSpace: Double?
    public var diskEncryptionEnabled: Bool?
    public var distributedInterval: Int?
    public var configTLSRefresh: Int?
    public var loggerTLSPeriod: Int?
    /// Users with an active session (`logged_in_users`), most recent first.
    public var loggedInUsers: [String]?

    public init() {}

    /// Takes every field `update` sets, keeping ours where it has none.
    public mutating func merge(_ update: HostVitals) {
        func take<T>(_ keyPath: WritableKeyPath<HostVitals, T?>) {
            if let value = update[keyPath: keyPath] { self[keyPath: keyPath] = value }
        }
        take(\.hostname); take(\.computerName); take(\.uuid); take(\.hardwareSerial); take(\.hardwareVendor)
        take(\.hardwareModel); take(\.hardwareVersion); take(\.platform); take(\.platformLike); take(\.osVersion)
        take(\.build); take(\.codeName); take(\.kernelVersion); take(\.osqueryVersion); take(\.cpuType)
        take(\.cpuSubtype); take(\.cpuBrand); take(\.cpuPhysicalCores); take(\.cpuLogicalCores); take(\.memoryBytes)
        take(\.uptimeSeconds); take(\.primaryIP); take(\.primaryMAC); take(\.gigsDiskSpaceAvailable)
        take(\.percentDiskSpaceAvailable); take(\.gigsTotalDiskSpace); take(\.diskEncryptionEnabled)
        take(\.distributedInterval); take(\.configTLSRefresh); take(\.loggerTLSPeriod); take(\.loggedInUsers)
    }

    /// The platform family, when the platform is known.
    public var platformFamily: OsqueryPlatform? { platform.flatMap(OsqueryPlatform.init(hostPlatform:)) }
}

/// One installed package or application reported by a software detail query.
public struct SoftwareItem: Sendable, Hashable, Codable {
    public var name: String
    public var version: String
    /// Where it came from: `apps`, `deb_packages`, `rpm_packages`, `programs`, `homebrew_packages`, …
    public var source: String
    public var bundleIdentifier: String
    public var installedPath: String
    public var lastOpenedAt: Double?

    public init(name: String, version: String, source: String, bundleIdentifier: String = "", installedPath: String = "", lastOpenedAt: Double? = nil) {
        self.name = name
        self.version = version
        self.source = source
        self.bundleIdentifier = bundleIdentifier
        self.installedPath = installedPath
        self.lastOpenedAt = lastOpenedAt
    }
}

/// A local account on a host (`users` detail query).
public struct HostUser: Sendable, Hashable, Codable {
    public var uid: Int64
    public var username: String
    public var type: String
    public var groupname: String
    public var shell: String

    public init(uid: Int64, username: String, type: String, groupname: String, shell: String) {
        self.uid = uid
        self.username = username
        self.type = type
        self.groupname = groupname
        self.shell = shell
    }
}
