// The properties the pipeline fuzz target checks on every input, shared by the libFuzzer target
// (`PomonaPipelineFuzz.swift`, built by `.ci/fuzz` straight from the sources into one module) and
// the replay of kept inputs (`PipelineFuzzRegressionTests`, which reaches this file through a
// symlink in Tests/PomonaEndToEndTests and imports the real modules).
//
// Each input is tried three ways: as one osquery result log line, as an osquery `/log` body
// (envelope → lines, as AgentService.log and PipelineLogSink take it apart), and as a `/collector`
// body. Every event that comes out then goes through field lookups, conditions, a transform, an
// enrich-style insertion and a throttle. Nothing here may trap, and:
// - the splitter returns only events that are one JSON object (and strict JSON when the line was);
// - it returns exactly one event per row (removed + added, or snapshot rows; one marker for an
//   empty per-row snapshot), or the line itself;
// - a lookup's byte range is the value it claims (a string between quotes, a skippable value);
// - `equals`/`prefix`/`in`/`exists` agree with the field's text, `not`/`all`/`any` with logic;
// - after transforms the event is still a JSON object and its cached member index is exact;
// - the collector returns only strict JSON objects within the size limit, or a refusal.
// A violated property is returned as a message; the fuzz target turns it into a crash.

#if canImport(PomonaPipeline)
import Foundation
import NIOCore
@testable import PomonaAgentAPI
@testable import PomonaCore
@testable import PomonaPipeline
#else
import Foundation
import NIOCore
#endif

enum PipelineFuzzChecks {
    /// Lines, events and paths examined per input: enough for coverage, bounded for speed.
    static let maxLines = 8
    static let maxEvents = 8
    /// Regex conditions (NSRegularExpression, slow on Linux) are evaluated on this many paths per event.
    static let regexPaths = 2
    static let collectorEventLimit = 4096

    /// The property violations `input` shows (empty when it holds them all).
    static func violations(_ input: [UInt8]) -> [String] {
        var report = Report()
        checkLine(ByteBuffer(bytes: input), &report)
        for line in logBodyLines(input).prefix(maxLines) { checkLine(line, &report) }
        checkCollectorBody(input, &report)
        return report.failures
    }

    struct Report {
        var failures: [String] = []
        var events = 0

        mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { failures.append(message()) }
        }
    }

    // MARK: - JSON validity, two ways

    /// One JSON object per the pipeline's own validator (RawJSON: structure, not UTF-8).
    static func isRawObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let (_, end) = try? RawJSON.members(bytes) else { return false }
        return RawJSON.skipWhitespace(bytes, end) == bytes.count
    }

    static func isRawObject(_ buffer: ByteBuffer) -> Bool { buffer.withUnsafeReadableBytes(isRawObject) }

    /// The value per PomonaCore's JSONScanner (the agent API's validator), or nil.
    static func strictValue(_ bytes: [UInt8]) -> JSONValue? { try? JSONValue.parse(bytes) }

    // MARK: - /log

    /// The `data` lines of an osquery `/log` body, found the way AgentService.log finds them
    /// (every line an object); empty when the body would be refused.
    static func logBodyLines(_ body: [UInt8]) -> [ByteBuffer] {
        var ranges: [Range<Int>] = []
        let accepted: Bool = body.withUnsafeBufferPointer { raw in
            var scanner = JSONScanner(raw)
            guard scanner.peek() == UInt8(ascii: "{") else { return false }
            do {
                try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                    guard key == "data" else { try s.skipValue(); return }
                    guard s.peek() == UInt8(ascii: "[") else { throw s.fail("data must be an array of objects") }
                    try s.forEachElement { (item: inout JSONScanner) throws(JSONScanError) in
                        guard item.peek() == UInt8(ascii: "{") else { throw item.fail("every data item must be a JSON object") }
                        ranges.append(try item.skipValue())
                    }
                }
                try scanner.expectEnd()
                return true
            } catch {
                return false
            }
        }
        guard accepted else { return [] }
        let whole = ByteBuffer(bytes: body)
        return ranges.map { whole.getSlice(at: $0.lowerBound, length: $0.count)! }
    }

    // MARK: - The splitter

    static let actions: Set<String> = ["removed", "added", "snapshot"]

    static func checkLine(_ line: ByteBuffer, _ report: inout Report) {
        let lineBytes = Array(line.readableBytesView)
        let lineIsObject = isRawObject(line)
        let strictLine = strictValue(lineBytes)
        for mode in OsqueryLogSplitter.SnapshotMode.allCases {
            let events: [ByteBuffer]
            do {
                events = try OsqueryLogSplitter(snapshotMode: mode).split(line)
            } catch {
                report.check((0...lineBytes.count).contains(error.offset), "split error offset \(error.offset) outside the line")
                report.check(
                    !lineIsObject || error.reason.contains("diffResults") || error.reason.contains("snapshot"),
                    "split refused a JSON object for a reason other than its diffResults/snapshot: \(error.reason)")
                continue
            }
            report.check(lineIsObject, "split accepted a line that is not one JSON object")
            if let expected = strictLine.flatMap({ expectedEventCount($0, mode) }) {
                report.check(events.count == expected, "split made \(events.count) events, expected \(expected) (\(mode))")
            }
            let passedThrough = events.count == 1 && Array(events[0].readableBytesView) == lineBytes
            for event in events.prefix(maxEvents) {
                let bytes = Array(event.readableBytesView)
                report.check(isRawObject(event), "split produced an event that is not one JSON object")
                if strictLine != nil {
                    report.check(strictValue(bytes) != nil, "split produced invalid JSON from a valid line")
                }
                if !passedThrough {
                    var draft = EventDraft(bytes: bytes)
                    let action = draft.text(at: Paths.action)
                    report.check(action.map(actions.contains) ?? false, "row event has action \(action ?? "nil")")
                }
                // The stages see the same events in both modes except for snapshots: check them once.
                if mode == .perRow { checkEvent(bytes, strict: strictLine != nil, &report) }
            }
        }
    }

    /// How many events the splitter must make of `line`, worked out from its parsed value.
    static func expectedEventCount(_ line: JSONValue, _ mode: OsqueryLogSplitter.SnapshotMode) -> Int? {
        guard let members = line.objectMembers else { return nil }
        if let diff = members.first(where: { $0.0 == "diffResults" })?.1 {
            guard let rows = diff.objectMembers else { return nil }
            return rows.filter { $0.0 == "added" || $0.0 == "removed" }.reduce(0) { $0 + ($1.1.arrayValue?.count ?? 0) }
        }
        if let snapshot = members.first(where: { $0.0 == "snapshot" })?.1 {
            guard let rows = snapshot.arrayValue else { return nil }
            return mode == .perRow ? max(rows.count, 1) : 1  // an empty snapshot makes one marker
        }
        return 1
    }

    // MARK: - /collector

    static func checkCollectorBody(_ input: [UInt8], _ report: inout Report) {
        let events: [ByteBuffer]
        do {
            events = try CollectorBody.events(ByteBuffer(bytes: input), maxEventBytes: collectorEventLimit)
        } catch {
            report.check(!error.message.isEmpty, "collector refusal without a message")
            return
        }
        report.check(!events.isEmpty, "collector accepted a body with no events")
        for event in events.prefix(maxEvents) {
            let bytes = Array(event.readableBytesView)
            report.check(bytes.count <= collectorEventLimit, "collector accepted an event over the size limit")
            report.check(strictValue(bytes)?.objectMembers != nil, "collector accepted an event that is not a strict JSON object")
            report.check(isRawObject(event), "collector event is not an object for RawJSON")
            checkEvent(bytes, strict: true, &report)
        }
    }

    // MARK: - One event through lookups, conditions and stages

    enum Paths {
        // Literals, valid by construction.
        static let action = try! FieldPath("action")
        static let name = try! FieldPath("name")
        static let host = try! FieldPath("hostIdentifier")
        static let cmdline = try! FieldPath("columns.cmdline")
        static let uid = try! FieldPath("columns.uid")
        static let epoch = try! FieldPath("epoch")
        static let hostname = try! FieldPath("host.hostname")
        static let fixed: [FieldPath] = [
            action, name, host, cmdline, uid, epoch, try! FieldPath("unixTime"), try! FieldPath("decorations.hostname"),
            try! FieldPath("a.b.c.d"), try! FieldPath("@sourcetype"), try! FieldPath("@input"),
        ]
    }

    static let anything = try! TextPattern("(?s).*")  // a literal, valid by construction

    static let transform = TransformStage(
        masks: [TransformStage.Mask(fields: [Paths.cmdline, Paths.name], pattern: try! TextPattern("(-p|--password[= ])\\S+"), replacement: "$1***")],
        flatten: [
            TransformStage.Flatten(field: try! FieldPath("columns"), prefix: "columns_"),
            TransformStage.Flatten(field: try! FieldPath("decorations.nested"), prefix: "n\"_"),
        ],
        renames: [(Paths.host, "host_identifier"), (try! FieldPath("decorations.hostname"), "h")],
        removals: [Paths.epoch, try! FieldPath("counter"), Paths.uid])

    static let throttle = ThrottleConfiguration(
        key: [Paths.host, Paths.name], bucketInterval: 60, bucketsCount: 3, defaultLimit: 2,
        rules: [ThrottleConfiguration.Rule(name: "packs", condition: .prefix(Paths.name, "pack"), limit: 1, limitKind: .size)],
        summaries: true, maxKeys: 2)

    static func checkEvent(_ bytes: [UInt8], strict: Bool, _ report: inout Report) {
        report.events += 1
        var draft = EventDraft(bytes: bytes, sourcetype: "osquery:result", input: "osquery")
        for (n, path) in (derivedPaths(&draft) + Paths.fixed).enumerated() {
            checkLookup(path, regex: n < regexPaths, &draft, &report)
        }
        _ = EventTime.of(&draft)

        // Stages edit the bytes: the result is still an object (strict JSON if it was) and the
        // member index the draft caches matches a fresh scan.
        transform.apply(&draft)
        report.check(isRawObject(draft.body), "transform left an event that is not one JSON object")
        if strict { report.check(strictValue(draft.bytes) != nil, "transform made invalid JSON of a valid event") }
        checkIndex(&draft, "transform", &report)
        report.check(draft.value(at: Paths.epoch) == nil, "transform kept a removed field")

        draft.setTopLevel(name: "host", rawValue: Array(#"{"hostname":"fuzz"}"#.utf8))
        report.check(isRawObject(draft.body), "setTopLevel left an event that is not one JSON object")
        report.check(draft.text(at: Paths.hostname) == "fuzz", "setTopLevel's value cannot be read back")
        checkIndex(&draft, "setTopLevel", &report)

        var state = ThrottleState(configuration: throttle)
        var passed = 0
        for second in [0.0, 1, 61, 1e300, -5] {
            if state.admit(&draft, eventTime: second, now: 100) == .pass { passed += 1 }
        }
        let dropped = state.statistics.droppedEvents.values.reduce(0, +)
        report.check(Int64(passed) + dropped == 5, "throttle lost count: \(passed) passed, \(dropped) dropped of 5")
        _ = state.closeWindows(now: 1e6).map { $0.body(route: "r") }
    }

    /// Paths built from the event's own keys, so lookups hit as well as miss.
    static func derivedPaths(_ draft: inout EventDraft) -> [FieldPath] {
        let members = draft.topLevelMembers()
        return draft.withBytes { bytes in
            var paths: [FieldPath] = []
            for member in members.prefix(6) {
                let key = RawJSON.keyString(bytes, member)
                guard let path = try? FieldPath(key) else { continue }
                paths.append(path)
                guard bytes[member.value.lowerBound] == UInt8(ascii: "{"),
                    let nested = try? RawJSON.members(bytes, objectAt: member.value.lowerBound).members
                else { continue }
                for inner in nested.prefix(3) {
                    if let deeper = try? FieldPath(key + "." + RawJSON.keyString(bytes, inner)) { paths.append(deeper) }
                }
            }
            return paths
        }
    }

    static func checkLookup(_ path: FieldPath, regex: Bool, _ draft: inout EventDraft, _ report: inout Report) {
        let value = draft.value(at: path)
        let text = draft.text(at: path)
        let size = draft.byteCount
        if let value {
            draft.withBytes { bytes in
                switch value {
                case .string(let range, _):
                    report.check(range.lowerBound >= 1 && range.upperBound < size, "string range \(range) outside the event")
                    guard range.lowerBound >= 1, range.upperBound < size else { return }
                    report.check(bytes[range.lowerBound - 1] == 0x22 && bytes[range.upperBound] == 0x22, "string range \(range) is not between quotes")
                case .number(let range), .object(let range), .array(let range):
                    report.check(range.upperBound <= size, "value range \(range) outside the event")
                    guard range.upperBound <= size else { return }
                    report.check((try? RawJSON.skipValue(bytes, range.lowerBound)) == range.upperBound, "value range \(range) is not one value")
                case .bool, .null:
                    break
                }
            }
        }
        let exists = Condition.exists(path, true).matches(&draft)
        report.check(path.metadata != nil || exists == (value != nil), "exists disagrees with the lookup for \(path)")
        if regex {
            report.check(Condition.regex(path, anything).matches(&draft) == (text != nil), "regex .* disagrees with text for \(path)")
        }
        guard let text, textIsFaithful(value, &draft) else { return }
        let equals = Condition.equals(path, text)
        let prefix = Condition.prefix(path, String(text.prefix(3)))
        report.check(equals.matches(&draft), "equals does not match the field's own text for \(path)")
        report.check(prefix.matches(&draft), "prefix does not match the start of the field's text for \(path)")
        report.check(Condition.oneOf(path, [text, "x"]).matches(&draft), "in does not match the field's own text for \(path)")
        report.check(!Condition.not(equals).matches(&draft), "not(equals) matches")
        report.check(!Condition.equals(path, text + "\u{1}").matches(&draft), "equals matches a longer text for \(path)")
        report.check(Condition.all([equals, prefix]).matches(&draft), "all of two matching conditions fails")
        report.check(Condition.any([.not(equals), prefix]).matches(&draft), "any with one matching condition fails")
    }

    /// Whether the field's text is its bytes: not so for an unescaped string holding invalid UTF-8,
    /// which conditions compare raw while its text has U+FFFD in place of the bad bytes.
    static func textIsFaithful(_ value: FieldValue?, _ draft: inout EventDraft) -> Bool {
        guard case .string(let range, false)? = value else { return true }
        return draft.withBytes { bytes in String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil }
    }

    static func checkIndex(_ draft: inout EventDraft, _ stage: String, _ report: inout Report) {
        let cached = draft.topLevelMembers()
        let fresh = draft.withBytes { (try? RawJSON.members($0))?.members ?? [] }
        report.check(cached == fresh, "\(stage) left a stale member index")
    }
}
