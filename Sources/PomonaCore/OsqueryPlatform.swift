/// An operating-system family that osquery tables and scheduled queries are filtered by.
///
/// osquery itself knows more names (`posix`, `ubuntu`, `centos`, `any`, …); they all map onto these
/// three families, which are the platforms the table facts in `osquery-tables.json` are written for.
public enum OsqueryPlatform: String, Sendable, CaseIterable, Codable, Comparable {
    case darwin
    case linux
    case windows

    public static func < (lhs: OsqueryPlatform, rhs: OsqueryPlatform) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The platforms an osquery `platform` filter string selects.
    ///
    /// osquery matches the filter by substring, so comma lists (`"windows,darwin"`) work. An empty or
    /// missing filter, `any` and `all` select every platform. `posix` selects darwin and linux; Linux
    /// distribution names (`ubuntu`, `centos`, `gentoo`, …) select linux.
    ///
    /// ```swift
    /// OsqueryPlatform.parseFilter("posix")   // [.darwin, .linux]
    /// OsqueryPlatform.parseFilter("")        // all three
    /// ```
    /// - Returns: `nil` when the string names nothing osquery would recognise.
    public static func parseFilter(_ filter: String?) -> Set<OsqueryPlatform>? {
        let text = (filter ?? "").lowercased().trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return Set(allCases) }
        var result = Set<OsqueryPlatform>()
        for part in text.split(separator: ",") {
            let token = part.trimmingCharacters(in: .whitespaces)
            switch token {
            case "": continue
            case "any", "all": result.formUnion(allCases)
            case "posix": result.formUnion([.darwin, .linux])
            case "darwin", "macos", "osx": result.insert(.darwin)
            case "windows": result.insert(.windows)
            default:
                if linuxDistributions.contains(token) { result.insert(.linux) } else { return nil }
            }
        }
        return result.isEmpty ? nil : result
    }

    /// The family of a host, from `os_version.platform` (`darwin`, `ubuntu`, `rhel`, `windows`, …).
    public init?(hostPlatform: String) {
        let name = hostPlatform.lowercased()
        switch name {
        case "darwin", "macos": self = .darwin
        case "windows": self = .windows
        default:
            if OsqueryPlatform.linuxDistributions.contains(name) { self = .linux } else { return nil }
        }
    }

    /// Names osquery and Fleet use for Linux hosts (`os_version.platform` values and filter words).
    static let linuxDistributions: Set<String> = [
        "linux", "ubuntu", "debian", "centos", "rhel", "fedora", "amzn", "arch", "gentoo", "opensuse",
        "suse", "sles", "manjaro", "nixos", "kali", "pop", "linuxmint", "alpine", "rocky", "almalinux",
        "oracle", "ol",
    ]
}

import Foundation
