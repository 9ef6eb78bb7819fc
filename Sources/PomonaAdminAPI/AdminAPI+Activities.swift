import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// The audit log: every change made through the API, with its actor, newest first by default.
extension AdminAPI {
    func registerActivities(on router: Router<AdminRequestContext>) {
        route(router, .get, "/activities") { request, context in
            _ = try context.requireRole(.observer)
            let options = try ListOptions(request, defaultSort: ActivitySortKey.createdAt, defaultDescending: true)
            let store = self.store
            let activities = try await store.activities(options.storePage)
            return jsonResponse(.object([
                ("activities", .array(activities.prefix(options.perPage).map(activityJSON))),
                ("meta", options.meta(fetchedCount: activities.count)),
            ]))
        }
    }
}

func activityJSON(_ activity: Activity) -> JSONValue {
    .object([
        ("id", .int(activity.id)),
        ("created_at", .date(activity.createdAt)),
        ("actor_id", activity.actor.id.map(JSONValue.int) ?? .null),
        ("actor_full_name", .string(activity.actor.name)),
        ("actor_email", .string(activity.actor.email)),
        ("type", .string(activity.type)),
        ("details", (try? JSONValue.parse(Array(activity.detailsJSON.utf8))) ?? .object([])),
    ])
}
