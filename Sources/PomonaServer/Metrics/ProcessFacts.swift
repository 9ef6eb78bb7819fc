#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// This process's resident memory and descriptors, from `/proc/self` (Linux).
struct ProcessFacts: Equatable {
    var residentBytes: Int64
    var openFDs: Int
    var maxFDs: Int64

    /// Nil where `/proc` is not mounted (or, with `ProcSubset=pid`, where it still is: that keeps
    /// `/proc/self`).
    static func current() -> ProcessFacts? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let resident = residentPages(statm: statm),
            let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        else { return nil }
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int64(limit.rlim_cur) : -1
        // The listing itself holds one descriptor open while it reads the directory.
        return ProcessFacts(residentBytes: resident * Int64(sysconf(Int32(_SC_PAGESIZE))), openFDs: max(0, fds.count - 1), maxFDs: maxFDs)
    }

    /// The second field of `/proc/self/statm`: resident pages.
    static func residentPages(statm: String) -> Int64? {
        let fields = statm.split(separator: " ")
        guard fields.count >= 2 else { return nil }
        return Int64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
