import HTTPTypes
import Hummingbird
import PomonaAdminAPI
import Synchronization

/// Admin listener requests by route pattern, method and status, for `/metrics`.
///
/// Keyed by the router's pattern (`/api/v1/fleet/hosts/{id}`), never the raw path, so the label
/// set stays bounded whatever clients request; unmatched requests count under `unmatched`.
/// Admin traffic is light, so a lock and a dictionary are fine here.
final class AdminRequestMetrics: Sendable {
    struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let counts = Mutex<[Key: Int64]>([:])

    func record(route: String?, method: HTTPRequest.Method, status: Int) {
        let key = Key(route: route ?? "unmatched", method: method.rawValue, status: status)
        counts.withLock { $0[key, default: 0] += 1 }
    }

    /// Sorted, for stable output.
    func snapshot() -> [(key: Key, count: Int64)] {
        counts.withLock { $0.map { ($0.key, $0.value) } }.sorted {
            ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status)
        }
    }
}

/// Counts every admin request into ``AdminRequestMetrics`` (errors by the status they become).
struct AdminMetricsMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let metrics: AdminRequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.record(route: context.endpointPath, method: request.method, status: response.status.code)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(route: context.endpointPath, method: request.method, status: status)
            throw error
        }
    }
}
