import Hummingbird
import NIOCore

/// Global roles, Fleet's names. Each role can do everything the ones below it can.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case observer, maintainer, admin

    var rank: Int {
        switch self {
        case .observer: 0
        case .maintainer: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// The authenticated caller of an admin request (a session or an API token).
public struct AdminUser: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var email: String
    public var role: Role
    public var apiOnly: Bool

    public init(id: Int64, name: String, email: String, role: Role, apiOnly: Bool) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.apiOnly = apiOnly
    }
}

/// Request context of the admin listener. The authentication middleware fills `user`;
/// handlers call ``requireRole(_:)`` first thing.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var user: AdminUser?
    /// The bearer token's digest, so `logout` can end exactly this session.
    public var sessionDigest: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.user = nil
        self.sessionDigest = nil
    }

    /// Admin bodies are bounded per route; this is only the outer cap (carve downloads are
    /// responses, spec uploads are small).
    public var maxUploadSize: Int { 16 << 20 }

    /// The caller, if their role is at least `minimum`; otherwise 401 (nobody) or 403.
    public func requireRole(_ minimum: Role) throws(FleetAPIError) -> AdminUser {
        guard let user else { throw .unauthenticated }
        guard user.role >= minimum else { throw .forbidden }
        return user
    }
}
