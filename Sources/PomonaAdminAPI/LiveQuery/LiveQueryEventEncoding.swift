import Foundation
import PomonaCore
import PomonaStore

/// The Server-Sent Events of `GET /api/v1/fleet/queries/run/{id}/stream` (format in README.md):
///
/// ```text
/// event: result       data: {"distributed_query_execution_id":7,"host":{"id":1,"hostname":"a","display_name":"a"},
///                            "host_id":1,"rows":[…],"error":null,"stats":{…}}
/// event: totals       data: {"count":10,"online":8,"offline":2,"missing_in_action":0,"responded":5,
///                            "responded_online":5,"failed":0,"rows":12,"summary":"62% responded | 5 of 8 online hosts responded (5 of 10 targeted)"}
/// event: status       data: {"expected_results":8,"actual_results":5,"status":"pending"|"finished"}
/// event: done         data: {"status":"finished","reason":"all_responded"|"deadline"|"cancelled"|"finished", …totals}
/// ```
///
/// Rows are the agent's own JSON bytes, spliced in without re-encoding. Pure functions over bytes.
enum LiveQueryEventEncoding {
    static func result(_ r: LiveQueryHostResult, names: HostNames?, sequence: Int) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(r.rowsJSON.utf8.count + 200)
        append(&data, "{\"distributed_query_execution_id\":\(r.campaignID),\"host\":{\"id\":\(r.hostID),\"hostname\":")
        JSONValue.encodeString(names?.hostname ?? "", into: &data)
        append(&data, ",\"display_name\":")
        JSONValue.encodeString(names?.displayName ?? "", into: &data)
        append(&data, "},\"host_id\":\(r.hostID),\"rows\":")
        appendRaw(&data, r.rowsJSON.isEmpty ? "[]" : r.rowsJSON)
        append(&data, ",\"error\":")
        if let error = r.error { JSONValue.encodeString(error, into: &data) } else { append(&data, "null") }
        append(&data, ",\"stats\":")
        appendRaw(&data, r.statsJSON ?? "null")
        append(&data, "}")
        return event("result", data: data, id: sequence)
    }

    static func totalsMembers(_ t: LiveQueryTotals) -> [(String, JSONValue)] {
        [
            ("count", .int(t.targeted)), ("online", .int(t.online)), ("offline", .int(t.offline)), ("missing_in_action", .int(0)),
            ("responded", .int(t.responded)), ("responded_online", .int(t.respondedOnline)), ("failed", .int(t.failed)),
            ("rows", .int(t.rows)), ("summary", .string(t.summary)),
        ]
    }

    static func totals(_ t: LiveQueryTotals) -> [UInt8] {
        event("totals", data: JSONValue.object(totalsMembers(t)).encoded())
    }

    static func status(_ t: LiveQueryTotals, finished: Bool) -> [UInt8] {
        let value = JSONValue.object([
            ("expected_results", .int(t.online)), ("actual_results", .int(t.responded)), ("status", .string(finished ? "finished" : "pending")),
        ])
        return event("status", data: value.encoded())
    }

    static func done(_ t: LiveQueryTotals, reason: String) -> [UInt8] {
        let value = JSONValue.object([("status", .string("finished")), ("reason", .string(reason))] + totalsMembers(t))
        return totals(t) + status(t, finished: true) + event("done", data: value.encoded())
    }

    /// The last event for a client that fell more than `LiveQueryHub.subscriberBuffer` results
    /// behind and was cut off: the campaign goes on, its results are in `GET /queries/run/{id}`.
    static func fellBehind(campaignID: Int64, received: Int) -> [UInt8] {
        let value = JSONValue.object([
            ("message", .string("this stream fell too far behind and was closed after \(received) results; GET /api/v1/fleet/queries/run/\(campaignID) has every stored result")),
            ("received", .int(received)),
        ])
        return event("error", data: value.encoded())
    }

    /// A comment line: keeps proxies from closing a quiet stream, ignored by clients.
    static let keepAlive = Array(": keep-alive\n\n".utf8)

    static func event(_ name: String, data: [UInt8], id: Int? = nil) -> [UInt8] {
        var out = Array("event: \(name)\n".utf8)
        if let id { out += Array("id: \(id)\n".utf8) }
        out += Array("data: ".utf8)
        out += data
        out += Array("\n\n".utf8)
        return out
    }

    private static func append(_ out: inout [UInt8], _ text: String) { out.append(contentsOf: text.utf8) }

    /// Raw JSON from an agent. Inside JSON a line break can only be whitespace (strings escape
    /// theirs), so turning CR/LF into spaces keeps the value and keeps it on one `data:` line.
    private static func appendRaw(_ out: inout [UInt8], _ json: String) {
        for byte in json.utf8 { out.append(byte == 0x0A || byte == 0x0D ? 0x20 : byte) }
    }
}
