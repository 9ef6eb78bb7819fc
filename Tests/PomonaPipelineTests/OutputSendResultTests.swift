import Testing
@testable import PomonaPipeline

@Suite struct OutputSendResultTests {
    @Test func retryAllListsEveryIndex() {
        let result = OutputSendResult.retryAll(3, reason: "503")
        #expect(result.retry == [0, 1, 2])
        #expect(result.rejected.isEmpty)
    }
}
