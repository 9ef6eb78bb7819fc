import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Software inventory with host counts (`/software`, and Fleet's newer `/software/versions` spelling).
extension AdminAPI {
    func registerSoftware(on router: Router<AdminRequestContext>) {
        for base in ["/software", "/software/versions"] {
            route(router, .get, base) { request, context in
                _ = try context.requireRole(.observer)
                let options = try ListOptions(request, defaultSort: SoftwareSortKey.hostsCount, defaultDescending: true)
                let hostID = try intQueryParameter(request, "host_id", in: 1...Int.max).map(Int64.init)
                let store = self.store
                let items = try await store.softwareInventory(
                        query: options.query, hostID: hostID, page: options.storePage)
                return jsonResponse(.object([
                    (base == "/software" ? "software" : "software_versions", .array(items.prefix(options.perPage).map(softwareJSON))),
                    ("counts_updated_at", .date(clock())),
                    ("meta", options.meta(fetchedCount: items.count)),
                ]))
            }
            route(router, .get, base + "/count") { request, context in
                _ = try context.requireRole(.observer)
                let query = queryParameter(request, "query")?.trimmingCharacters(in: .whitespacesAndNewlines)
                let hostID = try intQueryParameter(request, "host_id", in: 1...Int.max).map(Int64.init)
                let count = try await store.softwareCount(query: query?.isEmpty == false ? query : nil, hostID: hostID)
                return jsonResponse(.object([("count", .int(count))]))
            }
            route(router, .get, base + "/:id") { _, context in
                _ = try context.requireRole(.observer)
                let id = try pathID(context)
                guard let item = try await store.softwareSummary(id: id) else {
                    throw FleetAPIError.notFound("software \(id)")
                }
                return jsonResponse(.object([(base == "/software" ? "software" : "software_version", softwareJSON(item))]))
            }
        }
    }
}

func softwareJSON(_ item: SoftwareSummary) -> JSONValue {
    .object([
        ("id", .int(item.id)), ("name", .string(item.name)), ("version", .string(item.version)), ("source", .string(item.source)),
        ("bundle_identifier", .string(item.bundleIdentifier)), ("hosts_count", .int(item.hostsCount)),
        ("vulnerabilities", .null),
    ])
}
