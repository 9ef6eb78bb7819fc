import Crypto
import Foundation
import Hummingbird

/// Browser sessions: the session token in an `HttpOnly` cookie the page's scripts cannot read, and
/// CSRF protection for every state-changing request that cookie authenticates.
///
/// - **Opt-in at login/setup**: a request with `X-Pomona-Session: cookie` gets the cookies and a
///   body *without* the token (so no script ever holds it). Browsers cannot add that header to a
///   cross-site form or to a cross-origin fetch without a CORS preflight (which this server never
///   grants), so a cross-site page cannot log a victim's browser into the attacker's account
///   (login CSRF). The CLI keeps getting the token in the body and no cookie.
/// - **Cookies**: `__Host-pomona_session` (`HttpOnly; Secure; SameSite=Strict; Path=/`) holds the
///   token; `__Host-pomona_csrf` (readable, same flags otherwise) holds the CSRF token. The
///   `__Host-` prefix makes browsers refuse these cookies unless they come from this exact origin
///   over TLS with `Path=/` and no `Domain`, so a sibling subdomain cannot plant or overwrite them.
///   No `Max-Age`: they end with the browser; the server-side session (sliding
///   `session_lifetime_hours`) ends them sooner.
/// - **CSRF (double submit, bound to the session)**: the CSRF token is HMAC-SHA256 of a fixed label
///   keyed with the session token, so it is worthless without that session and cannot be forged
///   from outside; the page copies it from the cookie into `X-Pomona-CSRF` on POST/PATCH/PUT/DELETE.
///   SameSite=Strict alone would already keep cross-site requests from carrying the cookie; the
///   token also covers same-site attackers (another service on a sibling host name).
/// - **Fetch metadata**: a cookie-authenticated request whose `Sec-Fetch-Site` is `cross-site` or
///   `same-site` is refused, reads included; so is a login/setup asking for a cookie.
/// - Bearer tokens are unchanged and win when both are present: a browser never attaches them by
///   itself, so they need no CSRF check.
public enum BrowserSession {
    public static let sessionCookie = "__Host-pomona_session"
    public static let csrfCookie = "__Host-pomona_csrf"
    public static let csrfHeader = HTTPFields.Element.Name("X-Pomona-CSRF")!
    /// `X-Pomona-Session: cookie` on login/setup asks for a cookie session.
    public static let sessionModeHeader = HTTPFields.Element.Name("X-Pomona-Session")!
    static let fetchSiteHeader = HTTPFields.Element.Name("Sec-Fetch-Site")!

    /// The CSRF token of a session: base64url(HMAC-SHA256(key: token, "pomona csrf v1")).
    public static func csrfToken(forSessionToken token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("pomona csrf v1".utf8), using: SymmetricKey(data: Array(token.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Cookie name → value from every `Cookie` header (the first occurrence of a name wins, as
    /// browsers send the most specific cookie first).
    public static func cookies(_ headers: HTTPFields) -> [String: String] {
        var result: [String: String] = [:]
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
                var value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                if !name.isEmpty && result[name] == nil { result[name] = value }
            }
        }
        return result
    }

    /// The session token from the cookie, if one of a plausible size is there.
    public static func sessionToken(_ headers: HTTPFields) -> String? {
        guard let token = cookies(headers)[sessionCookie], !token.isEmpty, token.count <= 512 else { return nil }
        return token
    }

    /// Whether the request asked login/setup for a cookie session.
    public static func wantsCookie(_ headers: HTTPFields) -> Bool {
        headers[sessionModeHeader]?.trimmingCharacters(in: .whitespaces).lowercased() == "cookie"
    }

    /// `Sec-Fetch-Site` allows a cookie-authenticated request: absent (not a browser, or an old
    /// one: CSRF token and SameSite still apply), `same-origin`, or `none` (typed or bookmarked).
    public static func fetchSiteAllowed(_ headers: HTTPFields) -> Bool {
        guard let site = headers[fetchSiteHeader]?.lowercased() else { return true }
        return site == "same-origin" || site == "none"
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    /// Why a cookie-authenticated request is refused (403), or `nil` when it may go on.
    public static func refusal(method: HTTPRequest.Method, headers: HTTPFields, sessionToken: String) -> String? {
        if !fetchSiteAllowed(headers) { return "cross-site request refused (Sec-Fetch-Site: \(headers[fetchSiteHeader] ?? ""))" }
        if isSafe(method) { return nil }
        guard let sent = headers[csrfHeader], !sent.isEmpty else {
            return "missing X-Pomona-CSRF header: send the value of the \(csrfCookie) cookie with every change"
        }
        let expected = csrfToken(forSessionToken: sessionToken)
        return constantTimeEqual(Array(sent.utf8), Array(expected.utf8)) ? nil : "X-Pomona-CSRF does not match this session"
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// The two `Set-Cookie` values that start a browser session.
    public static func setCookies(sessionToken token: String) -> [String] {
        [
            "\(sessionCookie)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict",
            "\(csrfCookie)=\(csrfToken(forSessionToken: token)); Path=/; Secure; SameSite=Strict",
        ]
    }

    /// The two `Set-Cookie` values that end it (logout, an expired or unknown session).
    public static let clearCookies = [
        "\(sessionCookie)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
        "\(csrfCookie)=; Path=/; Secure; SameSite=Strict; Max-Age=0",
    ]

    static func append(_ values: [String], to headers: inout HTTPFields) {
        for value in values { headers.append(HTTPFields.Element(name: .setCookie, value: value)) }
    }
}
