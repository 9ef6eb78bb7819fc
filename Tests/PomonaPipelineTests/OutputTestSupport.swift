import Foundation
import NIOCore
@testable import PomonaPipeline

/// Events and helpers shared by the output tests.
enum OutputTestEvents {
    /// `count` osquery result rows with distinct ids and a non-ASCII, escaped value so byte-exact
    /// forwarding is visible.
    static func results(_ count: Int, sourcetype: String = "osquery:result", start: Int = 0) -> [PipelineEvent] {
        (start..<(start + count)).map { i in
            event(#"{"name":"pack/it/users","hostIdentifier":"mac-\#(i)","columns":{"uid":"\#(i)","note":"caf\u00e9 \"q\" é"},"action":"added"}"#,
                  sourcetype: sourcetype, id: "ev-\(i)", host: "mac-\(i)", time: 1_747_571_398.123 + Double(i))
        }
    }

    static func event(_ json: String, sourcetype: String = "osquery:result", id: String = "ev", host: String = "mac-01",
                      time: Double = 1_747_571_398.123) -> PipelineEvent {
        PipelineEvent(sourcetype: sourcetype, time: time, host: host, id: id, body: ByteBuffer(string: json))
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-output-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
