using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Bounds on the state one tenant can create in Redis, so that it cannot fill Redis for the others (section <c>Coordination:Quotas</c>).</summary>
public sealed class QuotaOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Quotas";

    /// <summary>
    /// How many key/value keys one tenant may have (<see cref="IRedisCoordinator.SetAsync{T}(string, T, TimeSpan?, CancellationToken)"/>, <c>PUT /v1/kv</c>);
    /// a write that would create one more throws <see cref="CoordinationQuotaExceededException"/> (overwriting a key
    /// never does). 0 turns the quota off: writes are then a plain <c>SET</c>, one round trip instead of two. The
    /// library leaves it off, since a quota costs every write a second round trip; a host that serves tenants it does
    /// not trust turns it on (the HTTP API's <c>appsettings.json</c> sets 100,000).
    /// </summary>
    /// <value>The default value is 0 (no quota).</value>
    [Range(0, int.MaxValue)]
    public int MaxKeysPerTenant { get; set; }

    /// <summary>
    /// How many lock and semaphore names one tenant may create within the life a new fencing counter starts with (62 days): an
    /// acquisition that creates a name's counter (a name never locked, or whose counter expired) counts the name, and
    /// one past the quota is undone and throws <see cref="CoordinationQuotaExceededException"/> (<c>lock-names</c>).
    /// Acquiring a name whose counter exists never counts. Each new name leaves a counter in Redis for 31 to 62 days
    /// after its last acquisition, so without a quota a tenant creating 10 names a second keeps tens of millions of counters.
    /// 0 turns the quota off: acquisitions then never make a second call. The library leaves it off; the HTTP API's
    /// <c>appsettings.json</c> sets 100,000.
    /// </summary>
    /// <value>The default value is 0 (no quota).</value>
    [Range(0, int.MaxValue)]
    public int MaxLockNamesPerTenant { get; set; }

    /// <summary>
    /// How many sessions one tenant may have (<see cref="ISessionManager.CreateAsync"/>, <c>POST /v1/sessions</c>); a
    /// creation past it throws <see cref="CoordinationQuotaExceededException"/> (<c>sessions</c>) and creates nothing.
    /// Ending a session (delete, revoke, the per-user cap) frees its place at once; one that ended idle frees it within
    /// two session cleanups. 0 turns the quota off: no call then costs more than without it. The library leaves it
    /// off; the HTTP API's <c>appsettings.json</c> sets 1,000,000.
    /// </summary>
    /// <value>The default value is 0 (no quota).</value>
    [Range(0, int.MaxValue)]
    public int MaxSessionsPerTenant { get; set; }
}
