import Testing

@testable import PomonaAgentAPI

/// The fast path's request-head reader: exactly osqueryd's shape is a request, an incomplete head
/// asks for more, and everything an HTTP implementation could frame differently is `.other`.
@Suite struct AgentWireRequestTests {
    static func parse(_ text: String) -> AgentWireRequest.Parsed {
        Array(text.utf8).withUnsafeBytes { AgentWireRequest.parse($0) }
    }

    /// What osqueryd's http client writes (spec §6: Host, Accept, Content-Type, Content-Length,
    /// optionally Content-Encoding and User-Agent).
    static let osqueryHead =
        "POST /api/v1/osquery/distributed/read HTTP/1.1\r\nHost: fleet.example.com:8443\r\nAccept: application/json\r\n"
        + "Content-Type: application/json\r\nContent-Length: 27\r\nUser-Agent: osquery/5.12.1\r\n\r\n"

    @Test func osquerysHeadIsRead() throws {
        let parsed = Self.parse(Self.osqueryHead + #"{"node_key":"abcdefghijkl"}"#)
        guard case .request(let request) = parsed else {
            Issue.record("not a request: \(parsed)")
            return
        }
        #expect(request.target == "/api/v1/osquery/distributed/read")
        #expect(request.contentLength == 27)
        #expect(request.headBytes == Self.osqueryHead.utf8.count)
        #expect(request.authorization == nil && request.contentEncoding == nil)
    }

    @Test func namesAreCaseInsensitiveAndValuesTrimmed() {
        let head = "POST /api/osquery/log?x=1 HTTP/1.1\r\ncontent-LENGTH:\t5 \r\nAUTHORIZATION:  NodeKey abc \r\n"
            + "Content-Encoding: gzip\r\nConnection: Keep-Alive\r\n\r\n"
        let expected = AgentWireRequest(
            target: "/api/osquery/log?x=1", contentLength: 5, authorization: "NodeKey abc", contentEncoding: "gzip",
            headBytes: head.utf8.count)
        #expect(Self.parse(head + "hello") == .request(expected))
    }

    @Test func anIncompleteHeadAsksForMore() {
        let full = Self.osqueryHead
        for cut in [1, 4, 5, 20, 40, 47, 48, 60, full.utf8.count - 3, full.utf8.count - 1] {
            let prefix = String(decoding: Array(full.utf8).prefix(cut), as: UTF8.self)
            #expect(Self.parse(prefix) == .needMore, "cut at \(cut)")
        }
        #expect(Self.parse("") == .needMore)
    }

    @Test(arguments: [
        "GET /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  // another method
        "post /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  // methods are case-sensitive
        "POST /api/v1/osquery/config HTTP/1.0\r\nContent-Length: 0\r\n\r\n",  // HTTP/1.0 keep-alive rules differ
        "POST http://h/api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  // absolute form
        "POST  /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  // empty target
        "POST /api/v1/osquery/config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",  // smuggling shape
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",  // duplicate
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 2 2\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n",  // 16 digits
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nHost: x\r\n\r\n",  // no length
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nX-A: 1\r\n folded\r\n\r\n",  // obsolete folding
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length : 0\r\n\r\n",  // space before the colon
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\nHost: x\r\n\r\n",  // bare LF
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nHost: a\rb\r\n\r\n",  // bare CR
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nX: a\u{01}b\r\n\r\n",  // control byte
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nno colon here\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\n\r\n",
        "POST /api/v1/osquery/config\u{7F} HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "POST /api/v1/osquery/config HTTP/1.1\r\r\n",
    ])
    func anythingElseIsLeftToTheHTTPServer(head: String) {
        #expect(Self.parse(head) == .other)
    }

    @Test func aHeadStillIncompleteAtTheBoundIsNotOurs() {
        let long = "POST /api/v1/osquery/config HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: AgentWireRequest.maxHeadBytes)
        #expect(Self.parse(long) == .other)
        let longComplete = "POST /api/v1/osquery/config HTTP/1.1\r\nContent-Length: 0\r\nX-Pad: "
            + String(repeating: "a", count: AgentWireRequest.maxHeadBytes) + "\r\n\r\n"
        #expect(Self.parse(longComplete) == .other)
    }
}
