namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// What the platform's capabilities lose when Redis is served by Garnet 2.2.12 (measured by running the coordinator,
/// lock and cache integration suites against it: docs/operations.md, "Garnet").
/// </summary>
internal static class GarnetLimitations
{
    /// <summary>One line for the log and the dashboard.</summary>
    public const string Summary =
        "key/value and locks pass their integration suites; the cache (ICacheManager, /v1/cache, IDistributedCache) "
        + "does not work: its invalidation log needs streams (XADD), so cache writes fail with an error and the services' "
        + "memory level is turned off (Coordination:Cache:MemoryTimeToLive=0) so no node serves a value another replaced; "
        + "LockOptions.ReplicasToAcknowledge above 0 fails (no WAIT); under heavy load Garnet stalls for seconds, which "
        + "the services see as an unanswering Redis (timeouts, circuit, the rate limiter's local fallback); "
        + "see docs/operations.md, \"Garnet\"";
}
