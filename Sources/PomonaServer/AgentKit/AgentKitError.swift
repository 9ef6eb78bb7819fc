/// An error raised while writing an agent kit.
public struct AgentKitError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure happened.
    public struct Code: Hashable, Sendable {
        private enum Base: Hashable, Sendable { case invalidArgument, unwritable }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A host, port, prefix, secret or certificate argument is unusable.
        public static let invalidArgument = Code(.invalidArgument)
        /// A kit file could not be written.
        public static let unwritable = Code(.unwritable)
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation.
    public let message: String

    public var description: String { message }

    static func invalidArgument(_ message: String) -> Self {
        Self(code: .invalidArgument, message: message)
    }

    static func unwritable(_ message: String) -> Self {
        Self(code: .unwritable, message: message)
    }
}
