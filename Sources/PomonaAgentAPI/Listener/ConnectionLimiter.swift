import NIOCore
import Synchronization

/// Bounds the open agent connections per source address.
///
/// Why: every connection holds TLS and channel state (27–35 KB) and up to
/// ``BodyBudget/freeBytes`` of uncounted body, so one address opening connections without end
/// would take memory and descriptors from everyone. osqueryd keeps about three connections
/// (config, distributed, logger threads; spec §6.4), so the limit must leave room for the hosts
/// of an office behind one NAT address: the default (512) admits about 170 such hosts.
///
/// IPv6 addresses count by their /64 (one subscriber's prefix: its addresses cost nothing to
/// vary), IPv4-mapped IPv6 addresses as the IPv4 address. The machine's own 127.0.0.1 and ::1
/// are not limited: a reverse proxy on the same box, or `pomona simulate`, connect from there.
public final class ConnectionLimiter: Sendable {
    /// Where connections are counted: an IPv4 address, or an IPv6 /64.
    public enum Source: Hashable, Sendable {
        case v4(UInt32)
        case v6Prefix(UInt64)

        /// `nil` for an address that is not limited (loopback 127.0.0.1 or ::1, a Unix socket).
        public init?(_ address: SocketAddress?) {
            guard let address else { return nil }
            switch address {
            // The address bytes are read at their offsets in sockaddr_in (4) and sockaddr_in6 (8),
            // the same on Linux and Darwin: naming the C fields needs the module that defines
            // them, which differs between platforms and NIO versions.
            case .v4(let v4):
                let host = withUnsafeBytes(of: v4.address) { raw in raw[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
                if host == 0x7F00_0001 { return nil }
                self = .v4(host)
            case .v6(let v6):
                let bytes = withUnsafeBytes(of: v6.address) { Array($0[8..<24]) }
                let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if high == 0, low == 1 { return nil }  // ::1
                if high == 0, low >> 32 == 0xFFFF {  // ::ffff:a.b.c.d
                    let host = UInt32(truncatingIfNeeded: low)
                    if host == 0x7F00_0001 { return nil }
                    self = .v4(host)
                } else {
                    self = .v6Prefix(high)
                }
            case .unixDomainSocket:
                return nil
            }
        }
    }

    public enum Admission: Equatable, Sendable {
        /// Counted against `source` (nil: not limited); give it back with ``release(_:)``.
        case admitted(Source?)
        /// Over the limit. `report` is how many refusals to log now (see ``RefusalTally``).
        case refused(report: Int?)
    }

    /// Connections allowed per source; 0 means no limit.
    public let perSource: Int
    private struct State {
        var open: [Source: Int] = [:]
        var refusals = RefusalTally()
    }
    private let state = Mutex(State())

    public init(perSource: Int) {
        self.perSource = perSource
    }

    public func admit(_ address: SocketAddress?, now: NIODeadline) -> Admission {
        guard perSource > 0, let source = Source(address) else { return .admitted(nil) }
        return state.withLock { state in
            let open = state.open[source, default: 0]
            guard open < perSource else { return .refused(report: state.refusals.refused(now: now)) }
            state.open[source] = open + 1
            return .admitted(source)
        }
    }

    public func release(_ source: Source?) {
        guard let source else { return }
        state.withLock { state in
            guard let open = state.open[source] else { return }
            state.open[source] = open > 1 ? open - 1 : nil
        }
    }

    /// Open connections counted against `address`'s source.
    public func openConnections(from address: SocketAddress) -> Int {
        guard let source = Source(address) else { return 0 }
        return state.withLock { $0.open[source, default: 0] }
    }
}
