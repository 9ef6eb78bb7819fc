import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The service manager's side of `sd_notify`, for tests: a datagram socket bound to a path or an
/// abstract name, whose messages are read without blocking a thread.
final class NotifyReceiver: Sendable {
    let fd: Int32
    /// The value for `NOTIFY_SOCKET`.
    let address: String
    private let path: String?

    struct Timeout: Error, CustomStringConvertible {
        var waitingFor: String
        var seen: [String]
        var description: String { "no notification \(waitingFor); received: \(seen)" }
    }

    /// `abstract`: bind `@name` in the abstract namespace instead of a file.
    init(abstract: Bool) throws {
        let name = "pomona-notify-\(UUID().uuidString.prefix(8))"
        let sunPath: [UInt8]
        if abstract {
            address = "@" + name
            sunPath = [0] + Array(name.utf8)
            path = nil
        } else {
            let file = "/tmp/\(name).sock"
            address = file
            sunPath = Array(file.utf8) + [0]
            path = file
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: sunPath) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + sunPath.count)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil when none is waiting.
    func poll() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Reads messages until one satisfies `matches`, returning it and those before it; fails after
    /// `timeout`.
    func next(
        _ what: String, timeout: Duration = .seconds(60), where matches: (String) -> Bool
    ) async throws -> (match: String, before: [String]) {
        var seen: [String] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            while let message = poll() {
                if matches(message) { return (message, seen) }
                seen.append(message)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(waitingFor: what, seen: seen)
    }
}

extension String {
    /// The assignments of one notify message (`KEY=value` lines).
    var notifyAssignments: [String: String] {
        var result: [String: String] = [:]
        for line in split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            result[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return result
    }
}
