import Foundation

/// Who a campaign belongs to, as far as the caps are concerned.
public struct LiveQueryOwner: Sendable, Hashable {
    public var userID: Int64
    /// Admins' campaigns count only against their own per-user cap, never against the shared one,
    /// so no other user can fill the server and lock an admin out.
    public var isAdmin: Bool

    public init(userID: Int64, isAdmin: Bool) {
        self.userID = userID
        self.isAdmin = isAdmin
    }
}

/// The caps on open campaigns, as a plain state machine (the hub keeps one under a lock).
///
/// Before, one global cap (1,000) counted everyone: one observer opened 1,001 campaigns with
/// `queue_for_offline_seconds: 604800` in 1.2 s and admins then got 429 for a week. Now each user
/// has a cap of their own, the shared cap counts only observers' and maintainers' campaigns, and an
/// admin is refused only by their own cap. (Admins' campaigns stay bounded: admins × per-user cap.)
public struct LiveQueryAdmission: Sendable, Equatable {
    public struct Limits: Sendable, Equatable {
        /// Campaigns one user may have open at once (any role).
        public var perUser: Int
        /// Campaigns observers and maintainers together may have open at once.
        public var shared: Int

        public init(perUser: Int, shared: Int) {
            self.perUser = perUser
            self.shared = shared
        }
    }

    /// Why a campaign was not admitted.
    public enum Refusal: Error, Sendable, Equatable {
        /// The user already has `limit` campaigns open.
        case perUser(limit: Int)
        /// Observers and maintainers already have `limit` campaigns open.
        case shared(limit: Int)

        /// What the API answers (with 429).
        public var reason: String {
            switch self {
            case .perUser(let limit):
                "you have \(limit) live queries open, the most one user may have; stop one (DELETE /queries/run/{id}) or wait for one to finish"
            case .shared(let limit):
                "\(limit) live queries of observers and maintainers are open, the most allowed at once; wait for one to finish"
            }
        }
    }

    public private(set) var openByUser: [Int64: Int] = [:]
    /// Open campaigns of non-admins.
    public private(set) var openShared = 0

    public init() {}

    /// Counts a campaign for `owner`, or says why not (then nothing changes).
    public mutating func admit(_ owner: LiveQueryOwner, limits: Limits) throws(Refusal) {
        let mine = openByUser[owner.userID, default: 0]
        if mine >= limits.perUser { throw .perUser(limit: limits.perUser) }
        if !owner.isAdmin && openShared >= limits.shared { throw .shared(limit: limits.shared) }
        openByUser[owner.userID] = mine + 1
        if !owner.isAdmin { openShared += 1 }
    }

    /// Uncounts a campaign admitted for `owner` (it ended, or was never started).
    public mutating func release(_ owner: LiveQueryOwner) {
        guard let mine = openByUser[owner.userID], mine > 0 else { return }
        openByUser[owner.userID] = mine == 1 ? nil : mine - 1
        if !owner.isAdmin { openShared = max(0, openShared - 1) }
    }
}
