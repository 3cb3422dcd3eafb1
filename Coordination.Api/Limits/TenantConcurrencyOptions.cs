using System.ComponentModel.DataAnnotations;

namespace Coordination.Api.Limits;

/// <summary>
/// How many requests of one tenant a replica works on at once (section <c>Coordination:TenantConcurrency</c>), so that a
/// tenant sending expensive requests at full speed (1 MiB values) cannot take every core from the others. Requests
/// beyond <see cref="PermitLimit"/> (or <see cref="LargeBodyPermitLimit"/>) wait in the tenant's own queue, oldest first; beyond
/// <see cref="QueueLimit"/> they are answered 429 <c>too-many-requests</c> with <c>Retry-After</c>.
/// </summary>
public sealed class TenantConcurrencyOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:TenantConcurrency";

    /// <summary>Requests of one tenant with small or no bodies this replica works on at once.</summary>
    /// <value>The default value is 64.</value>
    [Range(1, 100_000)]
    public int PermitLimit { get; set; } = 64;

    /// <summary>
    /// Requests of one tenant with a body larger than <see cref="LargeBodyBytes"/> (or of unknown length) this replica
    /// works on at once. Low on purpose: parsing and storing a large value is CPU and garbage-collected memory, so more
    /// of them in progress do not make the tenant faster, they only make everyone else wait behind them.
    /// </summary>
    /// <value>The default value is 1.</value>
    [Range(1, 100_000)]
    public int LargeBodyPermitLimit { get; set; } = 1;

    /// <summary>The body size from which a request counts against <see cref="LargeBodyPermitLimit"/>.</summary>
    /// <value>The default value is 65,536 bytes.</value>
    [Range(0, long.MaxValue)]
    public long LargeBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Requests of one tenant that may wait for a permit; more are answered 429.</summary>
    /// <value>The default value is 512.</value>
    [Range(0, 1_000_000)]
    public int QueueLimit { get; set; } = 512;
}
