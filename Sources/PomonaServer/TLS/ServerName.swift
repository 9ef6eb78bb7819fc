import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A name agents may use to reach the server: a DNS name or an IP address.
///
/// It becomes one `subjectAltName` entry of the server certificate. DNS names are compared
/// case-insensitively (stored lowercased); IP addresses by their bytes, so `::1` and
/// `0:0:0:0:0:0:0:1` are the same name.
enum ServerName: Hashable, Sendable, CustomStringConvertible {
    case dns(String)
    case ipAddress([UInt8])

    /// Parses an operator-supplied name (`--server-name`), which may be an IPv4 or IPv6 literal
    /// (IPv6 optionally in brackets) or a DNS name (optionally with a leading `*.` wildcard).
    init(parsing text: String) throws(TLSMaterialError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var literal = trimmed
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = String(literal.dropFirst().dropLast())
        }
        if let bytes = Self.ipBytes(literal) {
            self = .ipAddress(bytes)
            return
        }
        guard Self.isDNSName(trimmed) else {
            throw .invalidServerName(text)
        }
        self = .dns(trimmed.lowercased())
    }

    /// Reads a SAN entry back; other kinds of names are ignored.
    init?(_ generalName: GeneralName) {
        switch generalName {
        case .dnsName(let name):
            self = .dns(name.lowercased())
        case .ipAddress(let octets):
            self = .ipAddress(Array(octets.bytes))
        default:
            return nil
        }
    }

    /// The SAN entry for this name.
    var generalName: GeneralName {
        switch self {
        case .dns(let name):
            .dnsName(name)
        case .ipAddress(let bytes):
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
        }
    }

    var description: String {
        switch self {
        case .dns(let name):
            return name
        case .ipAddress(let bytes):
            let family = bytes.count == 4 ? AF_INET : AF_INET6
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let ok = bytes.withUnsafeBytes { raw in
                inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
            }
            return ok ? Self.string(fromNulTerminated: buffer) : bytes.map(String.init).joined(separator: ".")
        }
    }

    /// The names every Pomona server certificate carries: `localhost`, the machine's host names,
    /// `127.0.0.1` and `::1`.
    static var defaults: [ServerName] {
        var names: [ServerName] = [.dns("localhost")]
        for host in machineHostNames() {
            if let name = try? ServerName(parsing: host) {
                names.append(name)
            }
        }
        names.append(.ipAddress([127, 0, 0, 1]))
        names.append(.ipAddress(Array(repeating: 0, count: 15) + [1]))
        return names
    }

    /// The host name as `ProcessInfo` reports it and as `gethostname(2)` does (they can differ:
    /// Foundation may return a canonical name), both when different.
    static func machineHostNames() -> [String] {
        var result: [String] = []
        let foundationName = ProcessInfo.processInfo.hostName
        if !foundationName.isEmpty {
            result.append(foundationName)
        }
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count - 1) == 0 {
            let posixName = Self.string(fromNulTerminated: buffer)
            if !posixName.isEmpty, posixName.lowercased() != foundationName.lowercased() {
                result.append(posixName)
            }
        }
        return result
    }

    private static func string(fromNulTerminated buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Letters, digits and hyphens in dot-separated labels of 1–63 characters, at most 253 in all;
    /// the first label may be `*`.
    private static func isDNSName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if index == 0, label == "*", labels.count > 2 { continue }
            guard (1...63).contains(label.utf8.count),
                label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
            else { return false }
        }
        return true
    }
}
