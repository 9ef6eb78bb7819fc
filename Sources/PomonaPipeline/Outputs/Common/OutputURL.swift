import Foundation

/// An `http://` or `https://` receiver URL, checked at start-up.
struct OutputURL: Sendable, Equatable {
    let text: String
    let isHTTPS: Bool
    let host: String
    /// The path without a trailing slash ("" for the root).
    let path: String

    init(_ text: String, output: String, key: String = "url") throws(OutputConfigurationError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            throw OutputConfigurationError(output: output, key: key, "\"\(text)\" is not an http:// or https:// URL with a host")
        }
        if url.query != nil || url.fragment != nil {
            throw OutputConfigurationError(output: output, key: key, "must not carry a query or fragment")
        }
        self.isHTTPS = scheme == "https"
        self.host = host
        var path = url.path
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        self.text = base
    }

    /// The URL with `suffix` appended to its path.
    func appending(_ suffix: String) -> String { text + suffix }
}
