// libFuzzer entry point for PomonaCore's decoders: the byte-level JSON scanner (which every agent
// request goes through), the JSON encoder round trip, osquery pack import, agent-options
// validation and enrollment host_details. Built by `.ci/fuzz` with
// `swiftc -sanitize=fuzzer,address` straight from PomonaCore's sources, so it needs no package build.
//
// Properties checked (a violation traps, which libFuzzer reports as a crash):
// - `parseValue` and `skipValue` agree on whether the input is one JSON value;
// - re-encoding a parsed value and parsing it again gives the same value;
// - nothing crashes, whatever the bytes.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func pomonaCoreFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    PomonaCoreFuzzChecks.run(input)
    return 0
}

enum PomonaCoreFuzzChecks {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let parsed = parse(input)
        let skipped = skip(input)
        precondition((parsed != nil) == skipped, "parseValue and skipValue disagree")

        if let parsed {
            let again = parsed.encoded().withUnsafeBufferPointer { parse($0) }
            precondition(again == parsed, "encode/parse round trip changed the value")
            _ = try? AgentOptions(config: parsed)
            _ = EnrollmentDetails.vitals(from: parsed)
        }
        _ = try? OsqueryPackImporter.parse(data: Data(input), packName: "fuzz")
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var scanner = JSONScanner(bytes)
        do {
            let value = try scanner.parseValue()
            try scanner.expectEnd()
            return value
        } catch {
            return nil
        }
    }

    static func skip(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = JSONScanner(bytes)
        do {
            try scanner.skipValue()
            try scanner.expectEnd()
            return true
        } catch {
            return false
        }
    }
}
