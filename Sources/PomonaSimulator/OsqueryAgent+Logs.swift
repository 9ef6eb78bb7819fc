import Foundation

extension OsqueryAgent {
    /// The two log types osqueryd sends (`log_type`).
    public enum LogType: String, Sendable, Hashable {
        case result
        case status
    }

    /// The outcome of one log flush.
    public struct LogSendResult: Sendable, Equatable {
        /// Buffered lines the batch covered (0 when nothing was buffered and nothing was sent).
        public var batchLines: Int
        /// Lines left out of `data` (invalid JSON, too long); deleted with the batch on success.
        public var droppedLines: Int
        /// Whether the server accepted the batch; if not, it stays at the head of the buffer.
        public var delivered: Bool
        /// Lines still buffered after this flush.
        public var remaining: Int
        /// Why delivery failed, if it did.
        public var verdict: AgentResponseJudgement?
    }

    /// Buffers lines and flushes once: the oldest batch of at most `logMaxLines` lines is POSTed
    /// (one attempt, no retry loop, spec §4.6). On failure it stays buffered and is sent again,
    /// unchanged, by the next flush (head-of-line blocking); `node_invalid` also drops the key so
    /// the next flush re-enrolls.
    ///
    /// - Parameters:
    ///   - type: `result` or `status`.
    ///   - lines: New lines to buffer first; may be empty to just retry.
    ///   - gzip: `--logger_tls_compress`: gzip the body and send `Content-Encoding: gzip`.
    public func sendLogs(type: LogType, lines: [JSONValue], gzip: Bool = false) async -> LogSendResult {
        await sendLogs(type: type, serializedLines: lines.map { $0.compactData() }, gzip: gzip)
    }

    /// ``sendLogs(type:lines:gzip:)`` with lines already serialized (as osqueryd buffers them).
    /// Lines that are not a JSON object are dropped when their batch is sent, like osqueryd does.
    public func sendLogs(type: LogType, serializedLines: [Data], gzip: Bool = false) async -> LogSendResult {
        switch type {
        case .result: resultLogs.append(serializedLines)
        case .status: statusLogs.append(serializedLines)
        }
        return await flushLogs(type: type, gzip: gzip)
    }

    /// Number of buffered, unsent lines of a type.
    public func bufferedLogCount(_ type: LogType) -> Int {
        type == .result ? resultLogs.count : statusLogs.count
    }

    private func flushLogs(type: LogType, gzip: Bool) async -> LogSendResult {
        let buffer = type == .result ? resultLogs : statusLogs
        guard let batch = buffer.nextBatch(maxLines: configuration.logMaxLines, maxLineSize: configuration.logMaxLineSize) else {
            return LogSendResult(batchLines: 0, droppedLines: 0, delivered: true, remaining: 0, verdict: nil)
        }
        let body: JSONObject = ["log_type": .string(type.rawValue), "data": .array(batch.payload)]
        do {
            _ = try await helperRequest(.log, body: body, maxAttempts: 1, gzip: gzip)
            // Lines appended while the POST was in flight sit behind the batch, so removing the
            // batch's count from the head is still exact.
            switch type {
            case .result: resultLogs.commit(batch)
            case .status: statusLogs.commit(batch)
            }
            return LogSendResult(
                batchLines: batch.lineCount, droppedLines: batch.dropped, delivered: true,
                remaining: bufferedLogCount(type), verdict: nil)
        } catch let error as AgentError {
            return LogSendResult(
                batchLines: batch.lineCount, droppedLines: batch.dropped, delivered: false,
                remaining: bufferedLogCount(type), verdict: error.verdict)
        } catch {
            return LogSendResult(
                batchLines: batch.lineCount, droppedLines: batch.dropped, delivered: false,
                remaining: bufferedLogCount(type), verdict: .transportFailure(String(describing: error)))
        }
    }

    /// A formatter for this agent's lines: its host identifier and osquery version.
    public func logFormatter() -> ResultLogFormatter {
        ResultLogFormatter(hostIdentifier: hostIdentifier, osqueryVersion: profile.osqueryVersion)
    }
}
