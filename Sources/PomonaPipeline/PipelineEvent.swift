import NIOCore

/// One event on its way to the SIEM, after the stages have run: the final JSON object bytes plus
/// the few fields outputs need for their envelopes (HEC `time`/`host`/`sourcetype`, ES `_id`).
///
/// The body is kept as bytes from ingest to output; outputs must not decode and re-encode it.
public struct PipelineEvent: Sendable {
    /// e.g. `osquery:result`, `osquery:status`, `osquery:live`, `collector:<source>`,
    /// `pomona:throttle_summary`.
    public var sourcetype: String
    /// Event time, seconds since 1970 (the row's `unixTime`/`calendarTime`, else receive time).
    public var time: Double
    /// The host's name as the SIEM should show it (HEC `host`, syslog HOSTNAME); may be empty.
    public var host: String
    /// Stable across restarts and retries: derived from the spool position (segment, offset,
    /// index within the record). ES uses it as `_id` with `create`, so a resend cannot duplicate.
    public var id: String
    /// The event as one JSON object, no trailing newline.
    public var body: ByteBuffer

    public init(sourcetype: String, time: Double, host: String, id: String, body: ByteBuffer) {
        self.sourcetype = sourcetype
        self.time = time
        self.host = host
        self.id = id
        self.body = body
    }
}
