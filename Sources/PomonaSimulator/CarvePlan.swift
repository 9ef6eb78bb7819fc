import Foundation

/// How osqueryd splits an upload into carve blocks (spec §8.2–§8.3).
///
/// `block_count = ceil(carve_size / block_size)`; every block but the last holds exactly
/// `block_size` bytes; block ids are 0-based; each block travels as standard base64 with padding
/// and no line breaks.
public struct CarvePlan: Sendable, Equatable {
    /// The bytes being uploaded (the tar or tar.zst, not the original files).
    public let data: Data
    /// `--carver_block_size`.
    public let blockSize: Int

    /// - Precondition: `blockSize > 0`.
    public init(data: Data, blockSize: Int) {
        precondition(blockSize > 0, "carve block size must be positive")
        self.data = data
        self.blockSize = blockSize
    }

    /// `carve_size`.
    public var carveSize: Int { data.count }

    /// `block_count`.
    public var blockCount: Int { (data.count + blockSize - 1) / blockSize }

    /// The raw bytes of block `id` (0-based).
    public func block(_ id: Int) -> Data {
        let start = data.startIndex + id * blockSize
        let end = min(start + blockSize, data.endIndex)
        return data[start..<end]
    }

    /// Block `id` as the base64 text sent in `data`.
    public func base64Block(_ id: Int) -> String { block(id).base64EncodedString() }
}
