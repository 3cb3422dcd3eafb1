using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Bounds on the state one tenant can create in Redis, so that it cannot fill Redis for the others (section <c>Coordination:Quotas</c>).</summary>
public sealed class QuotaOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Quotas";

    /// <summary>
    /// How many key/value keys one tenant may have (<see cref="IRedisCoordinator.SetAsync{T}"/>, <c>PUT /v1/kv</c>);
    /// a write that would create one more throws <see cref="CoordinationQuotaExceededException"/> (overwriting a key
    /// never does). 0 turns the quota off: writes are then a plain <c>SET</c>, one round trip instead of two. The
    /// library leaves it off, since a quota costs every write a second round trip; a host that serves tenants it does
    /// not trust turns it on (the HTTP API's <c>appsettings.json</c> sets 100,000).
    /// </summary>
    /// <value>The default value is 0 (no quota).</value>
    [Range(0, int.MaxValue)]
    public int MaxKeysPerTenant { get; set; }
}
