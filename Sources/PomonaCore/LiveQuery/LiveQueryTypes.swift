import Foundation

/// The distributed-query names live queries travel under.
public enum LiveQueryName {
    public static let prefix = "fleet_distributed_query_"

    public static func name(campaignID: Int64) -> String { prefix + String(campaignID) }

    /// The campaign id in a `fleet_distributed_query_<id>` name, or `nil` for any other name.
    public static func campaignID(distributedName name: String) -> Int64? {
        guard name.hasPrefix(prefix) else { return nil }
        return Int64(name.dropFirst(prefix.count))
    }
}

/// One host's answer to a live query.
public struct LiveQueryHostResult: Sendable, Equatable {
    public var campaignID: Int64
    public var hostID: Int64
    /// The agent's rows, as the compact JSON array text it sent (`[]` when none).
    public var rowsJSON: String
    public var rowCount: Int
    /// The agent's error message when the query failed (non-zero status), else `nil`.
    public var error: String?
    /// The agent's `stats` object as JSON text, when it sent one.
    public var statsJSON: String?
    public var receivedAt: Date

    public init(campaignID: Int64, hostID: Int64, rowsJSON: String, rowCount: Int, error: String?, statsJSON: String?, receivedAt: Date) {
        self.campaignID = campaignID
        self.hostID = hostID
        self.rowsJSON = rowsJSON
        self.rowCount = rowCount
        self.error = error
        self.statsJSON = statsJSON
        self.receivedAt = receivedAt
    }
}

/// Progress of a campaign: "X of Y online hosts responded".
public struct LiveQueryTotals: Sendable, Equatable {
    /// Hosts the campaign targets (resolved when it was created).
    public var targeted: Int
    /// Targeted hosts that were online when it was created.
    public var online: Int
    /// Hosts that answered (with rows, no rows or an error).
    public var responded: Int
    /// Of those, the ones that were online at creation.
    public var respondedOnline: Int
    /// Answers that were errors.
    public var failed: Int
    /// Rows received in all.
    public var rows: Int

    public init(targeted: Int = 0, online: Int = 0, responded: Int = 0, respondedOnline: Int = 0, failed: Int = 0, rows: Int = 0) {
        self.targeted = targeted
        self.online = online
        self.responded = responded
        self.respondedOnline = respondedOnline
        self.failed = failed
        self.rows = rows
    }

    public var offline: Int { targeted - online }

    /// The human line clients print (`pomona query` shows it on stderr).
    public var summary: String {
        let percent = online == 0 ? 100 : respondedOnline * 100 / online
        return "\(percent)% responded | \(respondedOnline) of \(online) online hosts responded (\(responded) of \(targeted) targeted)"
    }
}

/// Why a campaign ended.
public enum LiveQueryEndReason: String, Sendable, Equatable {
    /// Every targeted host answered.
    case allResponded = "all_responded"
    /// Its time ran out (hosts that had not answered no longer get the query).
    case deadline
    /// A user stopped it.
    case cancelled
}

/// What a campaign subscriber receives, in order: every result (those that arrived before the
/// subscription first), then `done` once.
public enum LiveQueryEvent: Sendable, Equatable {
    case result(LiveQueryHostResult, LiveQueryTotals)
    case done(LiveQueryTotals, LiveQueryEndReason)
    /// Nothing happened for a while (only for subscribers that asked for keep-alives).
    case keepAlive
}

/// Tunables for live queries (the server configuration sets them).
public struct LiveQuerySettings: Sendable, Equatable {
    /// How long a campaign stays open for hosts to answer, when the request does not say.
    public var campaignLifetime: TimeInterval
    /// The longest a campaign may stay open (also caps `queue_for_offline_seconds`).
    public var maxCampaignLifetime: TimeInterval
    /// How long the synchronous endpoints wait for answers (Fleet: 25 s).
    public var synchronousWait: TimeInterval
    /// Results a campaign keeps in memory for late subscribers; beyond this only totals are kept
    /// in memory (every result is still stored in the database).
    public var maxBufferedResults: Int
    /// Campaigns observers and maintainers together may have open at once (admins' campaigns are
    /// not counted, see ``LiveQueryAdmission``).
    public var maxConcurrentCampaigns: Int
    /// Campaigns one user may have open at once (the synchronous forms' included).
    public var maxCampaignsPerUser: Int
    /// The longest an observer's campaign may stay open (`queue_for_offline_seconds` beyond it is
    /// refused): observers may run only queries made safe for them, not hold them for a week.
    public var observerMaxCampaignLifetime: TimeInterval

    public init(
        campaignLifetime: TimeInterval = 120, maxCampaignLifetime: TimeInterval = 7 * 86400, synchronousWait: TimeInterval = 25,
        maxBufferedResults: Int = 20_000, maxConcurrentCampaigns: Int = 1_000, maxCampaignsPerUser: Int = 50,
        observerMaxCampaignLifetime: TimeInterval = 3600
    ) {
        self.campaignLifetime = campaignLifetime
        self.maxCampaignLifetime = maxCampaignLifetime
        self.synchronousWait = synchronousWait
        self.maxBufferedResults = maxBufferedResults
        self.maxConcurrentCampaigns = maxConcurrentCampaigns
        self.maxCampaignsPerUser = maxCampaignsPerUser
        self.observerMaxCampaignLifetime = observerMaxCampaignLifetime
    }

    /// The caps ``LiveQueryAdmission`` applies.
    public var admissionLimits: LiveQueryAdmission.Limits {
        LiveQueryAdmission.Limits(perUser: maxCampaignsPerUser, shared: maxConcurrentCampaigns)
    }
}
