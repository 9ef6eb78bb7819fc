import Crypto
import Foundation

/// One file of the admin page: its URL path, MIME type, strong ETag and bytes.
public struct WebAsset: Sendable, Equatable {
    /// The URL path it is served at (`/index.html`, `/assets/js/main.js`).
    public let path: String
    public let contentType: String
    /// A strong ETag, quotes included: the first 128 bits of the SHA-256 of ``bytes``, in hex.
    public let etag: String
    public let bytes: [UInt8]

    /// A text file as `.ci/embed-web.py` writes it (a raw string literal).
    init(path: String, contentType: String, etag: String, text: String) {
        self.init(path: path, contentType: contentType, etag: etag, bytes: Array(text.utf8))
    }

    /// A file that is not UTF-8 text (or has CR line ends), as base64.
    init(path: String, contentType: String, etag: String, base64: String) {
        self.init(path: path, contentType: contentType, etag: etag, bytes: Array(Data(base64Encoded: base64) ?? Data()))
    }

    public init(path: String, contentType: String, etag: String, bytes: [UInt8]) {
        self.path = path
        self.contentType = contentType
        self.etag = etag
        self.bytes = bytes
    }

    /// The asset for `bytes` read at `path`, with its ETag computed (the development `--web-dir` mode).
    public init?(path: String, bytes: [UInt8]) {
        guard let type = WebAssets.contentType(forPath: path) else { return nil }
        self.init(path: path, contentType: type, etag: WebAssets.etag(for: bytes), bytes: bytes)
    }
}

/// Where the admin page comes from: the copy built into the binary, or a directory (`serve
/// --web-dir`, for working on the page without rebuilding).
public enum WebAssets: Sendable {
    case embeddedFiles
    case directory(URL)

    /// The URL path of the page itself, also answered for `/` and every deep link.
    public static let indexPath = "/index.html"

    /// Whether a path relative to `Web/` is part of the served page: `index.html` and everything
    /// under `assets/`, never dotfiles; README, tests and screenshots stay out. `.ci/embed-web.py`
    /// applies the same rule.
    public static func isServed(relativePath: String) -> Bool {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        if parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) { return false }
        return relativePath == "index.html" || (parts.count > 1 && parts[0] == "assets")
    }

    /// MIME type by file extension; `nil` for types the page does not use (they are not served).
    /// `.ci/embed-web.py` has the same table.
    public static func contentType(forPath path: String) -> String? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return nil
        }
    }

    /// `"<first 32 hex digits of SHA-256>"`, the strong ETag of a file.
    public static func etag(for bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        return "\"" + digest.prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// The embedded files by URL path.
    static let embeddedByPath: [String: WebAsset] = Dictionary(embedded.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })

    /// The asset at URL path `path` (`/assets/app.css`), or `nil`. Blocking in directory mode (it
    /// reads the file): call it off the cooperative pool.
    public func asset(at path: String) -> WebAsset? {
        switch self {
        case .embeddedFiles:
            return Self.embeddedByPath[path]
        case .directory(let root):
            guard let relative = Self.safeRelativePath(path) else { return nil }
            let url = root.appendingPathComponent(relative)
            // Only regular files inside the directory: no symlink may lead out of it.
            guard let resolved = try? url.resolvingSymlinksInPath(), resolved.path.hasPrefix(root.resolvingSymlinksInPath().path + "/"),
                let values = try? resolved.resourceValues(forKeys: [.isRegularFileKey]), values.isRegularFile == true,
                let data = FileManager.default.contents(atPath: resolved.path)
            else { return nil }
            return WebAsset(path: path, bytes: Array(data))
        }
    }

    /// `/assets/x.js` → `assets/x.js` when it is a served path; `nil` for anything with `..`,
    /// percent escapes, backslashes or NUL, so a request can never name a file outside `Web/`.
    static func safeRelativePath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.contains(".."), !path.contains("%"), !path.contains("\\"), !path.contains("\0") else { return nil }
        let relative = String(path.dropFirst())
        return isServed(relativePath: relative) ? relative : nil
    }

    /// Checks a `--web-dir` directory at start: it must hold `index.html`.
    public static func validateDirectory(_ path: String) throws(ConfigurationError) -> URL {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError("--web-dir \(path): not a directory")
        }
        guard FileManager.default.isReadableFile(atPath: url.appendingPathComponent("index.html").path) else {
            throw ConfigurationError("--web-dir \(path): no readable index.html in it (point it at the repository's Web/ directory)")
        }
        return url
    }
}
