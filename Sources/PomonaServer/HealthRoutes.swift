import Foundation
import Hummingbird
import PomonaAgentAPI
import PomonaCore
import PomonaPipeline
import PomonaStore

/// `GET /healthz`: liveness for load balancers, answered from memory. `?check=db` also runs a
/// read against SQLite. `GET /readyz`: readiness (``Readiness``), 503 when not ready, from the
/// health loop's latest probes.
///
/// The agent listener faces the network, so there it says only whether the server is up; host
/// counts are for the admin listener (`detailed`), which is bound to localhost by default.
enum HealthRoutes {
    static func register<Context: RequestContext>(on router: Router<Context>, server: PomonaServer, health: ServerHealth, detailed: Bool) {
        router.get("/readyz") { _, _ in
            let readiness = readiness(server, health)
            var members: [(String, JSONValue)] = [("status", .string(readiness.ready ? "ready" : "not ready"))]
            if detailed {
                members += readiness.checks.map { ($0.0, .string($0.1)) }
            }
            return AgentRoutes.jsonResponse(readiness.ready ? .ok : .serviceUnavailable, JSONValue.object(members).encoded())
        }
        router.get("/healthz") { request, _ in
            var members: [(String, JSONValue)] = [("status", .string("ok"))]
            if detailed {
                members.append(contentsOf: details(server))
            }

            if request.uri.queryParameters.get("check") == "db" {
                do {
                    _ = try await server.store.hostCount()
                    members.append(("db", .string("ok")))
                } catch {
                    return AgentRoutes.jsonResponse(.serviceUnavailable, JSONValue.object([("status", .string("error")), ("db", .string("unavailable"))]).encoded())
                }
            }
            return AgentRoutes.jsonResponse(.ok, JSONValue.object(members).encoded())
        }
    }

    /// Host counts by status and uptime, from memory.
    static func details(_ server: PomonaServer) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("hosts", .number(String(server.registry.count)))]
        let counts = server.registry.statusCounts(now: Date())
        for status in HostStatus.allCases {
            members.append(("\(status.rawValue)_hosts", .number(String(counts[status] ?? 0))))
        }
        members.append(("uptime_seconds", .number(String(Int(Date().timeIntervalSince(server.startedAt))))))
        return members
    }

    static func readiness(_ server: PomonaServer, _ health: ServerHealth) -> Readiness {
        let outputs = server.pipeline.stats().outputs
        return Readiness(
            database: health.isWorking(PomonaServer.storeWriterPart), spool: health.isWorking(PomonaServer.spoolWriterPart),
            failingOutputs: Readiness.failingOutputs(outputs.map(Readiness.OutputState.init), now: Date().timeIntervalSince1970), outputCount: outputs.count)
    }
}
