using System.ComponentModel.DataAnnotations;

namespace Coordination.Api.Limits;

/// <summary>
/// How many requests of one tenant a replica works on at once (section <c>Coordination:TenantConcurrency</c>), so that a
/// tenant sending expensive requests at full speed (1 MiB values, many tags) cannot take every core from the others.
/// Requests beyond <see cref="PermitLimit"/> wait in the tenant's own queue, oldest first; beyond
/// <see cref="QueueLimit"/> they are answered 429 <c>too-many-requests</c> with <c>Retry-After</c>.
/// </summary>
public sealed class TenantConcurrencyOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:TenantConcurrency";

    /// <summary>
    /// Requests of one tenant this replica works on at once. Low on purpose: a request is mostly CPU, so more in
    /// progress does not make a tenant faster, it only makes the others wait behind it.
    /// </summary>
    /// <value>The default value is 4.</value>
    [Range(1, 100_000)]
    public int PermitLimit { get; set; } = 4;

    /// <summary>Requests of one tenant that may wait for a permit; more are answered 429.</summary>
    /// <value>The default value is 512.</value>
    [Range(0, 1_000_000)]
    public int QueueLimit { get; set; } = 512;
}
