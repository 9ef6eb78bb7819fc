import CompressNIO
import NIOCore

/// Size limits for agent request bodies, per endpoint.
///
/// Generous where osquery has no client-side cap and a rejected batch blocks the agent for good
/// (logs, distributed writes: spec §4.6, §6.7), tight where bodies are tiny by nature.
public struct AgentBodyLimits: Sendable {
    public var enroll = 1 << 20
    public var small = 256 << 10
    public var distributedWrite = 64 << 20
    public var log = 64 << 20
    /// Cap on the inflated size of a gzip body (a gzip bomb stops here).
    public var inflatedLog = 256 << 20
    public var carveBlock = 32 << 20

    public init() {}
}

/// Reads and, when needed, inflates an agent request body.
enum AgentBody {
    /// Inflates a gzip body (`Content-Encoding: gzip`, which osquery sends only for logs), bounded.
    static func inflate(_ body: ByteBuffer, contentEncoding: String?, maxInflated: Int) throws(AgentError) -> ByteBuffer {
        guard let encoding = contentEncoding?.lowercased().trimmingCharacters(in: .whitespaces), !encoding.isEmpty,
            encoding != "identity"
        else { return body }
        guard encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate" else {
            throw .badRequest("unsupported Content-Encoding \"\(encoding)\" (gzip only)")
        }
        var input = body
        do {
            return try input.decompress(with: encoding == "deflate" ? .zlib() : .gzip(), maxSize: maxInflated)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw .tooLarge("gzip body inflates to more than \(maxInflated) bytes")
        } catch {
            throw .badRequest("body is not valid gzip: \(error)")
        }
    }
}

import Foundation
