import PomonaCore

/// Where a live query stands, from the campaign's stream: which hosts answered, how many targets
/// are online. Pure, so the arithmetic of the progress line is tested without a server.
struct LiveQueryProgress: Sendable, Equatable {
    var targeted: Int?
    var online: Int?
    var responded: Set<Int64> = []
    var errors = 0
    /// The server said the campaign is finished.
    var serverFinished = false

    /// `X% responded | a/b online hosts`.
    var line: String {
        guard let online else { return "\(responded.count) responded | waiting for target counts" }
        let percent = online == 0 ? 100 : min(100, responded.count * 100 / online)
        var text = "\(percent)% responded | \(responded.count)/\(online) online hosts"
        if let targeted, targeted != online { text += " (\(targeted) targeted)" }
        if errors > 0 { text += " | \(errors) error\(errors == 1 ? "" : "s")" }
        return text
    }

    /// Every online target answered (what `--exit` waits for).
    var complete: Bool {
        if serverFinished { return true }
        guard let online else { return false }
        return responded.count >= online
    }

    /// Reads a `totals` event: `{"count", "online", "offline", "missing_in_action"}`.
    mutating func applyTotals(_ value: JSONValue) {
        if let count = value["count"]?.intValue ?? value["total"]?.intValue ?? value["targeted"]?.intValue { targeted = count }
        if let online = value["online"]?.intValue { self.online = online }
    }

    /// Reads a `status` event: `{"expected_results", "actual_results", "status"}`.
    mutating func applyStatus(_ value: JSONValue) {
        if online == nil, let expected = value["expected_results"]?.intValue { online = expected }
        if let status = value["status"]?.stringValue, status == "finished" || status == "complete" || status == "completed" {
            serverFinished = true
        }
    }

    /// Counts a host result; `false` when this host already answered (a resend).
    mutating func applyResult(hostID: Int64, failed: Bool) -> Bool {
        guard responded.insert(hostID).inserted else { return false }
        if failed { errors += 1 }
        return true
    }
}

/// The line printed on stdout for one host's result: `{"host", "host_id", "rows"[, "error"]}`.
enum LiveQueryOutput {
    static func line(for result: JSONValue) -> JSONValue {
        let host = result["host"]
        var members: [(String, JSONValue)] = [
            ("host", host?["display_name"].flatMap { $0.stringValue?.isEmpty == false ? $0 : nil } ?? host?["hostname"] ?? result["hostname"] ?? .null),
            ("host_id", host?["id"] ?? result["host_id"] ?? .null),
            ("rows", result["rows"] ?? .array([])),
        ]
        if let error = result["error"], error != .null, error.stringValue?.isEmpty != true {
            members.append(("error", error))
        }
        return .object(members)
    }

    static func hostID(of result: JSONValue) -> Int64? {
        (result["host"]?["id"] ?? result["host_id"])?.intValue.map(Int64.init)
    }
}
