import Foundation

/// The `host_details` an agent sends at enrollment (protocol spec §1.2), turned into vitals.
///
/// Every value arrives as a string; whole tables or columns can be missing (§10.14), so every
/// field is read defensively.
public enum EnrollmentDetails {
    /// Vitals from `host_details` (`os_version`, `osquery_info`, `system_info`, `platform_info`).
    public static func vitals(from details: JSONValue?) -> HostVitals {
        var vitals = HostVitals()
        guard let details else { return vitals }
        if let os = details["os_version"] { vitals.merge(DetailQueryIngest.osVersion(row: os.stringRow)) }
        if let info = details["osquery_info"] { vitals.merge(DetailQueryIngest.osqueryInfo(row: info.stringRow)) }
        if let system = details["system_info"] { vitals.merge(DetailQueryIngest.systemInfo(row: system.stringRow)) }
        return vitals
    }
}

extension JSONValue {
    /// An object's members as text, the way osquery row values are meant.
    public var stringRow: [String: String] {
        guard case .object(let members) = self else { return [:] }
        var row: [String: String] = [:]
        for (key, value) in members where row[key] == nil { row[key] = value.textValue ?? "" }
        return row
    }
}
