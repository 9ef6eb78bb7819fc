import Logging
import ServiceLifecycle

/// Runs `tick` every `interval` until graceful shutdown, then `onShutdown` once.
///
/// Used for the writer's seen-time flush and the config refresh. A tick that throws is logged and
/// the loop goes on: background upkeep must never take the server down.
struct PeriodicService: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let tick: @Sendable () async throws -> Void
    var onShutdown: @Sendable () async -> Void = {}

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
                do { try await tick() } catch { logger.error("\(name) failed", metadata: ["error": "\(error)"]) }
            }
        }
        await onShutdown()
    }
}
