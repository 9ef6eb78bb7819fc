import Foundation
import Hummingbird
import PomonaAgentAPI
import PomonaCore
import PomonaStore

/// `GET /healthz`: liveness for load balancers and systemd watchdogs, answered from memory.
/// `?check=db` also runs a read against SQLite.
enum HealthRoutes {
    static func register(on router: Router<AgentRequestContext>, server: PomonaServer) {
        router.get("/healthz") { request, _ in
            var members: [(String, JSONValue)] = [("status", .string("ok"))]
            members.append(("hosts", .number(String(server.registry.count))))
            let counts = server.registry.statusCounts(now: Date())
            for status in HostStatus.allCases {
                members.append(("\(status.rawValue)_hosts", .number(String(counts[status] ?? 0))))
            }
            members.append(("uptime_seconds", .number(String(Int(Date().timeIntervalSince(server.startedAt))))))
            if request.uri.queryParameters.get("check") == "db" {
                do {
                    _ = try server.store.hostCount()
                    members.append(("db", .string("ok")))
                } catch {
                    return AgentRoutes.jsonResponse(.serviceUnavailable, JSONValue.object([("status", .string("error")), ("db", .string("unavailable"))]).encoded())
                }
            }
            return AgentRoutes.jsonResponse(.ok, JSONValue.object(members).encoded())
        }
    }
}
