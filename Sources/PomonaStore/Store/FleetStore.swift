/// Everything Pomona keeps: the one interface the agent API, the admin API and the server use.
///
/// Grouped by area, each a protocol of its own (``HostStore``, ``HostListStore``, ``QueryStore``,
/// ``LabelStore``, ``PolicyStore``, ``CampaignStore``, ``UserStore``, ``CarveStore``,
/// ``ActivityStore``, ``SpecStore``, ``EnrollSecretStore``, ``StoreMaintenance``). Records,
/// filters and sort keys say nothing about how they are stored: the SQLite ``Datastore`` is one
/// implementation, and another (PostgreSQL, for several nodes) can sit behind the same interface
/// and run the same store tests.
///
/// Contract: every method is `async` and does not block its caller's thread; a change either
/// commits whole or throws. The high-volume writes of check-ins and results do not come through
/// here but through the batching ``StoreWriter``.
public protocol FleetStore:
    HostStore, HostListStore, QueryStore, LabelStore, PolicyStore, CampaignStore, UserStore, CarveStore, ActivityStore, SpecStore,
    EnrollSecretStore, StoreMaintenance
{}

extension Datastore: FleetStore {}
