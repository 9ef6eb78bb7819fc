import Foundation

extension OsqueryAgent {
    /// A finished carve upload.
    public struct CarveResult: Sendable, Equatable {
        public var sessionID: String
        public var carveID: String
        public var requestID: String
        public var blockCount: Int
        /// Attempts used by the start request.
        public var startAttempts: Int
        /// Attempts used by each block, by block id.
        public var blockAttempts: [Int]
    }

    /// Uploads `data` as a carve: start, then every block in order (spec §8).
    ///
    /// The start carries `node_key` and only its `session_id` is read (`node_invalid` is not looked
    /// at). Blocks carry no `node_key`, only the header on 5.23+; their response only has to parse.
    /// Each request has 3 attempts, 1 s and 4 s apart; a block that fails them all abandons the
    /// carve, which is never resumed.
    ///
    /// - Parameters:
    ///   - data: The upload (tar or tar.zst).
    ///   - blockSize: `--carver_block_size`, greater than 0.
    ///   - carveID: `carve_id` (`carve_guid`); random by default.
    /// - Throws: ``AgentError`` with code ``AgentError/Code/carveFailed``.
    @discardableResult
    public func carve(data: Data, blockSize: Int, carveID: String = UUID().uuidString.lowercased()) async throws -> CarveResult {
        let plan = CarvePlan(data: data, blockSize: blockSize)
        // Since 4.7.0 request_id is its own random UUID, not the distributed query name.
        let requestID = UUID().uuidString.lowercased()
        let maxAttempts = max(configuration.carveMaxAttempts, 1)

        var attempt = 0
        var sessionID: String?
        var verdict = AgentResponseJudgement.transportFailure("no attempt made")
        while sessionID == nil && attempt < maxAttempts {
            attempt += 1
            let key = await currentNodeKey()
            let body: JSONObject = [
                "block_count": .integer(Int64(plan.blockCount)), "block_size": .integer(Int64(blockSize)),
                "carve_size": .integer(Int64(plan.carveSize)), "carve_id": .string(carveID),
                "request_id": .string(requestID), "node_key": .string(key),
            ]
            verdict = await exchange(.carveStart, body: JSONValue.object(body).compactData(), nodeKeyHeader: key)
            if case .carveStarted(let session) = verdict {
                sessionID = session
            } else if attempt < maxAttempts {
                try? await configuration.sleep(.seconds(Int64(attempt * attempt)))
            }
        }
        guard let sessionID else {
            throw AgentError(code: .carveFailed, kind: .carveStart, verdict: verdict, attempts: attempt)
        }
        let startAttempts = attempt

        var blockAttempts: [Int] = []
        for blockID in 0..<plan.blockCount {
            let body = JSONValue.object([
                "block_id": .integer(Int64(blockID)), "session_id": .string(sessionID),
                "request_id": .string(requestID), "data": .string(plan.base64Block(blockID)),
            ]).compactData()
            var blockAttempt = 0
            var delivered = false
            while !delivered && blockAttempt < maxAttempts {
                blockAttempt += 1
                verdict = await exchange(.carveBlock, body: body, nodeKeyHeader: nodeKey)
                delivered = verdict.isSuccess
                if !delivered && blockAttempt < maxAttempts {
                    try? await configuration.sleep(.seconds(Int64(blockAttempt * blockAttempt)))
                }
            }
            guard delivered else {
                throw AgentError(code: .carveFailed, kind: .carveBlock, verdict: verdict, attempts: blockAttempt)
            }
            blockAttempts.append(blockAttempt)
        }
        return CarveResult(
            sessionID: sessionID, carveID: carveID, requestID: requestID, blockCount: plan.blockCount,
            startAttempts: startAttempts, blockAttempts: blockAttempts)
    }
}
