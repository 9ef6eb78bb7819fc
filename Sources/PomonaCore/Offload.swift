import Dispatch

/// Runs blocking work that is not the store's (the password KDF, inflating a collector body,
/// reading a web asset from disk) on a GCD thread and awaits it, so a slow call never stalls the
/// two cooperative threads that serve every request. The store needs none of this: its methods
/// are `async` and run on its connections' own queues. Errors pass through unchanged.
///
/// The one such helper in the package: request handlers of every module use it.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try work() })
        }
    }
}
