import Foundation
import NIOCore
import PomonaCore
import Synchronization

/// Events and bytes per osquery query name (`name`) per UTC day, counted at ingest, so an admin
/// can see which scheduled query fills the SIEM and forecast a rollout's daily volume.
///
/// Kept in memory and saved to `<data dir>/pipeline/query-volume.json` (atomically, every few
/// seconds and at shutdown; a crash loses at most the last interval of counts, never data).
/// Bounded: the last `keepDays` days, and at most `maxNamesPerDay` names a day (the rest are
/// counted under `(other)`), so a misbehaving agent inventing names cannot grow it without end.
public final class QueryVolume: Sendable {
    public let path: String
    let keepDays: Int
    let maxNamesPerDay: Int
    let state: Mutex<State>

    struct State: Sendable {
        var days: [String: [String: EventTally]] = [:]
        var dirty = false
    }

    public static let otherName = "(other)"

    public init(directory: URL, keepDays: Int = 31, maxNamesPerDay: Int = 5000) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        path = directory.appendingPathComponent("query-volume.json").path
        self.keepDays = keepDays
        self.maxNamesPerDay = maxNamesPerDay
        var state = State()
        if let data = FileManager.default.contents(atPath: path),
            let saved = try? JSONDecoder().decode([String: [String: EventTally]].self, from: data)
        {
            state.days = saved
        }
        self.state = Mutex(state)
    }

    /// The UTC day of `time` (a receive time), `2026-05-18`: arithmetic, no Calendar or
    /// formatter on the ingest path.
    static func day(_ time: Double) -> String {
        UTCDateFields(epochSeconds: time).date
    }

    /// Counts `events` (osquery result rows) by their `name` member.
    public func record(_ events: [ByteBuffer], at time: Double) {
        record(QueryVolume.tally(events), at: time)
    }

    /// Events and bytes by query name: the scanning half of ``record(_:at:)``, done before the
    /// events are stored, so what runs once they are durable (on the spool's writing thread) is
    /// only the addition.
    public static func tally(_ events: [ByteBuffer]) -> [String: EventTally] {
        var counts: [String: EventTally] = [:]
        for event in events {
            let name = QueryVolume.queryName(event) ?? "(unnamed)"
            counts[name, default: .zero] += EventTally(events: 1, bytes: Int64(event.readableBytes))
        }
        return counts
    }

    /// Adds counts from ``tally(_:)`` to the day of `time`.
    public func record(_ counts: [String: EventTally], at time: Double) {
        if counts.isEmpty { return }
        let day = QueryVolume.day(time)
        state.withLock { state in
            // Mutated in place: copying the day out and back copied every name's tally per request.
            let known = state.days[day]?.count ?? 0
            var added = 0
            for (name, tally) in counts {
                if state.days[day]?[name] == nil && known + added >= maxNamesPerDay {
                    state.days[day, default: [:]][QueryVolume.otherName, default: .zero] += tally
                } else {
                    if state.days[day]?[name] == nil { added += 1 }
                    state.days[day, default: [:]][name, default: .zero] += tally
                }
            }
            state.dirty = true
            if state.days.count > keepDays {
                for old in state.days.keys.sorted().dropLast(keepDays) { state.days.removeValue(forKey: old) }
            }
        }
    }

    /// The top-level `name` string of an event, scanning only until it is found.
    static func queryName(_ event: ByteBuffer) -> String? {
        var name: String?
        _ = event.withUnsafeReadableBytes { raw -> Bool in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            let stop = scanner.fail("found")  // a sentinel that ends the scan early
            do {
                try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                    if key == "name", s.peek() == UInt8(ascii: "\"") {
                        name = try s.parseString()
                        throw stop
                    }
                    try s.skipValue()
                }
            } catch {}
            return true
        }
        return name
    }

    /// Every (day, name) count, newest day first, biggest first within a day.
    public func snapshot() -> [PipelineStats.QueryVolume] {
        state.withLock { state in
            state.days.keys.sorted(by: >).flatMap { day in
                state.days[day]!.map { PipelineStats.QueryVolume(day: day, name: $0.key, events: $0.value.events, bytes: $0.value.bytes) }
                    .sorted { ($0.bytes, $0.name) > ($1.bytes, $1.name) }
            }
        }
    }

    public func save() throws {
        let days: [String: [String: EventTally]]? = state.withLock { state in
            guard state.dirty else { return nil }
            state.dirty = false
            return state.days
        }
        guard let days else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileIO.atomicWrite(Array(try encoder.encode(days)), to: path, sync: false)
        } catch {
            state.withLock { $0.dirty = true }
            throw error
        }
    }
}
