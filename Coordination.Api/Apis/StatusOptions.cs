using System.ComponentModel.DataAnnotations;

namespace Coordination.Api.Apis;

/// <summary>Settings of the status endpoints (section <c>Coordination:Status</c>).</summary>
public sealed class StatusOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Status";

    /// <summary>
    /// Whether <c>/v1/status</c> and <c>/status</c> need an admin API key for any answer. Without it, callers
    /// without an admin key get the status word only.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: they show no secrets, keys, tenants or data.</value>
    public bool RequireAdminKey { get; set; }

    /// <summary>
    /// How long one status snapshot (one PING to Redis) is reused; concurrent callers also share the probe in flight,
    /// so status calls cannot be used to load Redis. <see cref="TimeSpan.Zero"/> only shares the probe in flight.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the <c>/status</c> page reloads itself.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PageRefresh { get; set; } = TimeSpan.FromSeconds(5);
}
