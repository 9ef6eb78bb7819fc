import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import PomonaServer

/// The admin page's embedding and serving: the generated source matches `Web/`, and the admin
/// listener's middleware answers with the right types, headers, ETags and deep-link fallback.
@Suite struct WebAssetsTests {
    static let webDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Web")

    /// Every served file under Web/, as URL paths.
    static func servedFilesOnDisk() throws -> [String] {
        let root = webDirectory.standardizedFileURL.path
        var paths: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue && WebAssets.isServed(relativePath: relative) { paths.append("/" + relative) }
        }
        return paths.sorted()
    }

    @Test func theEmbeddedCopyIsUpToDateWithWebDirectory() throws {
        let regenerate = "out of date with Web/: run python3 .ci/embed-web.py and commit the result"
        let onDisk = try Self.servedFilesOnDisk()
        #expect(onDisk.contains("/index.html"))
        #expect(WebAssets.embedded.map(\.path).sorted() == onDisk, "the embedded file list is \(regenerate)")
        for asset in WebAssets.embedded {
            let data = FileManager.default.contents(atPath: Self.webDirectory.path + asset.path)
            let same = data.map(Array.init) == asset.bytes  // a Bool, so a failure names the file instead of printing its bytes
            #expect(same, "\(asset.path) is \(regenerate)")
            #expect(asset.etag == WebAssets.etag(for: asset.bytes), "\(asset.path): ETag does not match its bytes")
            #expect(asset.contentType == WebAssets.contentType(forPath: asset.path), "\(asset.path): MIME type")
        }
    }

    @Test func servedPathsAndMIMETypes() {
        #expect(WebAssets.isServed(relativePath: "index.html"))
        #expect(WebAssets.isServed(relativePath: "assets/js/main.js"))
        for hidden in ["README.md", "tests/api.test.mjs", "screenshots/hosts.png", "assets/.env", ".git/config", "assets/", "assets//x.js"] {
            #expect(!WebAssets.isServed(relativePath: hidden), "\(hidden)")
        }
        #expect(WebAssets.contentType(forPath: "/assets/js/main.js") == "text/javascript; charset=utf-8")
        #expect(WebAssets.contentType(forPath: "/assets/css/app.css") == "text/css; charset=utf-8")
        #expect(WebAssets.contentType(forPath: "/index.html") == "text/html; charset=utf-8")
        #expect(WebAssets.contentType(forPath: "/assets/favicon.svg") == "image/svg+xml")
        #expect(WebAssets.contentType(forPath: "/assets/x.exe") == nil)
        #expect(WebAssets.contentType(forPath: "/assets.d/noext") == nil)
    }

    @Test func pathsAreClassified() {
        #expect(WebPageRoute.of("/api/v1/fleet/hosts") == .api)
        #expect(WebPageRoute.of("/api") == .api)
        #expect(WebPageRoute.of("/") == .index)
        #expect(WebPageRoute.of("/index.html") == .index)
        #expect(WebPageRoute.of("/assets/js/main.js") == .asset)
        #expect(WebPageRoute.of("/hosts/42") == .maybePage(looksLikeFile: false))
        #expect(WebPageRoute.of("/favicon.ico") == .maybePage(looksLikeFile: true))
        #expect(WebPageRoute.of("/apiary") == .maybePage(looksLikeFile: false))
    }

    @Test func ifNoneMatchFollowsRFC9110() {
        let etag = "\"abc\""
        #expect(WebPageHeaders.matches(ifNoneMatch: ["\"abc\""], etag: etag))
        #expect(WebPageHeaders.matches(ifNoneMatch: ["W/\"abc\""], etag: etag))
        #expect(WebPageHeaders.matches(ifNoneMatch: ["\"x\", \"abc\""], etag: etag))
        #expect(WebPageHeaders.matches(ifNoneMatch: ["\"x\"", "\"abc\""], etag: etag))
        #expect(WebPageHeaders.matches(ifNoneMatch: ["*"], etag: etag))
        #expect(!WebPageHeaders.matches(ifNoneMatch: ["\"abcd\""], etag: etag))
        #expect(!WebPageHeaders.matches(ifNoneMatch: [], etag: etag))
    }

    /// A router like the admin listener's: the page middleware first, an API route, `/healthz`.
    static func application(_ assets: WebAssets) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: WebPageMiddleware(assets: assets))
        router.get("/api/v1/fleet/hosts") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}"))) }
        router.get("/healthz") { _, _ in "ok" }
        return Application(router: router)
    }

    static let index = WebAssets.embeddedByPath["/index.html"]!

    static func expectPageHeaders(_ headers: HTTPFields, _ what: String) {
        #expect(headers[.contentSecurityPolicy] == WebPageHeaders.contentSecurityPolicy, "\(what): CSP")
        #expect(headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "\(what)")
        #expect(headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(what)")
        #expect(headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false, "\(what)")
        #expect(headers[.xContentTypeOptions] == "nosniff", "\(what): nosniff")
        #expect(headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(what): Referrer-Policy")
    }

    @Test func thePageAndItsFilesComeWithTypesAndSecurityHeaders() async throws {
        try await Self.application(.embeddedFiles).test(.router) { client in
            for path in ["/", "/index.html", "/hosts/42?status=online", "/live/campaigns/7", "/hosts"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                    #expect(response.headers[.eTag] == Self.index.etag, "\(path)")
                    #expect(response.headers[.cacheControl] == "no-cache", "\(path)")
                    let isIndex = Array(response.body.readableBytesView) == Self.index.bytes
                    #expect(isIndex, "\(path): not index.html")
                    Self.expectPageHeaders(response.headers, path)
                }
            }
            for asset in WebAssets.embedded {
                try await client.execute(uri: asset.path, method: .get) { response in
                    #expect(response.status == .ok, "\(asset.path)")
                    #expect(response.headers[.contentType] == asset.contentType, "\(asset.path)")
                    let same = Array(response.body.readableBytesView) == asset.bytes
                    #expect(same, "\(asset.path): not its bytes")
                    Self.expectPageHeaders(response.headers, asset.path)
                }
            }
            try await client.execute(uri: "/assets/js/main.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
        }
    }

    @Test func aMatchingETagAnswers304WithoutABody() async throws {
        let main = WebAssets.embeddedByPath["/assets/js/main.js"]!
        try await Self.application(.embeddedFiles).test(.router) { client in
            for (value, expected) in [
                (main.etag, HTTPResponse.Status.notModified), ("W/" + main.etag, .notModified), ("\"other\", " + main.etag, .notModified),
                ("*", .notModified), ("\"stale\"", .ok),
            ] {
                try await client.execute(uri: "/assets/js/main.js", method: .get, headers: [.ifNoneMatch: value]) { response in
                    #expect(response.status == expected, "If-None-Match: \(value)")
                    #expect(response.headers[.eTag] == main.etag)
                    if expected == .notModified { #expect(response.body.readableBytes == 0, "304 with a body") }
                }
            }
            // A deep link revalidates against index.html's tag.
            try await client.execute(uri: "/hosts/9", method: .get, headers: [.ifNoneMatch: Self.index.etag]) { response in
                #expect(response.status == .notModified)
            }
        }
    }

    @Test func headAnswersTheHeadersAlone() async throws {
        let css = WebAssets.embeddedByPath["/assets/css/app.css"]!
        try await Self.application(.embeddedFiles).test(.router) { client in
            try await client.execute(uri: css.path, method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == String(css.bytes.count))
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func apiPathsAndOtherRoutesAreLeftAlone() async throws {
        try await Self.application(.embeddedFiles).test(.router) { client in
            try await client.execute(uri: "/api/v1/fleet/hosts", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{}")
                #expect(response.headers[.contentSecurityPolicy] == nil)
            }
            // An unknown API path stays a 404, never the page.
            try await client.execute(uri: "/api/v1/fleet/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] != "text/html; charset=utf-8")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(String(buffer: response.body) == "ok")
            }
            // Only GET and HEAD fall back to the page.
            try await client.execute(uri: "/hosts/1", method: .post) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentSecurityPolicy] == nil)
            }
            for missing in ["/assets/js/missing.js", "/favicon.ico", "/assets/../README.md"] {
                try await client.execute(uri: missing, method: .get) { response in
                    #expect(response.status == .notFound, "\(missing)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(missing)")
                }
            }
        }
    }

    @Test func aWebDirectoryIsServedFromDiskWithoutLeavingIt() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-web-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("assets"), withIntermediateDirectories: true)
        try Data("<!doctype html><title>dev</title>".utf8).write(to: root.appendingPathComponent("index.html"))
        try Data("export const x = 1;\n".utf8).write(to: root.appendingPathComponent("assets/a.js"))
        try Data("secret".utf8).write(to: root.appendingPathComponent("assets/.env"))
        try Data("readme".utf8).write(to: root.appendingPathComponent("README.md"))
        let outside = root.deletingLastPathComponent().appendingPathComponent("pomona-outside-\(UUID().uuidString).js")
        try Data("outside".utf8).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("assets/link.js"), withDestinationURL: outside)

        await #expect(throws: ConfigurationError.self) { try WebAssets.validateDirectory(root.appendingPathComponent("assets").path) }
        let assets = WebAssets.directory(try WebAssets.validateDirectory(root.path))
        try await Self.application(assets).test(.router) { client in
            try await client.execute(uri: "/assets/a.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(response.headers[.eTag] == WebAssets.etag(for: Array("export const x = 1;\n".utf8)))
                #expect(String(buffer: response.body) == "export const x = 1;\n")
            }
            try await client.execute(uri: "/hosts/3", method: .get) { response in
                #expect(String(buffer: response.body) == "<!doctype html><title>dev</title>")
            }
            for refused in ["/assets/.env", "/assets/link.js", "/assets/..%2fREADME.md", "/assets/%2e%2e/README.md", "/README.md"] {
                try await client.execute(uri: refused, method: .get) { response in
                    #expect(response.status == .notFound, "\(refused) was served")
                }
            }
        }
    }
}
