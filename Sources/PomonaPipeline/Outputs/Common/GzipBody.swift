import CompressNIO
import NIOCore

/// gzip for request bodies (`Content-Encoding: gzip`).
enum GzipBody {
    static func compress(_ body: ByteBuffer) throws -> ByteBuffer {
        var input = body
        // Level 1: SIEM bodies are repetitive JSON that compresses well even at the fastest level,
        // and the CPU goes to the pipeline instead.
        let compressor = CompressionAlgorithm.gzip(configuration: .init(compressionLevel: .fastestCompression)).compressor
        try compressor.startStream()
        defer { try? compressor.finishStream() }
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
        try compressor.streamDeflate(from: &input, to: &output, flush: .finish)
        return output
    }
}
