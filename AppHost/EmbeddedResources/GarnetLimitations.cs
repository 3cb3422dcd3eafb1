namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// What the platform's capabilities lose when Redis is served by Garnet 2.2.12 (measured by running the coordinator,
/// lock and cache integration suites against it: docs/operations.md, "Garnet").
/// </summary>
internal static class GarnetLimitations
{
    /// <summary>One line for the log and the dashboard.</summary>
    public const string Summary =
        "no streams (the cache's cross-node invalidation log: enable Cache:InvalidationLog only on Redis), "
        + "no WAIT (locks' replica acknowledgement), no keyspace notifications or client tracking; "
        + "see docs/operations.md, \"Garnet\"";
}
