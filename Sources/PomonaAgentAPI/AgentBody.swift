import CompressNIO
import Foundation
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
    /// Cap on the inflated size of a gzip body (a gzip bomb stops here): exactly this many bytes
    /// are accepted, one more is refused as too large.
    public var inflatedLog = 256 << 20
    public var carveBlock = 32 << 20
    /// Largest carve accepted (`carve_size`: the upload, a tar or the zstd of one). Carves are
    /// stored in the database; 1 GiB holds the logs, binaries and configuration trees carves are
    /// for, while a few runaway carves of whole directories cannot fill the disk the database
    /// and the spool share.
    public var maxCarveSize = 1 << 30
    /// Bytes all bodies being inflated may hold at once (``InflationBudget``). Twice the inflated
    /// cap, so that one bomb being inflated to the cap leaves room for a real batch as large.
    public var inflationBudget = 512 << 20

    public init() {}
}

/// How an agent body is encoded (`Content-Encoding`).
enum AgentContentCoding: Equatable, Sendable {
    case identity
    /// gzip (RFC 1952), what osquery sends for logs with `--logger_tls_compress`.
    case gzip
    /// HTTP's `deflate`, which is the zlib format (RFC 1950).
    case zlib

    init(_ header: String?) throws(AgentError) {
        guard let encoding = header?.lowercased().trimmingCharacters(in: .whitespaces), !encoding.isEmpty, encoding != "identity"
        else {
            self = .identity
            return
        }
        switch encoding {
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .zlib
        default: throw .badRequest("unsupported Content-Encoding \"\(encoding)\" (gzip only)")
        }
    }
}

/// An agent body ready to read, and the share of the inflation budget it holds until the request
/// is answered (zero when it was not compressed).
struct PreparedAgentBody: Sendable {
    var buffer: ByteBuffer
    var charged: Int
}

/// Reads and, when needed, inflates an agent request body.
enum AgentBody {
    /// Output is produced in steps of this many bytes; the cap is checked after each, so at most
    /// this much more than the cap is ever inflated before a bomb is refused.
    static let inflationStep = 64 << 10

    /// Deflate's largest possible expansion (zlib's technical notes: 1032:1). It bounds the work a
    /// compressed body can cause, which decides where it is inflated (``isLight(_:coding:inflatedLimit:)``).
    static let maximumExpansion = 1032

    /// Bodies whose handling (inflating, then scanning the result) touches at most this many
    /// bytes are handled where they were read, on the event loop: about 0.1–0.5 ms. Anything
    /// bigger goes to ``AgentBodyThread``: the hop costs tens of microseconds, small next to the
    /// fsync a `/log` answer waits for anyway, while a 256 MiB bomb inflated on a loop stalled
    /// every connection on it for a second.
    static let lightBytes = 256 << 10

    /// Whether a body is cheap enough to handle on the event loop that read it.
    static func isLight(_ body: ByteBuffer, coding: AgentContentCoding, inflatedLimit: Int) -> Bool {
        switch coding {
        case .identity:
            return body.readableBytes <= lightBytes
        case .gzip, .zlib:
            let (worst, overflow) = body.readableBytes.multipliedReportingOverflow(by: maximumExpansion)
            return min(overflow ? Int.max : worst, inflatedLimit) <= lightBytes
        }
    }

    /// Inflates a compressed body to at most `maxInflated` bytes, taking its memory from `budget`
    /// as the output grows. An identity body is returned as it is, charging nothing.
    ///
    /// Stops at the cap exactly: a body that inflates to `maxInflated` bytes is accepted, one
    /// that inflates to a single byte more is refused as too large (`tooLarge`), having inflated
    /// at most ``inflationStep`` bytes past the cap. When the budget is spent the request is
    /// refused as `busy` (an error body: osquery keeps the batch and resends it later). On any
    /// refusal what was taken from the budget has been given back.
    static func prepare(
        _ body: ByteBuffer, coding: AgentContentCoding, maxInflated: Int, budget: SharedInflationBudget
    ) throws(AgentError) -> PreparedAgentBody {
        if coding == .identity { return PreparedAgentBody(buffer: body, charged: 0) }
        var charged = 0
        do {
            let buffer = try inflate(body, coding: coding, maxInflated: maxInflated, budget: budget, charged: &charged)
            return PreparedAgentBody(buffer: buffer, charged: charged)
        } catch {
            budget.release(charged)
            throw error
        }
    }

    /// The same from a `Content-Encoding` header value.
    static func prepare(
        _ body: ByteBuffer, contentEncoding: String?, maxInflated: Int, budget: SharedInflationBudget
    ) throws(AgentError) -> PreparedAgentBody {
        try prepare(body, coding: try AgentContentCoding(contentEncoding), maxInflated: maxInflated, budget: budget)
    }

    /// Inflates within the cap only, outside any shared budget: for `/collector`, whose sources
    /// are authenticated by their token before their bodies are inflated.
    static func inflate(_ body: ByteBuffer, contentEncoding: String?, maxInflated: Int) throws(AgentError) -> ByteBuffer {
        try prepare(body, contentEncoding: contentEncoding, maxInflated: maxInflated, budget: unbounded).buffer
    }

    private static let unbounded = SharedInflationBudget(limit: Int.max)

    private static func inflate(
        _ body: ByteBuffer, coding: AgentContentCoding, maxInflated: Int, budget: SharedInflationBudget, charged: inout Int
    ) throws(AgentError) -> ByteBuffer {
        let name = coding == .gzip ? "gzip" : "deflate"
        guard body.readableBytes > 0 else { throw .badRequest("empty \(name) body") }
        let inflater: ZlibDecompressor
        do {
            inflater = try ZlibDecompressor(algorithm: coding == .gzip ? .gzip : .zlib, windowSize: 15)
        } catch {
            throw .internalError("could not start inflating: \(error)")
        }
        var input = body
        var output = ByteBuffer()
        var step = ByteBufferAllocator().buffer(capacity: inflationStep)

        /// Moves what the last step produced into `output`, within the cap and the budget.
        func keepStep() throws(AgentError) {
            let needed = output.readableBytes + step.readableBytes
            guard needed <= maxInflated else { throw .tooLarge("\(name) body inflates to more than \(maxInflated) bytes") }
            if needed > output.capacity {
                // ByteBuffer allocates powers of two; charge what it will really hold.
                let target = needed.nextPowerOfTwo
                guard budget.reserve(target - output.capacity) else { throw busy }
                charged += target - output.capacity
                output.reserveCapacity(target)
                if output.capacity > target {
                    guard budget.reserve(output.capacity - target) else { throw busy }
                    charged += output.capacity - target
                }
            }
            output.writeBuffer(&step)
            step.clear()
        }

        while true {
            // One step: inflate until `step` is full, the stream ends or the input runs out.
            let ended: Bool
            do {
                try inflater.inflate(from: &input, to: &step)
                // A normal return is the end of the stream, or all input consumed before it
                // (zlib's Z_OK with room left): only with input left is it certainly the end.
                if input.readableBytes > 0 {
                    ended = true
                } else {
                    try keepStep()
                    guard try streamHasEnded(inflater, input: &input, probe: &step) else {
                        throw AgentError.badRequest("\(name) body is truncated")
                    }
                    ended = true
                }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                ended = false  // `step` is full; there is more
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw .badRequest("\(name) body is truncated")
            } catch let error as AgentError {
                throw error
            } catch {
                throw .badRequest("body is not valid \(name): \(error)")
            }
            try keepStep()
            guard ended else { continue }
            if input.readableBytes == 0 { return output }
            // More after the end: another gzip member (RFC 1952 allows concatenated members,
            // read as one); the zlib format has no such thing.
            guard coding == .gzip else { throw .badRequest("bytes after the end of the deflate stream") }
            do { try inflater.reset() } catch { throw .internalError("could not continue inflating: \(error)") }
        }
    }

    /// After zlib consumed all input without reporting the end in the same call: asks once more
    /// with no input, which answers the end again if it was reached and "no progress" if the
    /// stream is cut short.
    private static func streamHasEnded(_ inflater: ZlibDecompressor, input: inout ByteBuffer, probe: inout ByteBuffer) throws -> Bool {
        do {
            try inflater.inflate(from: &input, to: &probe)
            return true
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            return false
        }
    }

    static let busy = AgentError.busy("the server is inflating too many compressed bodies at once; the agent will resend")
}

extension Int {
    /// The smallest power of two at least `self` (1 for 0 and 1).
    var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}
