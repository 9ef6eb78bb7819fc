import NIOCore

/// One event as it sits in the spool: already split (one osquery row, one status line, one
/// `/collector` object), not yet filtered, transformed, throttled, enriched or routed.
///
/// Splitting happens at ingest (``OsqueryLogSplitter``) so that every unit the spool holds is an
/// event and the accounting balances in events:
/// `received = forwarded + filtered + throttled + dead-lettered + still spooled`.
public struct SpooledEvent: Sendable {
    /// Which input accepted it: `osquery` for `/log`, `live` for live-query results, or the
    /// `/collector` source's configured name.
    public var input: String
    /// `osquery:result`, `osquery:status`, `osquery:live` or the collector source's sourcetype.
    public var sourcetype: String
    /// The enrolled host it came from, when known (osquery inputs); collector events may name a
    /// host in a field instead, which enrichment resolves.
    public var hostID: Int64?
    /// When Pomona accepted it, seconds since 1970.
    public var receivedAt: Double
    /// Stable identity from the spool position: same value after a restart, so outputs can use it
    /// as an idempotency key (`_id`).
    public var id: String
    /// The event, one JSON object.
    public var body: ByteBuffer

    public init(input: String, sourcetype: String, hostID: Int64?, receivedAt: Double, id: String, body: ByteBuffer) {
        self.input = input
        self.sourcetype = sourcetype
        self.hostID = hostID
        self.receivedAt = receivedAt
        self.id = id
        self.body = body
    }
}

/// Host facts added under `host.*` by the enrich stage. Served from memory (the server keeps a
/// cache refreshed from the datastore); the pipeline never waits on SQLite.
public struct HostFacts: Sendable, Equatable {
    public var id: Int64
    public var hostname: String
    public var uuid: String
    public var hardwareSerial: String
    public var platform: String
    public var osVersion: String
    public var primaryIP: String
    public var primaryMAC: String
    public var loggedInUser: String
    public var labels: [String]

    public init(id: Int64, hostname: String, uuid: String, hardwareSerial: String, platform: String, osVersion: String,
                primaryIP: String, primaryMAC: String, loggedInUser: String, labels: [String]) {
        self.id = id
        self.hostname = hostname
        self.uuid = uuid
        self.hardwareSerial = hardwareSerial
        self.platform = platform
        self.osVersion = osVersion
        self.primaryIP = primaryIP
        self.primaryMAC = primaryMAC
        self.loggedInUser = loggedInUser
        self.labels = labels
    }
}

public protocol HostFactsProvider: Sendable {
    /// Facts for an enrolled host, from memory.
    func facts(hostID: Int64) -> HostFacts?
    /// Facts for a host named by a collector event (uuid, hostname, serial or osquery host id).
    func facts(identifier: String) -> HostFacts?
}
