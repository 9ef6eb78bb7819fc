import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization
@testable import PomonaAdminAPI

/// A management API over a fresh SQLite file, with one user (and token) per role, for in-process
/// route tests (`app.test(.router)`). Other route suites in this target may use it too.
final class AdminTestHarness: Sendable {
    let directory: URL
    let store: Datastore
    let registry: HostRegistry
    let writer: StoreWriter
    let api: AdminAPI
    /// The time the API sees; tests move it forward to expire sessions.
    let clock = TestClock()
    /// Bearer tokens of the seeded users, by role.
    let tokens: [Role: String]
    let userIDs: [Role: Int64]
    static let password = "correct-horse-1!"

    /// - Parameter seedUsers: `false` for a server with no users at all (setup tests).
    init(settings: AdminSettings = AdminTestHarness.fastSettings(), seedUsers: Bool = true) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Datastore(path: directory.appendingPathComponent("db.sqlite").path)
        registry = HostRegistry()
        let logger = Logger(label: "admin-test")
        let clock = self.clock
        writer = StoreWriter(store: store, logger: logger)
        api = AdminAPI(
            store: store, writer: writer, registry: registry, logger: logger,
            settings: settings, clock: { clock.now })
        var tokens: [Role: String] = [:]
        var ids: [Role: Int64] = [:]
        let hash = try PasswordHashing.hash(Self.password, rounds: settings.passwordRounds)
        for role in seedUsers ? [Role.admin, .maintainer, .observer] : [] {
            let user = try await store.createUser(
                name: "\(role.rawValue) user", email: "\(role.rawValue)@example.com", passwordHash: hash, globalRole: role.rawValue,
                apiOnly: false)!
            ids[role] = user.id
            tokens[role] = try await api.issueToken(userID: user.id, kind: .session)
        }
        self.tokens = tokens
        self.userIDs = ids
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Cheap KDF and a login limit tests do not hit by accident (all router-test requests share one address).
    static func fastSettings() -> AdminSettings {
        var settings = AdminSettings()
        settings.passwordRounds = 1000
        settings.loginAttemptsPerMinute = 1000
        return settings
    }

    func advance(by seconds: TimeInterval) { clock.advance(by: seconds) }
    var now: Date { clock.now }

    /// A router with every admin route (built per use: routers are not Sendable).
    func makeRouter() -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        api.register(on: router)
        return router
    }

    var application: some ApplicationProtocol { Application(router: makeRouter()) }

    /// Enrolls a host straight into the store and the registry, as the agent API would.
    @discardableResult
    func addHost(
        _ name: String, platform: String = "darwin", serial: String? = nil, uuid: String? = nil, ip: String? = nil,
        createdAt: Date? = nil, seenAt: Date? = nil
    ) async throws -> Int64 {
        var vitals = HostVitals()
        vitals.hostname = name
        vitals.platform = platform
        vitals.hardwareSerial = serial ?? "SER-\(name)"
        vitals.uuid = uuid ?? "UUID-\(name)"
        vitals.primaryIP = ip
        vitals.osqueryVersion = "5.12.1"
        let created = createdAt ?? now
        var digestBytes = [UInt8](repeating: 0, count: 32)
        for (i, b) in Array(name.utf8).prefix(32).enumerated() { digestBytes[i] = b }
        digestBytes[31] = UInt8(truncatingIfNeeded: name.hashValue)
        let digest = NodeKeyDigest(bytes: digestBytes)!
        let outcome = try await store.enroll(
            EnrollmentRecord(
                osqueryHostID: "osq-\(name)", nodeKeyDigest: digest, enrollSecretID: 1, vitals: vitals, remoteIP: ip ?? "192.0.2.1",
                now: created))
        var state = outcome.state
        state.seenAt = seenAt
        registry.register(state, digest: digest)
        return outcome.hostID
    }
}

/// What a test request returned.
struct AdminResponse {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
    var json: JSONValue { (try? JSONValue.parse(Array(body.readableBytesView))) ?? .null }
    /// The reason of the first field error (Fleet's envelope).
    var firstError: (name: String, reason: String)? {
        guard let first = json["errors"]?.arrayValue?.first else { return nil }
        return (first["name"]?.stringValue ?? "", first["reason"]?.stringValue ?? "")
    }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: String? = nil) async throws -> AdminResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            AdminResponse(status: response.status, headers: response.headers, body: response.body)
        }
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let time = Mutex(Date())
    var now: Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
