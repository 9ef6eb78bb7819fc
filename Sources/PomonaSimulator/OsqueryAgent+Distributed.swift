extension OsqueryAgent {
    /// POSTs `{"node_key":…}` to the distributed read endpoint (3 attempts, 1 s and 4 s apart).
    /// - Throws: ``AgentError`` when every attempt failed (osqueryd then does no work this loop).
    public func distributedRead() async throws -> DistributedWork {
        let result = try await helperRequest(.distributedRead, body: [:], maxAttempts: configuration.distributedMaxAttempts)
        return DistributedWork(response: result.object)
    }

    /// The distributed write body without `node_key` (the helper adds it), exactly as §5.3:
    /// `queries`, `statuses`, `messages`, `stats`, names in lexicographic order.
    public static func distributedWriteBody(results: [String: QueryAnswer]) -> JSONObject {
        let names = results.keys.sorted()
        var queries = JSONObject()
        var statuses = JSONObject()
        var messages = JSONObject()
        var stats = JSONObject()
        for name in names {
            let answer = results[name]!
            queries[name] = .array(answer.rows.map { .object(HostProfile.row($0)) })
            statuses[name] = .integer(answer.status)
            messages[name] = .string(answer.message)
            // Plausible CPU and memory deltas; a failed query still reports a measurement of zeros.
            let cost = Int64(answer.rows.count)
            stats[name] = [
                "wall_time_ms": .integer(answer.status == 0 ? 1 + cost : 0),
                "user_time": .integer(answer.status == 0 ? cost / 2 : 0),
                "system_time": .integer(0),
                "memory": .integer(answer.status == 0 ? 4096 * cost : 0),
            ]
        }
        return [
            "queries": .object(queries), "statuses": .object(statuses),
            "messages": .object(messages), "stats": .object(stats),
        ]
    }

    /// Sends results (together with any whose earlier write failed; a newer answer for the same
    /// name replaces the older one). On failure they stay in memory for the next write.
    /// - Throws: ``AgentError`` when every attempt failed.
    public func distributedWrite(results: [String: QueryAnswer]) async throws {
        unsentResults.merge(results) { _, newer in newer }
        let sending = unsentResults
        _ = try await helperRequest(
            .distributedWrite, body: Self.distributedWriteBody(results: sending),
            maxAttempts: configuration.distributedMaxAttempts)
        // Only what this write carried is done; results added meanwhile by a concurrent caller stay.
        for name in sending.keys where unsentResults[name] == sending[name] { unsentResults[name] = nil }
    }

    /// Results waiting for a successful write.
    public var pendingDistributedResults: [String: QueryAnswer] { unsentResults }

    /// One distributed loop.
    public struct DistributedRun: Sendable, Equatable {
        /// What the read returned.
        public var work: DistributedWork
        /// What was answered, by query name (discovery-filtered queries are absent).
        public var answers: [String: QueryAnswer]
        /// Whether a write was made and succeeded (no write when nothing ran).
        public var wrote: Bool
    }

    /// read → answer each query from the host's dataset in lexicographic order of name, skipping
    /// those whose discovery returns no rows → write, if anything ran.
    /// - Throws: ``AgentError`` from the read or the write.
    @discardableResult
    public func runDistributedOnce() async throws -> DistributedRun {
        var work = try await distributedRead()
        // A failing discovery query throws the whole response away before anything is stored.
        for (name, sql) in work.discovery.sorted(by: { $0.key < $1.key })
        where work.queries.contains(where: { $0.name == name }) && profile.answer(name: name, sql: sql).status != 0 {
            work.rejection = "discovery query \(name) failed"
            return DistributedRun(work: work, answers: [:], wrote: false)
        }
        var answers: [String: QueryAnswer] = [:]
        for (name, sql) in work.queries.sorted(by: { $0.name < $1.name }) {
            if let discoverySQL = work.discovery[name], profile.answer(name: name, sql: discoverySQL).rows.isEmpty {
                continue
            }
            answers[name] = profile.answer(name: name, sql: sql)
        }
        guard !answers.isEmpty || !unsentResults.isEmpty else {
            return DistributedRun(work: work, answers: answers, wrote: false)
        }
        try await distributedWrite(results: answers)
        return DistributedRun(work: work, answers: answers, wrote: true)
    }
}
