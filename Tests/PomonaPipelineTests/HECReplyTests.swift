import NIOCore
import Testing
@testable import PomonaPipeline

/// The HEC reply code table of spec §5.1, class by class.
@Suite struct HECReplyTests {
    func classify(_ status: Int, _ body: String, count: Int = 3) -> HECReply {
        HECReply.classify(status: status, body: ByteBuffer(string: body), eventCount: count)
    }

    @Test func successAndHealth() {
        #expect(classify(200, #"{"text":"Success","code":0}"#) == .delivered)
        #expect(classify(200, #"{"text":"Success","code":0,"ackId":7}"#) == .delivered)
        #expect(classify(200, "") == .delivered)
    }

    @Test func tokenAndChannelProblemsAreConfigurationNotPoison() {
        for (status, code) in [(403, 1), (401, 2), (401, 3), (403, 4), (400, 10), (400, 11), (400, 14), (400, 16), (400, 21), (400, 22)] {
            guard case .configuration(let reason) = classify(status, "{\"text\":\"x\",\"code\":\(code)}") else {
                Issue.record("code \(code) should be a configuration problem")
                continue
            }
            #expect(reason.contains("code \(code)"))
        }
    }

    @Test func busyAndInternalErrorsAreRetried() {
        for (status, code) in [(500, 8), (503, 9), (503, 18), (503, 19), (503, 20), (503, 23), (429, 26), (429, 27)] {
            guard case .retry = classify(status, "{\"text\":\"x\",\"code\":\(code)}") else {
                Issue.record("code \(code) should be retried")
                continue
            }
        }
        // No HEC body (a proxy in front of Splunk): by HTTP status.
        guard case .retry = classify(502, "<html>Bad Gateway</html>") else { Issue.record("502 should be retried"); return }
        guard case .retry = classify(429, "") else { Issue.record("429 should be retried"); return }
    }

    @Test func badEventsAreRejectedOneByOneWhenHECSaysWhich() {
        for code in [6, 7, 12, 13, 15] {
            let reply = classify(400, "{\"text\":\"Bad\",\"code\":\(code),\"invalid-event-number\":1}")
            #expect(reply == .rejectEvent(index: 1, reason: "HEC 400 code \(code): Bad (invalid-event-number 1)"))
        }
        // Out of range or missing number: the batch cannot be split safely, refuse it whole.
        guard case .rejectAll = classify(400, #"{"text":"Invalid data format","code":6,"invalid-event-number":9}"#) else {
            Issue.record("an out-of-range event number refuses the whole request"); return
        }
        guard case .rejectAll = classify(400, #"{"text":"Invalid data format","code":6}"#) else {
            Issue.record("no event number refuses the whole request"); return
        }
        #expect(classify(400, #"{"text":"Invalid data format","code":6}"#, count: 1)
            == .rejectEvent(index: 0, reason: "HEC 400 code 6: Invalid data format"))
        guard case .rejectAll = classify(400, #"{"text":"No data","code":5}"#) else { Issue.record("code 5"); return }
    }

    @Test func tooLargeSplits() {
        guard case .tooLarge = classify(413, #"{"text":"Content-Length of 2000000 too large"}"#) else { Issue.record("413"); return }
    }
}
