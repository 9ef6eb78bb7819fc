import Foundation
import PomonaCore
import PomonaStore

/// A host as Fleet's API shows it. Seen time and status come from the in-memory registry (the
/// database copy of `seen_at` is flushed every few seconds); the rest from the stored record.
enum HostJSON {
    /// Status and seen time of a host, preferring the registry's live state.
    static func liveState(_ record: HostRecord, _ state: HostCheckInState?, now: Date) -> (status: HostStatus, seen: Date?) {
        let seen = [state?.seenAt, record.seenAt].compactMap { $0 }.max()
        let status = HostStatus.of(
            seenAt: seen, createdAt: record.createdAt,
            distributedInterval: state?.distributedInterval ?? record.vitals.distributedInterval,
            configTLSRefresh: state?.configTLSRefresh ?? record.vitals.configTLSRefresh, now: now)
        return (status, seen)
    }

    static func object(_ record: HostRecord, state: HostCheckInState?, now: Date) -> [(String, JSONValue)] {
        let v = record.vitals
        let (status, seen) = liveState(record, state, now: now)
        let hostname = v.hostname ?? ""
        let displayName = (v.computerName?.isEmpty == false ? v.computerName : nil) ?? hostname
        let uptimeNanoseconds = v.uptimeSeconds.map { $0 * 1_000_000_000 }
        return [
            ("id", .int(record.id)),
            ("created_at", .date(record.createdAt)),
            ("updated_at", .date(record.detailUpdatedAt ?? record.lastEnrolledAt)),
            ("detail_updated_at", .date(record.detailUpdatedAt)),
            ("last_enrolled_at", .date(record.lastEnrolledAt)),
            ("seen_time", .date(seen ?? record.createdAt)),
            ("refetch_requested", .bool(state?.refetchRequested ?? record.refetchRequested)),
            ("hostname", .string(hostname)),
            ("uuid", .string(v.uuid ?? "")),
            ("hardware_serial", .string(v.hardwareSerial ?? "")),
            ("osquery_host_id", .string(record.osqueryHostID)),
            ("platform", .string(v.platform ?? "")),
            ("platform_like", .string(v.platformLike ?? "")),
            ("os_version", .string(v.osVersion ?? "")),
            ("build", .string(v.build ?? "")),
            ("code_name", .string(v.codeName ?? "")),
            ("kernel_version", .string(v.kernelVersion ?? "")),
            ("osquery_version", .string(v.osqueryVersion ?? "")),
            ("uptime", uptimeNanoseconds.map(JSONValue.int) ?? .int(0)),
            ("memory", .int(v.memoryBytes ?? 0)),
            ("cpu_type", .string(v.cpuType ?? "")),
            ("cpu_subtype", .string(v.cpuSubtype ?? "")),
            ("cpu_brand", .string(v.cpuBrand ?? "")),
            ("cpu_physical_cores", .int(v.cpuPhysicalCores ?? 0)),
            ("cpu_logical_cores", .int(v.cpuLogicalCores ?? 0)),
            ("hardware_vendor", .string(v.hardwareVendor ?? "")),
            ("hardware_model", .string(v.hardwareModel ?? "")),
            ("hardware_version", .string(v.hardwareVersion ?? "")),
            ("computer_name", .string(v.computerName ?? "")),
            ("display_name", .string(displayName)),
            ("display_text", .string(hostname)),
            ("primary_ip", .string(v.primaryIP ?? "")),
            ("primary_mac", .string(v.primaryMAC ?? "")),
            ("public_ip", .string(record.remoteIP)),
            ("distributed_interval", .int(state?.distributedInterval ?? v.distributedInterval ?? 0)),
            ("config_tls_refresh", .int(state?.configTLSRefresh ?? v.configTLSRefresh ?? 0)),
            ("logger_tls_period", .int(v.loggerTLSPeriod ?? 0)),
            ("gigs_disk_space_available", v.gigsDiskSpaceAvailable.map(JSONValue.double) ?? .int(0)),
            ("percent_disk_space_available", v.percentDiskSpaceAvailable.map(JSONValue.double) ?? .int(0)),
            ("gigs_total_disk_space", v.gigsTotalDiskSpace.map(JSONValue.double) ?? .int(0)),
            ("disk_encryption_enabled", v.diskEncryptionEnabled.map(JSONValue.bool) ?? .null),
            ("team_id", .null),
            ("team_name", .null),
            ("status", .string(status.rawValue)),
            ("new", .bool(HostStatus.isNew(createdAt: record.createdAt, now: now))),
        ]
    }

    static func software(_ item: SoftwareItem) -> JSONValue {
        .object([
            ("name", .string(item.name)), ("version", .string(item.version)), ("source", .string(item.source)),
            ("bundle_identifier", .string(item.bundleIdentifier)), ("installed_paths", .array(item.installedPath.isEmpty ? [] : [.string(item.installedPath)])),
            ("last_opened_at", item.lastOpenedAt.map { JSONValue.date(Date(timeIntervalSince1970: $0)) } ?? .null),
        ])
    }

    static func user(_ user: HostUser) -> JSONValue {
        .object([
            ("uid", .int(user.uid)), ("username", .string(user.username)), ("type", .string(user.type)),
            ("groupname", .string(user.groupname)), ("shell", .string(user.shell)),
        ])
    }
}
