import Foundation
import PomonaCore

/// The carves Pomona asked hosts for: only these may be started (`carve/begin`).
///
/// Why: any holder of the fleet-wide enroll secret could otherwise upload carves at will (a 4 GiB
/// carve was accepted) into the database. osquery starts a carve some time after it answered a
/// carve query (`SELECT * FROM carves WHERE carve = 1 AND path LIKE …`, or `carve(path)`): the
/// answer's rows hold a `carve_guid`, which is the `carve_id` its `carve/begin` names (spec §8.1;
/// the `request_id` is a fresh UUID since osquery 4.7, so it links to nothing). So when a host
/// answers a query that Pomona queued for that very host, and whose SQL is a carve query, the
/// `carve_guid`s of its rows are expected from it, for a day (osquery starts pending carves within
/// a minute; a day leaves room for a host that slept). Held in memory: a restart between the
/// answer and the start loses the expectation, and the carve has to be asked for again.
///
/// A plain value with the time passed in; ``AgentService`` keeps it behind a lock.
public struct ExpectedCarves: Sendable {
    struct Key: Hashable, Sendable {
        var hostID: Int64
        var carveID: String
    }

    /// How long an expected carve may take to start.
    public static let lifetime: TimeInterval = 86_400
    /// Carves taken from one answer: a carve query schedules one carve per host (all its paths
    /// in one archive); a few more allow for `carve()` over several groups.
    public static let perAnswer = 4
    /// Carves expected at once across the fleet; past this the oldest are forgotten.
    public static let capacity = 10_000

    private(set) var expiry: [Key: Date] = [:]

    public init() {}

    /// Records the carves a host's answer to a carve query announced (its rows' `carve_guid`s).
    public mutating func expect(hostID: Int64, rowsJSON: [UInt8], now: Date) {
        for carveID in Self.carveGUIDs(rowsJSON) {
            if expiry.count >= Self.capacity { forgetExpired(now: now) }
            if expiry.count >= Self.capacity, let oldest = expiry.min(by: { $0.value < $1.value })?.key { expiry[oldest] = nil }
            expiry[Key(hostID: hostID, carveID: carveID)] = now.addingTimeInterval(Self.lifetime)
        }
    }

    public func isExpected(hostID: Int64, carveID: String, now: Date) -> Bool {
        guard let until = expiry[Key(hostID: hostID, carveID: carveID)] else { return false }
        return now < until
    }

    private mutating func forgetExpired(now: Date) {
        expiry = expiry.filter { now < $0.value }
    }

    /// Whether SQL Pomona sent is a carve query: it names the `carves` table or calls `carve(…)`.
    /// (Reading the `carves` table without `carve = 1` starts nothing; its rows' guids are carves
    /// the host already has, so accepting them asks for nothing new.)
    public static func isCarveQuery(_ sql: String) -> Bool {
        let text = sql.lowercased().utf8
        var token: [UInt8] = []
        var previous: [UInt8] = []
        func isWord(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F }
        for byte in text {
            if isWord(byte) {
                token.append(byte)
                continue
            }
            if !token.isEmpty {
                if token == Array("carves".utf8) { return true }
                previous = token
                token = []
            }
            if byte == UInt8(ascii: "(") && previous == Array("carve".utf8) { return true }
            if byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { previous = [] }
        }
        return token == Array("carves".utf8)
    }

    /// The distinct `carve_guid`s of a result's rows (at most ``perAnswer``, each a plausible id).
    static func carveGUIDs(_ rowsJSON: [UInt8]) -> [String] {
        guard let rows = try? JSONValue.parse(rowsJSON), case .array(let items) = rows else { return [] }
        var guids: [String] = []
        for item in items {
            guard let guid = item["carve_guid"]?.stringValue, isPlausibleCarveID(guid), !guids.contains(guid) else { continue }
            guids.append(guid)
            if guids.count == perAnswer { break }
        }
        return guids
    }

    /// osquery's carve ids are UUIDs; anything much longer or with other characters is no carve id.
    public static func isPlausibleCarveID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
            }
    }
}
