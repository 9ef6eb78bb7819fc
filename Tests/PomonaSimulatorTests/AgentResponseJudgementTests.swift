import Foundation
import NIOCore
import Testing

@testable import PomonaSimulator

@Suite("AgentResponseJudgement")
struct AgentResponseJudgementTests {
    /// Helper-request bodies (config, distributed, log) and whether osqueryd counts them as success.
    static let helperCases: [(body: String, success: Bool, note: String)] = [
        ("", true, "empty body is {}"),
        ("{}", true, "empty object"),
        (" \n{\"a\":1}\t\r\n ", true, "surrounding whitespace"),
        ("{\"node_invalid\":false}", true, "node_invalid false"),
        ("{\"node_invalid\":\"true\"}", true, "string node_invalid is not true"),
        ("{\"node_invalid\":1}", true, "numeric node_invalid is not true"),
        ("{\"node_invalid\":null}", true, "null node_invalid"),
        ("{\"error\":\"boom\"}", false, "error string"),
        ("{\"error\":null}", false, "error null still fails"),
        ("{\"error\":false}", false, "error false still fails"),
        ("{\"error\":\"\"}", false, "error empty string still fails"),
        ("{\"error\":{}}", false, "error object"),
        ("{\"node_invalid\":false,\"error\":\"x\"}", false, "error with node_invalid false"),
        ("[]", false, "array root"),
        ("\"x\"", false, "string root"),
        ("null", false, "null root"),
        ("1", false, "number root"),
        ("true", false, "bool root"),
        ("{} {}", false, "two values"),
        ("{}x", false, "trailing garbage"),
        ("\u{FEFF}{}", false, "BOM"),
        ("{\"a\":1,}", false, "trailing comma"),
        ("{\"a\":NaN}", false, "NaN"),
        ("{/*c*/}", false, "comment"),
        ("// c\n{}", false, "line comment"),
        ("{'a':1}", false, "single quotes"),
        ("<html>413</html>", false, "HTML error page"),
        ("{\"a\":01}", false, "leading zero"),
        ("{\"a\":\"\\x41\"}", false, "invalid escape"),
        ("{\"a\":1", false, "truncated"),
        ("   ", false, "whitespace only is not empty"),
    ]

    @Test("helper requests", arguments: helperCases)
    func helperVerdict(_ testCase: (body: String, success: Bool, note: String)) {
        for kind in [AgentRequestKind.config, .distributedRead, .distributedWrite, .log] {
            let verdict = AgentResponseJudgement.judge(kind, body: Data(testCase.body.utf8))
            #expect(verdict.isSuccess == testCase.success, "\(testCase.note) on \(kind): \(verdict)")
        }
    }

    @Test func emptyBodyIsEmptyObject() {
        #expect(AgentResponseJudgement.judge(.config, body: Data()) == .success([:]))
    }

    @Test func successCarriesParsedObjectInOrder() {
        let verdict = AgentResponseJudgement.judge(.config, body: Data(#"{"schedule":{},"options":{"a":1},"node_invalid":false}"#.utf8))
        guard case .success(let object) = verdict else {
            Issue.record("expected success, got \(verdict)")
            return
        }
        #expect(object.keys == ["schedule", "options", "node_invalid"])
        #expect(object["options"]?["a"] == .integer(1))
    }

    @Test func nodeInvalidTrueWinsOverError() {
        #expect(AgentResponseJudgement.judge(.log, body: Data(#"{"node_invalid":true}"#.utf8)) == .nodeInvalid(error: nil))
        #expect(
            AgentResponseJudgement.judge(.log, body: Data(#"{"error":"bad key","node_invalid":true}"#.utf8))
                == .nodeInvalid(error: "bad key"))
    }

    @Test func errorMemberOfAnyTypeFails() {
        #expect(AgentResponseJudgement.judge(.config, body: Data(#"{"error":null}"#.utf8)) == .failure(.errorMember(.null)))
        #expect(AgentResponseJudgement.judge(.config, body: Data(#"{"error":false}"#.utf8)) == .failure(.errorMember(.bool(false))))
    }

    @Test func duplicateKeysUseFirstOccurrence() {
        #expect(AgentResponseJudgement.judge(.config, body: Data(#"{"node_invalid":false,"node_invalid":true}"#.utf8)).isSuccess)
        #expect(AgentResponseJudgement.judge(.config, body: Data(#"{"node_invalid":true,"node_invalid":false}"#.utf8)) == .nodeInvalid(error: nil))
    }

    @Test func embeddedNULEndsTheText() {
        var body = Data(#"{"a":1}"#.utf8)
        body.append(0)
        body.append(contentsOf: Array("garbage".utf8))
        #expect(AgentResponseJudgement.judge(.config, body: body).isSuccess)
        // Non-empty body whose text before the NUL is empty: a parse error, not the empty-body rule.
        #expect(!AgentResponseJudgement.judge(.config, body: Data([0, 0x7B, 0x7D])).isSuccess)
    }

    static let enrollCases: [(body: String, key: String?)] = [
        (#"{"node_key":"k1"}"#, "k1"),
        (#"{"node_key":"k1","node_invalid":true}"#, "k1"),
        (#"{"node_key":"k1","error":"ignored on enroll"}"#, "k1"),
        (#"{"id":"k2"}"#, "k2"),
        (#"{"node_key":"","id":"k2"}"#, nil),
        (#"{"node_key":null,"id":"k2"}"#, nil),
        (#"{"node_key":5}"#, nil),
        (#"{"node_key":""}"#, nil),
        (#"{"id":7}"#, nil),
        (#"{"node_invalid":true}"#, nil),
        ("", nil),
        ("not json", nil),
        (#"["k1"]"#, nil),
    ]

    @Test("enroll reads only node_key, then id", arguments: enrollCases)
    func enrollVerdict(_ testCase: (body: String, key: String?)) {
        let verdict = AgentResponseJudgement.judge(.enroll, body: Data(testCase.body.utf8))
        if let key = testCase.key {
            #expect(verdict == .enrolled(nodeKey: key))
        } else {
            #expect(!verdict.isSuccess, "\(testCase.body) → \(verdict)")
        }
    }

    static let carveStartCases: [(body: String, session: String?)] = [
        (#"{"session_id":"S1"}"#, "S1"),
        (#"{"session_id":"S1","node_invalid":true,"error":"x"}"#, "S1"),
        (#"{"session_id":""}"#, nil),
        (#"{"session_id":1}"#, nil),
        ("", nil),
        ("{}", nil),
        ("nope", nil),
    ]

    @Test("carve start reads only session_id", arguments: carveStartCases)
    func carveStartVerdict(_ testCase: (body: String, session: String?)) {
        let verdict = AgentResponseJudgement.judge(.carveStart, body: Data(testCase.body.utf8))
        if let session = testCase.session {
            #expect(verdict == .carveStarted(sessionID: session))
        } else {
            #expect(!verdict.isSuccess)
        }
    }

    @Test("carve block ignores content but needs a parse", arguments: [
        ("", true), ("{}", true), (#"{"error":"x"}"#, true), (#"{"node_invalid":true}"#, true), ("[1]", true), ("<html>", false),
    ])
    func carveBlockVerdict(_ body: String, _ success: Bool) {
        #expect(AgentResponseJudgement.judge(.carveBlock, body: Data(body.utf8)).isSuccess == success)
    }

    @Test func statusCodeIsNotAnInput() {
        // The API takes no status; a 500 with a key is an enrollment like a 200 would be.
        #expect(AgentResponseJudgement.judge(.enroll, body: Data(#"{"node_key":"k"}"#.utf8)).isSuccess)
    }

    @Test func transportFailureIsFailure() {
        #expect(!AgentResponseJudgement.transportFailure("connection refused").isSuccess)
    }

    @Test func gzipInflatedOnlyWhenAcceptedAndExactHeader() throws {
        let compressed = try #require(OsqueryAgent.gzip(Data(#"{"node_key":"gz"}"#.utf8)))
        let gzipHeader = [(name: "Content-Encoding", value: "gzip")]
        #expect(AgentResponseJudgement.judge(.enroll, body: compressed, headers: gzipHeader, acceptGzip: true) == .enrolled(nodeKey: "gz"))
        #expect(!AgentResponseJudgement.judge(.enroll, body: compressed, headers: gzipHeader, acceptGzip: false).isSuccess)
        #expect(
            !AgentResponseJudgement.judge(.enroll, body: compressed, headers: [(name: "content-encoding", value: "GZIP")], acceptGzip: true)
                .isSuccess)
        // Not really gzip: raw bytes are kept and judged as they are.
        #expect(AgentResponseJudgement.judge(.enroll, body: Data(#"{"node_key":"plain"}"#.utf8), headers: gzipHeader, acceptGzip: true)
            == .enrolled(nodeKey: "plain"))
    }
}
