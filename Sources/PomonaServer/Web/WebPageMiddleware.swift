import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PomonaAdminAPI
import PomonaCore

/// Serves the admin page on the admin listener: `/` and `/index.html`, the files under
/// `/assets/`, and index.html again for every other GET that no route answers (deep links such as
/// `/hosts/42?status=online`, so a reload lands on the page, which routes it). `/api/…` is never
/// touched: an unknown API path keeps its JSON 404.
///
/// Every answer carries the page's security headers (``WebPageHeaders``), a strong ETag and
/// `Cache-Control: no-cache`, so browsers revalidate and get `304 Not Modified` while the binary
/// is the same.
///
/// Add it to the router before the API's middleware: it must see the router's 404 for a deep link
/// to answer it with the page.
struct WebPageMiddleware<Context: RequestContext>: RouterMiddleware {
    let assets: WebAssets

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        let path = request.uri.path
        switch WebPageRoute.of(path) {
        case .api:
            return try await next(request, context)
        case .index:
            return try await serve(WebAssets.indexPath, request)
        case .asset:
            return try await serve(path, request)
        case .maybePage(let looksLikeFile):
            let response: Response
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError where error.status == .notFound {
                return looksLikeFile ? notFound() : try await serve(WebAssets.indexPath, request)
            }
            guard response.status == .notFound else { return response }
            return looksLikeFile ? notFound() : try await serve(WebAssets.indexPath, request)
        }
    }

    private func serve(_ path: String, _ request: Request) async throws -> Response {
        let assets = self.assets
        let asset: WebAsset?
        switch assets {
        case .embeddedFiles: asset = assets.asset(at: path)
        case .directory: asset = try await offload { assets.asset(at: path) }  // reads the file: off the cooperative pool
        }
        guard let asset else { return notFound() }
        var headers = WebPageHeaders.fields(contentType: asset.contentType)
        headers[.eTag] = asset.etag
        if WebPageHeaders.matches(ifNoneMatch: request.headers[values: .ifNoneMatch], etag: asset.etag) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.bytes.count)
        if request.method == .head { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    private func notFound() -> Response {
        let text = "Not found\n"
        var headers = WebPageHeaders.fields(contentType: "text/plain; charset=utf-8")
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: .notFound, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// How a GET path of the admin listener is answered (pure, tested without a server).
enum WebPageRoute: Equatable {
    /// `/api/…`: the API's, untouched.
    case api
    /// `/` or `/index.html`: the page.
    case index
    /// `/assets/…`: a file of the page, or 404.
    case asset
    /// Anything else: a route's if one answers, otherwise the page (a deep link), or 404 when the
    /// last segment looks like a file name (`/favicon.ico`), which no page path does.
    case maybePage(looksLikeFile: Bool)

    static func of(_ path: String) -> WebPageRoute {
        if path == "/api" || path.hasPrefix("/api/") { return .api }
        if path == "/" || path == WebAssets.indexPath { return .index }
        if path.hasPrefix("/assets/") { return .asset }
        let last = path.split(separator: "/").last ?? ""
        return .maybePage(looksLikeFile: last.contains("."))
    }
}

/// The page's response headers and conditional-request matching.
enum WebPageHeaders {
    /// No inline script or style, nothing from other origins, no framing (clickjacking), no
    /// `<base>` rewriting, forms only to this origin, no plugins.
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

    static func fields(contentType: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        // For browsers that predate CSP's frame-ancestors.
        headers[.xFrameOptions] = "DENY"
        headers[.crossOriginOpenerPolicy] = "same-origin"
        return headers
    }

    /// RFC 9110 `If-None-Match`: `*`, or a list of (possibly weak) entity tags, weak comparison.
    static func matches(ifNoneMatch values: [String], etag: String) -> Bool {
        let opaque = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        for value in values {
            for candidate in value.split(separator: ",") {
                var tag = candidate.trimmingCharacters(in: .whitespaces)
                if tag == "*" { return true }
                if tag.hasPrefix("W/") { tag.removeFirst(2) }
                if tag == opaque { return true }
            }
        }
        return false
    }
}

extension HTTPField.Name {
    // Names HTTPTypes does not define; the literals are valid field names, so the force unwrap cannot fail.
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
}
