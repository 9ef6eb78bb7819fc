/// An IPv4 range (CIDR) whose addresses the simulator gives its hosts as source addresses, one
/// per host: the server then sees a fleet of distinct addresses, and a loopback run is not held
/// back by the ephemeral ports of one address.
///
/// Why: every connection from one source address to one server address and port needs its own
/// ephemeral port, and Linux looks for a free one by probing (`__inet_hash_connect`). With about
/// 18,000 connections from 127.0.0.1 to one port, `connect()` took 23% of the machine's CPU during
/// an enrollment storm (`perf record -a`), all of it the simulator's, none the server's. On Linux
/// every address of 127.0.0.0/8 is local, so `127.1.0.0/16` gives each of 65,534 hosts its own.
public struct SourceAddressRange: Sendable, Equatable, CustomStringConvertible {
    /// The network address, as a number.
    let network: UInt32
    /// Prefix length, 8...30.
    let prefix: Int

    /// Parses `a.b.c.d/n` (n in 8...30); nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), (8...30).contains(prefix),
            let address = Self.parseIPv4(parts[0])
        else { return nil }
        let mask = ~UInt32(0) << (32 - prefix)
        self.network = address & mask
        self.prefix = prefix
    }

    /// Usable host addresses: the range without its network and broadcast addresses.
    public var count: Int { (1 << (32 - prefix)) - 2 }

    /// The address of host `index`: the range's host addresses in order, round again past the end.
    public func address(for index: Int) -> String {
        let value = network + 1 + UInt32(index % count)
        return "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    public var description: String {
        "\(network >> 24).\((network >> 16) & 0xFF).\((network >> 8) & 0xFF).\(network & 0xFF)/\(prefix)"
    }

    private static func parseIPv4(_ text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
