#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `path:` of a file output: `{sourcetype}` is the only placeholder, so
/// `/var/lib/pomona/logs/{sourcetype}.log` writes `osquery_result.log` and `osquery_status.log`
/// where today's log files are.
enum FilePathTemplate {
    static let placeholder = "{sourcetype}"

    /// `osquery:result` → `osquery_result`: letters, digits, `.`, `-`, `_` kept, the rest `_`, so a
    /// sourcetype can never leave the directory.
    static func fileComponent(_ sourcetype: String) -> String {
        var component = ""
        for scalar in sourcetype.unicodeScalars {
            let keep = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "." || scalar == "-" || scalar == "_")
            component.unicodeScalars.append(keep ? scalar : "_")
        }
        if component.isEmpty || component.allSatisfy({ $0 == "." }) { return "_" }
        return component
    }

    static func resolve(_ template: String, sourcetype: String) -> String {
        template.replacingOccurrences(of: placeholder, with: fileComponent(sourcetype))
    }

    /// Checks at start-up that the template's directory exists (creating it) and is writable.
    static func checkWritable(_ template: String, output: String) throws(OutputConfigurationError) {
        let withoutPlaceholder = template.replacingOccurrences(of: placeholder, with: "")
        if withoutPlaceholder.contains("{") || withoutPlaceholder.contains("}") {
            throw OutputConfigurationError(output: output, key: "path", "the only placeholder is {sourcetype}")
        }
        if template.hasSuffix("/") { throw OutputConfigurationError(output: output, key: "path", "names a directory, not a file") }
        // The directory part before any placeholder must exist or be creatable, and be writable.
        var directory = (template as NSString).deletingLastPathComponent
        if let range = directory.range(of: placeholder) {
            directory = (String(directory[..<range.lowerBound]) as NSString).deletingLastPathComponent
        }
        if directory.isEmpty { directory = "." }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputConfigurationError(output: output, key: "path", "cannot create directory \(directory): \(error.localizedDescription)")
        }
        if access(directory, W_OK) != 0 {
            throw OutputConfigurationError(output: output, key: "path", "directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
    }
}
