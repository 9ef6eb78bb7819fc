import Foundation
import NIOCore
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAgentAPI

/// Structured random input for the agent decoders: valid osquery bodies, mutated byte by byte
/// (flips, truncations, insertions of JSON-significant bytes, invalid UTF-8). Every outcome must be
/// either success or an `AgentError` whose body is a JSON object with an `error` member; nothing
/// may crash. The generator is seeded, so a failure reproduces.
@Suite struct RandomInputTests {
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let interesting: [UInt8] = Array(#"{}[]",:\"0-eE.tfn "#.utf8) + [0x00, 0x0A, 0xC3, 0xFF, 0xED, 0xA0, 0x80]

    static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[i] = interesting.randomElement(using: &rng)!
            case 1: bytes.removeSubrange(i...)
            case 2: bytes.insert(interesting.randomElement(using: &rng)!, at: i)
            default: bytes.remove(at: i)
            }
        }
        return bytes
    }

    static func checkErrorBody(_ error: AgentError) {
        let body = try? JSONValue.parse(error.body)
        #expect(body?["error"] != nil, "error body \(String(decoding: error.body, as: UTF8.self))")
    }

    @Test func mutatedBodiesNeverCrashAndAlwaysGetAnErrorBody() async throws {
        let f = try await AgentFixture()
        let key = try await f.enroll()
        let seeds: [String] = [
            #"{"enroll_secret":"\#(AgentFixture.secret)","host_identifier":"fuzz","host_details":{"os_version":{"platform":"darwin"}}}"#,
            #"{"node_key":"\#(key)"}"#,
            #"{"node_key":"\#(key)","queries":{"q":[{"a":"1"}],"fleet_detail_query_system_info":[{"hostname":"h"}]},"statuses":{"q":0},"messages":{"q":""}}"#,
            #"{"node_key":"\#(key)","log_type":"result","data":[{"name":"x","columns":{"a":"\u00e9"}},{"snapshot":[]}]}"#,
            #"{"node_key":"\#(key)","block_count":1,"block_size":4,"carve_size":3,"carve_id":"c","request_id":"r"}"#,
        ]
        var rng = SeededGenerator(state: 20_261_129)
        var tried = 0
        for _ in 0..<300 {
            for (index, seed) in seeds.enumerated() {
                let body = ByteBuffer(bytes: Self.mutate(Array(seed.utf8), using: &rng))
                tried += 1
                do {
                    switch index {
                    case 0: _ = try await f.service.enroll(body: body, remoteIP: "")
                    case 1:
                        _ = try f.service.config(body: body, authorization: nil)
                        _ = try f.service.distributedRead(body: body, authorization: nil)
                    case 2: _ = try await f.service.distributedWrite(body: body, authorization: nil)
                    case 3: _ = try await f.service.log(body: body, contentEncoding: nil, authorization: nil)
                    default: _ = try await f.service.carveBegin(body: body, authorization: nil)
                    }
                } catch {
                    Self.checkErrorBody(error)
                }
            }
        }
        #expect(tried == 1500)
        // Whatever was accepted left the database consistent.
        #expect(try await f.store.integrityCheck() == "ok")
    }
}
