#if canImport(Glibc)
import Glibc
#endif

/// Why a notification could not be sent to systemd.
public struct SystemdNotifyError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The address in `$NOTIFY_SOCKET`: a filesystem path (`/run/systemd/notify`) or a Linux
/// abstract-namespace name written with a leading `@`.
public struct NotifySocketAddress: Equatable, Sendable {
    /// The bytes of `sun_path` as the kernel compares them: for an abstract name a leading NUL
    /// and no terminator; for a path the path and its terminating NUL.
    public let sunPath: [UInt8]

    /// `sun_path` is 108 bytes on Linux.
    static let capacity = 108

    public init(_ value: String) throws(SystemdNotifyError) {
        let bytes = Array(value.utf8)
        guard let first = bytes.first else { throw SystemdNotifyError("NOTIFY_SOCKET is empty") }
        switch first {
        case UInt8(ascii: "/"):
            guard !bytes.contains(0) else { throw SystemdNotifyError("NOTIFY_SOCKET contains a NUL byte") }
            sunPath = bytes + [0]
        case UInt8(ascii: "@"):
            guard bytes.count > 1 else { throw SystemdNotifyError("NOTIFY_SOCKET names an empty abstract socket") }
            sunPath = [0] + bytes.dropFirst()
        default:
            // systemd also knows `vsock:` (for VMs); Pomona runs on the host, so it is refused by name.
            throw SystemdNotifyError("NOTIFY_SOCKET must be an absolute path or @abstract name, not \(value)")
        }
        guard sunPath.count <= Self.capacity else {
            throw SystemdNotifyError("NOTIFY_SOCKET is longer than \(Self.capacity) bytes")
        }
    }
}

/// One `sd_notify(3)` message: newline-separated `KEY=value` assignments in one datagram.
public enum SystemdNotifyMessage {
    /// Encodes the assignments in order. A value cannot carry a newline (it would start a new
    /// assignment), so newlines in free text such as `STATUS=` become spaces.
    public static func encode(_ assignments: [(String, String)]) -> [UInt8] {
        let lines = assignments.map { key, value in
            key + "=" + value.map { $0 == "\n" || $0 == "\r" ? " " : String($0) }.joined()
        }
        return Array(lines.joined(separator: "\n").utf8)
    }
}

/// Sends notifications to the service manager over `$NOTIFY_SOCKET` (the `sd_notify(3)`
/// protocol, implemented here so no libsystemd is needed).
///
/// Each message is one datagram on a fresh `AF_UNIX`/`SOCK_DGRAM` socket, sent without blocking:
/// systemd reads these promptly, and a manager too busy to take a status line must not stall
/// the health loop that calls this. Messages are rare (a few a minute), so a socket per message
/// costs nothing and survives the manager re-creating its socket (`daemon-reexec`).
public struct SystemdNotifier: Sendable {
    public let address: NotifySocketAddress

    public init(address: NotifySocketAddress) {
        self.address = address
    }

    /// The notifier for this process, or nil when not started by systemd with `Type=notify`
    /// (no `NOTIFY_SOCKET`). A malformed variable is an error the caller reports.
    public static func fromEnvironment(_ environment: [String: String]) throws(SystemdNotifyError) -> SystemdNotifier? {
        guard let value = environment["NOTIFY_SOCKET"] else { return nil }
        return SystemdNotifier(address: try NotifySocketAddress(value))
    }

    public func send(_ assignments: [(String, String)]) throws(SystemdNotifyError) {
        let message = SystemdNotifyMessage.encode(assignments)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdNotifyError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
            raw.copyBytes(from: address.sunPath)
        }
        // The length covers exactly the significant bytes: for abstract names every byte counts,
        // trailing NULs included, so the full 108 would name a different socket.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + address.sunPath.count)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), $0, length)
                }
            }
        }
        guard sent == message.count else {
            throw SystemdNotifyError("sending to NOTIFY_SOCKET failed: \(sent < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}

/// The watchdog systemd arms for this process (`WatchdogSec=` in the unit).
public struct SystemdWatchdog: Equatable, Sendable {
    /// The time systemd waits for a `WATCHDOG=1` before it kills and restarts the service.
    public let timeout: Duration

    /// Pings go out at half the timeout, as `sd_watchdog_enabled(3)` recommends, so one late tick
    /// does not cost a restart.
    public var pingInterval: Duration { timeout / 2 }

    /// From `WATCHDOG_USEC` (and `WATCHDOG_PID`, which names the process meant when set: a child
    /// that inherited the variables must not ping for its parent). Nil when no watchdog is armed.
    public static func fromEnvironment(_ environment: [String: String], pid: Int32 = getpid()) throws(SystemdNotifyError) -> SystemdWatchdog? {
        guard let text = environment["WATCHDOG_USEC"] else { return nil }
        guard let usec = Int64(text), usec > 0 else {
            throw SystemdNotifyError("WATCHDOG_USEC must be a positive number of microseconds, not \(text)")
        }
        if let pidText = environment["WATCHDOG_PID"] {
            guard let watchedPID = Int32(pidText) else { throw SystemdNotifyError("WATCHDOG_PID must be a process id, not \(pidText)") }
            if watchedPID != pid { return nil }
        }
        return SystemdWatchdog(timeout: .microseconds(usec))
    }
}
