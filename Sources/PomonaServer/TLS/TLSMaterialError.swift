/// An error raised while creating, loading or using Pomona's TLS material.
///
/// Every error names the file it concerns (when there is one), so an operator can fix the
/// problem without reading source code:
///
/// ```
/// cannot read /var/lib/pomona/tls/ca.key: Permission denied
/// ```
///
/// The ``code`` is an extensible struct rather than an enum, so new cases can be added without
/// breaking exhaustive switches in callers.
public struct TLSMaterialError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure happened.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unreadable, unwritable, malformed, inconsistent, expired, invalidServerName
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A file is missing or could not be read.
        public static let unreadable = Code(.unreadable)
        /// A file or directory could not be created or written.
        public static let unwritable = Code(.unwritable)
        /// A file was read but does not hold the PEM certificate or key expected.
        public static let malformed = Code(.malformed)
        /// The files exist but do not belong together (for example a CA certificate without its key).
        public static let inconsistent = Code(.inconsistent)
        /// The certificate authority has expired or is about to; it cannot be renewed silently.
        public static let expired = Code(.expired)
        /// A requested server name is neither a DNS name nor an IP address.
        public static let invalidServerName = Code(.invalidServerName)

        public var description: String {
            switch base {
            case .unreadable: "unreadable"
            case .unwritable: "unwritable"
            case .malformed: "malformed"
            case .inconsistent: "inconsistent"
            case .expired: "expired"
            case .invalidServerName: "invalidServerName"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// The file or directory concerned, if any.
    public let path: String?
    /// A human-readable explanation, including any underlying system error.
    public let message: String

    /// Where the error was raised (for debugging, not for users).
    public let fileID: String
    /// The line where the error was raised.
    public let line: Int

    init(code: Code, path: String?, message: String, fileID: String, line: Int) {
        self.code = code
        self.path = path
        self.message = message
        self.fileID = fileID
        self.line = line
    }

    public var description: String {
        if let path {
            return "\(message): \(path)"
        }
        return message
    }

    static func unreadable(_ path: String, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(code: .unreadable, path: path, message: "cannot read file (\(reason))", fileID: fileID, line: line)
    }

    static func unwritable(_ path: String, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(code: .unwritable, path: path, message: "cannot write (\(reason))", fileID: fileID, line: line)
    }

    static func malformed(_ path: String, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(code: .malformed, path: path, message: "malformed TLS file (\(reason))", fileID: fileID, line: line)
    }

    static func inconsistent(_ path: String?, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(code: .inconsistent, path: path, message: reason, fileID: fileID, line: line)
    }

    static func expired(_ path: String, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(code: .expired, path: path, message: reason, fileID: fileID, line: line)
    }

    static func invalidServerName(_ name: String, fileID: String = #fileID, line: Int = #line) -> Self {
        Self(
            code: .invalidServerName,
            path: nil,
            message: "server name \"\(name)\" is neither a DNS name nor an IP address",
            fileID: fileID,
            line: line
        )
    }
}
