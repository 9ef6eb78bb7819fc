import Foundation
import Hummingbird
import NIOCore
import PomonaPipeline

/// `GET /api/v1/pomona/pipeline/stats` (observer): the pipeline's spool, per-input and per-output
/// accounting, and per-query daily volume, as `pomona pipeline stats` shows them.
extension AdminAPI {
    public static let pipelineStatsPath = "/api/v1/pomona/pipeline/stats"

    func registerPipeline(on router: Router<AdminRequestContext>) {
        router.get(RouterPath(AdminAPI.pipelineStatsPath)) { _, context -> Response in
            _ = try context.requireRole(.observer)
            guard let pipeline = self.pipeline else { throw FleetAPIError.notFound("the event pipeline") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = try encoder.encode(pipeline.stats())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
