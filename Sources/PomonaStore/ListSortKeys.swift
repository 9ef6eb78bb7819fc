import Foundation

/// A key an admin list may be sorted by.
///
/// The raw value is the key's name in the API (`order_key`); how a key orders rows (a column, an
/// expression, a comparison in memory) is the store's business and never leaves this module, so
/// no request text and no column name crosses the module boundary.
public protocol ListSortKey: RawRepresentable<String>, CaseIterable, Sendable, Equatable {}

/// One page of a list as the store serves it: sorted by `sort` (ties broken by id, so pages are
/// stable), `limit` rows from `offset`.
public struct ListPage<Key: ListSortKey>: Sendable, Equatable {
    public var sort: Key
    public var descending: Bool
    public var limit: Int
    public var offset: Int

    public init(sort: Key, descending: Bool = false, limit: Int, offset: Int = 0) {
        self.sort = sort
        self.descending = descending
        self.limit = limit
        self.offset = offset
    }

    /// `ASC` or `DESC`, for the SQL store.
    var direction: String { descending ? "DESC" : "ASC" }
}

// MARK: - Sorted in SQL

/// Sort keys of the host list (`GET /hosts`, `GET /labels/{id}/hosts`).
public enum HostSortKey: String, ListSortKey {
    case id, hostname, platform, uuid
    case displayName = "display_name"
    case computerName = "computer_name"
    case createdAt = "created_at"
    case seenTime = "seen_time"
    case lastEnrolledAt = "last_enrolled_at"
    case detailUpdatedAt = "detail_updated_at"
    case hardwareSerial = "hardware_serial"
    case osqueryHostID = "osquery_host_id"
    case publicIP = "public_ip"

    /// The `hosts` column each key orders by.
    var column: String {
        switch self {
        case .id: "id"
        case .hostname: "hostname"
        case .platform: "platform"
        case .uuid: "uuid"
        case .displayName, .computerName: "computer_name"
        case .createdAt: "created_at"
        case .seenTime: "seen_at"
        case .lastEnrolledAt: "last_enrolled_at"
        case .detailUpdatedAt: "detail_updated_at"
        case .hardwareSerial: "hardware_serial"
        case .osqueryHostID: "osquery_host_id"
        case .publicIP: "remote_ip"
        }
    }
}

/// Sort keys of the software inventory (`GET /software`).
public enum SoftwareSortKey: String, ListSortKey {
    case id, name, version, source
    case hostsCount = "hosts_count"

    var expression: String {
        switch self {
        case .id: "s.id"
        case .name: "s.name"
        case .version: "s.version"
        case .source: "s.source"
        case .hostsCount: "hosts_count"
        }
    }
}

/// Sort keys of the audit log (`GET /activities`).
public enum ActivitySortKey: String, ListSortKey {
    case id, type
    case createdAt = "created_at"

    var column: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .createdAt: "created_at"
        }
    }
}

// MARK: - Sorted in memory (small lists the store returns whole)

/// Sort keys of the label list; ``inIncreasingOrder(_:_:)`` breaks ties by id.
public enum LabelSortKey: String, ListSortKey {
    case id, name
    case createdAt = "created_at"

    public func inIncreasingOrder(_ a: LabelRecord, _ b: LabelRecord) -> Bool {
        switch self {
        case .name: (a.name.lowercased(), a.id) < (b.name.lowercased(), b.id)
        case .createdAt: (a.createdAt, a.id) < (b.createdAt, b.id)
        case .id: a.id < b.id
        }
    }
}

/// Sort keys of the policy list; ``inIncreasingOrder(_:_:)`` breaks ties by id.
public enum PolicySortKey: String, ListSortKey {
    case id, name
    case failingHostCount = "failing_host_count"
    case passingHostCount = "passing_host_count"

    public func inIncreasingOrder(_ a: PolicyRecord, _ b: PolicyRecord) -> Bool {
        switch self {
        case .name: (a.name.lowercased(), a.id) < (b.name.lowercased(), b.id)
        case .failingHostCount: (a.failingHostCount, a.id) < (b.failingHostCount, b.id)
        case .passingHostCount: (a.passingHostCount, a.id) < (b.passingHostCount, b.id)
        case .id: a.id < b.id
        }
    }
}

/// Sort keys of the saved-query list; ``inIncreasingOrder(_:_:)`` breaks ties by id.
public enum SavedQuerySortKey: String, ListSortKey {
    case id, name, interval
    case createdAt = "created_at"
    case updatedAt = "updated_at"

    public func inIncreasingOrder(_ a: SavedQuery, _ b: SavedQuery) -> Bool {
        switch self {
        case .id: a.id < b.id
        case .createdAt: (a.createdAt, a.id) < (b.createdAt, b.id)
        case .updatedAt: (a.updatedAt, a.id) < (b.updatedAt, b.id)
        case .interval: (a.interval, a.id) < (b.interval, b.id)
        case .name: (a.name.lowercased(), a.id) < (b.name.lowercased(), b.id)
        }
    }
}

/// Sort keys of the user list; ``inIncreasingOrder(_:_:)`` breaks ties by id.
public enum UserSortKey: String, ListSortKey {
    case id, name, email
    case createdAt = "created_at"

    public func inIncreasingOrder(_ a: UserRecord, _ b: UserRecord) -> Bool {
        switch self {
        case .id: a.id < b.id
        case .email: (a.email, a.id) < (b.email, b.id)
        case .createdAt: (a.createdAt, a.id) < (b.createdAt, b.id)
        case .name: (a.name.lowercased(), a.id) < (b.name.lowercased(), b.id)
        }
    }
}

/// Sort keys of the carve list; both orders are creation order (ids are assigned in creation order).
public enum CarveSortKey: String, ListSortKey {
    case id
    case createdAt = "created_at"

    public func inIncreasingOrder(_ a: CarveSession, _ b: CarveSession) -> Bool {
        switch self {
        case .id: a.id < b.id
        case .createdAt: (a.createdAt, a.id) < (b.createdAt, b.id)
        }
    }
}
