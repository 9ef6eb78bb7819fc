/// SplitMix64: a tiny deterministic random generator, so a host built from `(seed, index)` is the
/// same on every run and every machine (Swift's `SystemRandomNumberGenerator` cannot be seeded).
/// Public for the random-input tests, which need the same reproducible series.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// Mixes a seed with an index and a purpose tag so independent streams do not overlap.
    init(seed: UInt64, index: Int, stream: UInt64) {
        state = seed ^ (UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15) ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uppercase hex of `count` random bytes.
    mutating func hex(bytes count: Int) -> String {
        (0..<count).map { _ in
            let byte = UInt8(truncatingIfNeeded: next())
            return String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }.joined()
    }

    /// A version-4-shaped UUID string, uppercase.
    mutating func uuid() -> String {
        let raw = hex(bytes: 16)
        let chars = Array(raw)
        func slice(_ from: Int, _ to: Int) -> String { String(chars[from..<to]) }
        return "\(slice(0, 8))-\(slice(8, 12))-4\(slice(13, 16))-A\(slice(17, 20))-\(slice(20, 32))"
    }

    /// Uppercase alphanumerics, like hardware serial numbers.
    mutating func serial(length: Int) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        return String((0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(next() % UInt64(options.count))] }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
