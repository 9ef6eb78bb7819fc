/// What the delivery loop asks of an output's stages: one outcome per spooled event, and the
/// throttle summaries that are due. ``OutputProcessor`` (routes, filter, transform, throttle,
/// enrich) is the real one; ``PassThroughProcessing`` forwards everything unchanged.
public protocol DeliveryProcessing: Sendable {
    func process(_ event: SpooledEvent, now: Double) -> StageOutcome
    /// Throttle summaries for windows that ended by `now`.
    func tick(now: Double) -> [PipelineEvent]
    /// Summaries of every open window (at shutdown).
    func flush() -> [PipelineEvent]
}

extension OutputProcessor: DeliveryProcessing {}

/// No routes configured: every event goes to every output as it was received.
public struct PassThroughProcessing: DeliveryProcessing {
    public init() {}

    public func process(_ event: SpooledEvent, now: Double) -> StageOutcome {
        var draft = EventDraft(body: event.body, sourcetype: event.sourcetype, input: event.input)
        let time = EventTime.ofReadingOnlyTime(&draft) ?? event.receivedAt
        return .forward([PipelineEvent(sourcetype: event.sourcetype, time: time, host: "", id: event.id, body: event.body)])
    }

    public func tick(now: Double) -> [PipelineEvent] { [] }
    public func flush() -> [PipelineEvent] { [] }
}
