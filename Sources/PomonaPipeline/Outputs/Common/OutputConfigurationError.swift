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

    /// A decoding failure of an output configuration as the operator should read it
    /// (`outputs[1].tls.ca_file: unknown key`). Decoding throws `DecodingError`s whose coding path
    /// names the key, so a loader that already renders `DecodingError`s needs nothing else.
    public static func unwrap(_ error: any Error) -> OutputConfigurationError? {
        var current: (any Error)? = error
        for _ in 0..<8 {
            guard let candidate = current else { return nil }
            if let found = candidate as? OutputConfigurationError { return found }
            guard let decoding = candidate as? DecodingError else { return nil }
            switch decoding {
            case .dataCorrupted(let context) where context.underlyingError != nil:
                current = context.underlyingError
            default:
                return ConfigReader.translate(decoding)
            }
        }
        return nil
    }
}
