import Foundation

/// Why an archive cannot be written or read.
public struct BackupError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// POSIX ustar archives of regular files, streamed in chunks (a database of many GB is never
/// held in memory). Only what backups need: regular files with relative names; sizes past
/// ustar's 8 GiB use the base-256 size field GNU tar and bsdtar read. `tar tf` lists a backup.
enum TarArchive {
    static let block = 512
    static let chunk = 1 << 20

    /// A ustar header for a regular file.
    static func header(name: String, size: Int64, mode: Int, mtime: Int64) throws(BackupError) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: block)
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 100 else { throw BackupError("archive member name too long: \(name)") }
        func put(_ bytes: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            Array(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1).utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(Int64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        if size < 0o77777777777 {
            put(octal(size, width: 12), at: 124)
        } else {
            // base-256: high bit of the first byte set, the value big-endian in the rest.
            var field = [UInt8](repeating: 0, count: 12)
            var v = size
            for i in stride(from: 11, through: 1, by: -1) {
                field[i] = UInt8(v & 0xff)
                v >>= 8
            }
            field[0] = 0x80
            put(field, at: 124)
        }
        put(octal(mtime, width: 12), at: 136)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        // The checksum is computed with its own field as spaces.
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(String(sum, radix: 8)).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148)
        return header
    }

    struct Member: Equatable {
        var name: String
        var size: Int64
    }

    /// Parses a header block; nil for the zero block that ends an archive.
    static func parse(_ header: [UInt8]) throws(BackupError) -> Member? {
        guard header.count == block else { throw BackupError("archive truncated inside a header") }
        if header.allSatisfy({ $0 == 0 }) { return nil }
        var stored = Array(header[148..<156])
        let storedText = String(decoding: stored.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }, as: UTF8.self)
        stored = [UInt8](repeating: UInt8(ascii: " "), count: 8)
        var copy = header
        copy.replaceSubrange(148..<156, with: stored)
        guard let checksum = Int(storedText, radix: 8), checksum == copy.reduce(0, { $0 + Int($1) }) else {
            throw BackupError("archive header checksum mismatch: not a Pomona backup, or damaged")
        }
        guard header[156] == UInt8(ascii: "0") || header[156] == 0 else {
            throw BackupError("archive holds something other than a regular file (type \(Character(UnicodeScalar(header[156]))))")
        }
        let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
        let size: Int64
        if header[124] & 0x80 != 0 {
            size = header[125..<136].reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        } else {
            let text = String(decoding: header[124..<136].prefix { $0 != 0 && $0 != UInt8(ascii: " ") }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            guard let parsed = Int64(text, radix: 8) else { throw BackupError("archive header has a bad size field") }
            size = parsed
        }
        return Member(name: prefix.isEmpty ? name : prefix + "/" + name, size: size)
    }

    /// Appends a member to `out`, copying `size` bytes of `file` in chunks, passing each chunk
    /// to `observe` (for hashing).
    static func append(name: String, file: URL, mode: Int, to out: FileHandle, observe: (Data) -> Void = { _ in }) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let mtime = Int64((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        try out.write(contentsOf: header(name: name, size: size, mode: mode, mtime: mtime))
        let input = try FileHandle(forReadingFrom: file)
        defer { try? input.close() }
        var copied: Int64 = 0
        while copied < size {
            guard let data = try input.read(upToCount: Int(min(Int64(chunk), size - copied))), !data.isEmpty else {
                throw BackupError("\(file.path) shrank while it was archived")
            }
            observe(data)
            try out.write(contentsOf: data)
            copied += Int64(data.count)
        }
        try out.write(contentsOf: padding(size))
    }

    /// Appends an in-memory member.
    static func append(name: String, data: Data, mode: Int, to out: FileHandle) throws {
        try out.write(contentsOf: header(name: name, size: Int64(data.count), mode: mode, mtime: Int64(Date().timeIntervalSince1970)))
        try out.write(contentsOf: data)
        try out.write(contentsOf: padding(Int64(data.count)))
    }

    /// The end of an archive: two zero blocks.
    static func finish(_ out: FileHandle) throws {
        try out.write(contentsOf: Data(count: 2 * block))
    }

    static func padding(_ size: Int64) -> Data {
        let remainder = Int(size % Int64(block))
        return Data(count: remainder == 0 ? 0 : block - remainder)
    }

    /// Reads one exact-length block, or nil at a clean end of file.
    static func readExactly(_ count: Int, from input: FileHandle) throws -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let data = try input.read(upToCount: count - bytes.count), !data.isEmpty else {
                if bytes.isEmpty { return nil }
                throw BackupError("archive truncated")
            }
            bytes += data
        }
        return bytes
    }
}

extension String {
    /// Left-pads with zeros, for tar's octal fields.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
