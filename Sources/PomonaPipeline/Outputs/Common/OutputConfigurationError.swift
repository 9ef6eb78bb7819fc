/// A bad output setting, found while decoding the pipeline file or validating it at start-up,
/// naming the offending key so the operator can fix it without guessing.
public struct OutputConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output's configured name, when known (validation errors); `nil` while decoding.
    public var output: String?
    /// The key path, e.g. `outputs[1].tls.ca_file` while decoding or `tls.ca_file` in validation.
    public var key: String
    /// What is wrong, for a person.
    public var message: String

    public init(output: String? = nil, key: String, _ message: String) {
        self.output = output
        self.key = key
        self.message = message
    }

    public var description: String {
        if let output { return "output \"\(output)\": \(key): \(message)" }
        return "\(key): \(message)"
    }

    /// The output error inside whatever a decoder wrapped it in: Yams' `YAMLDecoder` reports an
    /// error thrown by `init(from:)` as `DecodingError.dataCorrupted` with it as the underlying
    /// error. A configuration loader should call this to show the operator the key path.
    public static func unwrap(_ error: any Error) -> OutputConfigurationError? {
        var current: (any Error)? = error
        for _ in 0..<8 {
            guard let candidate = current else { return nil }
            if let found = candidate as? OutputConfigurationError { return found }
            switch candidate as? DecodingError {
            case .dataCorrupted(let context)?, .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .keyNotFound(_, let context)?:
                current = context.underlyingError
            default:
                current = nil
            }
        }
        return nil
    }
}
