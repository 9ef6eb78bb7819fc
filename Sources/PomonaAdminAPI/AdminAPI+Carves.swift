import Foundation
import Hummingbird
import NIOCore
import PomonaCore
import PomonaStore

/// File carves: list, one carve, one block (base64, Fleet's shape) or the whole archive.
/// Maintainers and admins only: carved files are whatever was on the host's disk.
extension AdminAPI {
    func registerCarves(on router: Router<AdminRequestContext>) {
        route(router, .get, "/carves") { request, context in
            _ = try context.requireRole(.maintainer)
            let options = try ListOptions(request, defaultSort: CarveSortKey.createdAt, defaultDescending: true)
            let carves = try await store.carves()
            let (items, meta) = pagedInMemory(carves, options, matches: nil, less: options.sort.inIncreasingOrder)
            return jsonResponse(.object([("carves", .array(items.map(carveJSON))), ("meta", meta)]))
        }
        route(router, .get, "/carves/:id") { _, context in
            _ = try context.requireRole(.maintainer)
            return jsonResponse(.object([("carve", carveJSON(try await self.existingCarve(try pathID(context))))]))
        }
        route(router, .get, "/carves/:id/block/:block") { _, context in
            _ = try context.requireRole(.maintainer)
            let carve = try await self.existingCarve(try pathID(context))
            guard let text = context.parameters.get("block"), let block = Int(text), block >= 0, block < carve.blockCount else {
                throw FleetAPIError.invalid("block", "must be a block number in 0..<\(carve.blockCount)")
            }
            guard let data = try await store.carveBlock(carveID: carve.id, blockID: block) else {
                throw FleetAPIError.notFound("block \(block) of carve \(carve.id)")
            }
            return jsonResponse(.object([("data", .string(data.base64EncodedString()))]))
        }
        route(router, .get, "/carves/:id/download") { _, context in
            let user = try context.requireRole(.maintainer)
            let carve = try await self.existingCarve(try pathID(context))
            guard carve.completedAt != nil else {
                throw FleetAPIError.conflict("carve \(carve.id) is incomplete: \(carve.blocksReceived) of \(carve.blockCount) blocks received")
            }
            await recordActivity(user, "downloaded_carve", .object([("carve_id", .int(carve.id)), ("host_id", carve.hostID.map(JSONValue.int) ?? .null)]))
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream",
                    .contentDisposition: "attachment; filename=\"\(carveName(carve)).tar\"",
                ],
                body: carveDownload(carve))
        }
    }

    /// The archive streamed block by block, each read from the database as it is sent: a carve
    /// can be gigabytes, and building it in memory took that much per download. The length is
    /// known up front; a block missing half-way (the host was deleted meanwhile) ends the
    /// response short of it, which clients see as a failed download.
    func carveDownload(_ carve: CarveSession) -> ResponseBody {
        let store = self.store
        return ResponseBody(contentLength: carve.carveSize) { writer in
            for block in 0..<carve.blockCount {
                guard let data = try await store.carveBlock(carveID: carve.id, blockID: block) else {
                    throw FleetAPIError.notFound("block \(block) of carve \(carve.id)")
                }
                try await writer.write(ByteBuffer(bytes: data))
            }
            try await writer.finish(nil)
        }
    }

    func existingCarve(_ id: Int64) async throws -> CarveSession {
        guard let carve = try await store.carve(id: id) else { throw FleetAPIError.notFound("carve \(id)") }
        return carve
    }
}

func carveName(_ carve: CarveSession) -> String {
    "host-\(carve.hostID.map(String.init) ?? "deleted")-\(Int(carve.createdAt.timeIntervalSince1970))-\(carve.requestID.filter { $0.isLetter || $0.isNumber || $0 == "-" })"
}

func carveJSON(_ carve: CarveSession) -> JSONValue {
    .object([
        ("id", .int(carve.id)),
        ("created_at", .date(carve.createdAt)),
        ("host_id", carve.hostID.map(JSONValue.int) ?? .null),
        ("name", .string(carveName(carve))),
        ("block_count", .int(carve.blockCount)),
        ("block_size", .int(carve.blockSize)),
        ("carve_size", .int(carve.carveSize)),
        ("carve_id", .string(carve.carveID)),
        ("request_id", .string(carve.requestID)),
        ("session_id", .string(carve.sessionID)),
        ("expired", .bool(false)),
        ("max_block", .int(carve.blocksReceived - 1)),
        ("completed", .bool(carve.completedAt != nil)),
        ("completed_at", .date(carve.completedAt)),
        ("error", carve.error.map(JSONValue.string) ?? .null),
    ])
}
