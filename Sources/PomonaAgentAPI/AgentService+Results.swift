import Foundation
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization

extension AgentService {
    static let okBody = Array("{}".utf8)

    // MARK: - Distributed write

    /// `distributed/write`: ingests detail results into the host record and stores every other
    /// result, answering only once everything is committed (so an acknowledged result is never lost).
    public func distributedWrite(body: ByteBuffer, authorization: String?, now: Date = Date()) async throws(AgentError) -> [UInt8] {
        struct Parsed {
            var nodeKey: String?
            var results: [(name: String, range: Range<Int>)] = []
            var statuses: JSONValue?
            var messages: JSONValue?
            var stats: JSONValue?
        }
        var parsed = Parsed()
        // Scan the request in place (no copy of a body that can be tens of MB); each result is
        // sliced out of it afterwards by its byte range.
        do {
            try body.withUnsafeReadableBytes { raw throws(JSONScanError) in
                var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
                guard scanner.peek() == UInt8(ascii: "{") else { throw scanner.fail("the body must be a JSON object") }
                try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                    switch key {
                    case "node_key":
                        if s.peek() == UInt8(ascii: "\"") { parsed.nodeKey = try s.parseString() } else { try s.skipValue() }
                    case "queries":
                        if s.peek() == UInt8(ascii: "{") {
                            try s.forEachMember { (q: inout JSONScanner, name: String) throws(JSONScanError) in
                                parsed.results.append((name, try q.skipValue()))
                            }
                        } else {
                            try s.skipValue()
                        }
                    case "statuses": parsed.statuses = try s.parseValue()
                    case "messages": parsed.messages = try s.parseValue()
                    case "stats": parsed.stats = try s.parseValue()
                    default: try s.skipValue()
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            throw .badRequest(body.readableBytes == 0 ? "empty body: expected a JSON object" : "malformed JSON: \(error)")
        }
        let keyBody: JSONValue? = parsed.nodeKey.map { .object([("node_key", .string($0))]) }
        let hostID = try authenticate(body: keyBody, authorization: authorization, now: now)

        var writes: [StoreWrite] = []
        var ingested = HostVitals()
        var sawDetail = false
        var observed: [DistributedResult] = []
        var labelAnswers: [(labelID: Int64, member: Bool)] = []
        var sawLabel = false
        var sawVitals = false
        var policyAnswers: [(policyID: Int64, passes: Bool?)] = []
        var liveResults: [LiveQueryHostResult] = []
        /// The one-shot queries queued for this host, read once and only if a result may answer one.
        var pending: [String: String]?
        for (name, range) in parsed.results {
            let status = parsed.statuses?[name]?.intValue ?? 0
            let message = parsed.messages?[name]?.textValue ?? ""
            let raw = body.getBytes(at: body.readerIndex + range.lowerBound, length: range.count) ?? []
            if status == 0, DetailQuery.named(distributedName: name) == nil, HostEvaluationQueries.labelID(distributedName: name) == nil,
                HostEvaluationQueries.policyID(distributedName: name) == nil
            {
                if pending == nil { pending = registry.pendingQueries(hostID: hostID) }
                if let sql = pending?[name], ExpectedCarves.isCarveQuery(sql) {
                    // An answer to a carve query sent to this host: its carves may now be started.
                    expectedCarves.withLock { $0.expect(hostID: hostID, rowsJSON: raw, now: now) }
                }
            }
            if let detail = DetailQuery.named(distributedName: name) {
                sawDetail = true
                // A failed detail query (a table missing on this OS version) changes nothing.
                guard status == 0, let value = try? JSONValue.parse(raw) else { continue }
                guard let outcome = DetailQueryIngest.ingest(detail, rows: value.rows) else { continue }
                if case .vitals(let v) = outcome {
                    // Merged here and stored once below: each stored update re-reads and re-encodes
                    // the host's vitals JSON, 14% of server CPU during an enrollment storm.
                    ingested.merge(v)
                    sawVitals = true
                } else {
                    writes.append(.detail(hostID: hostID, outcome: outcome, at: now))
                }
            } else if let labelID = HostEvaluationQueries.labelID(distributedName: name) {
                // Member iff ≥1 row; a failed label query leaves membership as it was.
                sawLabel = true
                if status == 0 { labelAnswers.append((labelID, AgentService.rowCount(raw) > 0)) }
            } else if let policyID = HostEvaluationQueries.policyID(distributedName: name) {
                let outcome = HostEvaluationOutcome(status: status, rowCount: status == 0 ? AgentService.rowCount(raw) : 0)
                policyAnswers.append((policyID, outcome.boolValue))
            } else if let campaignID = LiveQueryName.campaignID(distributedName: name) {
                let isArray = raw.first(where: { $0 > 0x20 }) == UInt8(ascii: "[")
                let result = LiveQueryHostResult(
                    campaignID: campaignID, hostID: hostID, rowsJSON: isArray ? String(decoding: raw, as: UTF8.self) : "[]",
                    rowCount: isArray ? AgentService.countElements(raw) : 0,
                    error: status == 0 ? nil : (message.isEmpty ? "query failed with status \(status)" : message),
                    statsJSON: parsed.stats?[name].map { String(decoding: $0.encoded(), as: UTF8.self) }, receivedAt: now)
                writes.append(.fleet(.campaignResult(result)))
                liveResults.append(result)
            } else {
                // Rows are kept as the agent's own bytes; an agent sends "" instead of [] for no rows.
                let isArray = raw.first(where: { $0 > 0x20 }) == UInt8(ascii: "[")
                let rowCount = isArray ? AgentService.countElements(raw) : 0
                let result = DistributedResult(
                    hostID: hostID, name: name, status: status, message: message,
                    rowsJSON: isArray ? String(decoding: raw, as: UTF8.self) : "[]", rowCount: rowCount,
                    statsJSON: parsed.stats?[name].map { String(decoding: $0.encoded(), as: UTF8.self) }, receivedAt: now)
                writes.append(.distributedResult(result))
                observed.append(result)
            }
        }
        if sawVitals { writes.append(.detail(hostID: hostID, outcome: .vitals(ingested), at: now)) }
        if sawDetail { writes.append(.detailsRefreshed(hostID: hostID, at: now)) }
        if sawLabel { writes.append(.fleet(.labels(hostID: hostID, members: labelAnswers, at: now))) }
        if !policyAnswers.isEmpty { writes.append(.fleet(.policies(hostID: hostID, results: policyAnswers, at: now))) }
        if !writes.isEmpty {
            do {
                try await writer.write(writes)
            } catch {
                logger.error("distributed results not stored", metadata: ["host_id": "\(hostID)", "error": "\(error)"])
                // osquery keeps the results in memory and sends them again on its next write.
                throw .unavailable("results could not be stored; the agent will resend them")
            }
        }
        if sawDetail { registry.detailsIngested(hostID: hostID, vitals: ingested, at: now) }
        if sawLabel { registry.labelsEvaluated(hostID: hostID, at: now) }
        if !policyAnswers.isEmpty { registry.policiesEvaluated(hostID: hostID, at: now) }
        for result in liveResults {
            registry.completeQuery(name: LiveQueryName.name(campaignID: result.campaignID), hostID: hostID)
            registry.liveQueries.deliver(result)
        }
        for result in observed {
            registry.completeQuery(name: result.name, hostID: hostID)
            resultObserver?(result)
        }
        return AgentService.okBody
    }

    /// Rows in a result: the elements of an array, 0 for anything else (osquery sends "" for none).
    static func rowCount(_ raw: [UInt8]) -> Int {
        raw.first(where: { $0 > 0x20 }) == UInt8(ascii: "[") ? countElements(raw) : 0
    }

    static func countElements(_ bytes: [UInt8]) -> Int {
        var count = 0
        _ = try? bytes.withUnsafeBufferPointer { buffer throws(JSONScanError) in
            var scanner = JSONScanner(buffer)
            try scanner.forEachElement { (s: inout JSONScanner) throws(JSONScanError) in
                try s.skipValue()
                count += 1
            }
        }
        return count
    }

    // MARK: - Log

    /// `log`: validates the envelope and that every `data` item is a JSON object, keeps each line
    /// as the agent's bytes, and answers `{}` only after the sink made the batch durable.
    public func log(body: ByteBuffer, contentEncoding: String?, authorization: String?, now: Date = Date()) async throws(AgentError) -> [UInt8] {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], AgentError>, Never>) in
            log(body: body, contentEncoding: contentEncoding, authorization: authorization, now: now) { continuation.resume(returning: $0) }
        }.get()
    }

    /// The same, answered through `done` (exactly once, on any thread): parsing and checks run
    /// on the caller's thread, the answer comes when the sink has made the batch durable. A
    /// compressed body is inflated here, after the header's key (if any) was checked, within the
    /// shared inflation budget, which it holds until it is answered.
    public func log(
        body: ByteBuffer, contentEncoding: String?, authorization: String?, now: Date = Date(),
        done: @escaping @Sendable (Result<[UInt8], AgentError>) -> Void
    ) {
        let batch: LogBatch?
        let charged: Int
        do throws(AgentError) {
            // Reject an unknown key before inflating or scanning a large body; a body without its
            // own node_key (osquery >= 5.23 sends it in the header) is then already authenticated.
            var headerHostID: Int64?
            if let header = AgentService.nodeKey(body: nil, authorization: authorization) {
                guard let hostID = registry.authenticate(AgentService.digest(header), now: now) else { throw .nodeInvalid() }
                headerHostID = hostID
            }
            let prepared = try bodyThread.prepare(body, coding: try AgentContentCoding(contentEncoding), maxInflated: limits.inflatedLog)
            charged = prepared.charged
            do throws(AgentError) {
                batch = try logBatch(inflated: prepared.buffer, headerHostID: headerHostID, authorization: authorization, now: now)
            } catch {
                bodyThread.budget.release(charged)
                throw error
            }
        } catch {
            done(.failure(error))
            return
        }
        let budget = bodyThread.budget
        let finish: @Sendable (Result<[UInt8], AgentError>) -> Void = { result in
            if charged > 0 { budget.release(charged) }
            done(result)
        }
        guard let batch else {
            finish(.success(AgentService.okBody))  // osquery can post "data":[] (spec §4.5)
            return
        }
        logSink.append(batch) { result in
            switch result {
            case .success:
                finish(.success(AgentService.okBody))
            case .failure(let error):
                // An error body makes osquery keep the batch and resend it later (spec §4.6).
                finish(.failure(.unavailable("logs could not be stored durably (\(error)); the agent will resend them")))
            }
        }
    }

    /// A `/log` body (inflated) checked and taken apart: `nil` when it holds no lines.
    /// `headerHostID` is the host the `Authorization` header named, already authenticated.
    func logBatch(inflated: ByteBuffer, headerHostID: Int64?, authorization: String?, now: Date) throws(AgentError) -> LogBatch? {
        var nodeKey: String?
        var logType: String?
        var ranges: [Range<Int>] = []
        var sawData = false
        do {
            try inflated.withUnsafeReadableBytes { raw throws(JSONScanError) in
                var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
                guard scanner.peek() == UInt8(ascii: "{") else { throw scanner.fail("the body must be a JSON object") }
                try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                    switch key {
                    case "node_key":
                        if s.peek() == UInt8(ascii: "\"") { nodeKey = try s.parseString() } else { try s.skipValue() }
                    case "log_type":
                        guard s.peek() == UInt8(ascii: "\"") else { throw s.fail("log_type must be a string") }
                        logType = try s.parseString()
                    case "data":
                        guard s.peek() == UInt8(ascii: "[") else { throw s.fail("data must be an array of objects") }
                        sawData = true
                        try s.forEachElement { (item: inout JSONScanner) throws(JSONScanError) in
                            guard item.peek() == UInt8(ascii: "{") else { throw item.fail("every data item must be a JSON object") }
                            ranges.append(try item.skipValue())
                        }
                    default: try s.skipValue()
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            throw .badRequest(inflated.readableBytes == 0 ? "empty body: expected a JSON object" : "malformed log body: \(error)")
        }
        let hostID: Int64
        if let nodeKey, !nodeKey.isEmpty {
            // The body's key wins over the header's (``AgentService/nodeKey(body:authorization:)``).
            hostID = try authenticate(body: .object([("node_key", .string(nodeKey))]), authorization: authorization, now: now)
        } else if let headerHostID {
            hostID = headerHostID
        } else {
            throw .nodeInvalid("missing node_key")
        }
        guard let logType else { throw .badRequest("missing log_type") }
        guard let kind = LogBatch.Kind(rawValue: logType) else {
            throw .badRequest("log_type must be \"result\" or \"status\", not \"\(logType)\"")
        }
        guard sawData else { throw .badRequest("missing data array") }
        if ranges.isEmpty { return nil }
        let base = inflated.readerIndex
        let lines = ranges.map { inflated.getSlice(at: base + $0.lowerBound, length: $0.count)! }
        return LogBatch(hostID: hostID, kind: kind, lines: lines, receivedAt: now)
    }
}
