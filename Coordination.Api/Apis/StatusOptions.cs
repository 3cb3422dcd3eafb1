namespace Coordination.Api.Apis;

/// <summary>Settings of the status endpoints (section <c>Coordination:Status</c>).</summary>
public sealed class StatusOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Status";

    /// <summary>Whether <c>/v1/status</c> and <c>/status</c> need an admin API key.</summary>
    /// <value>The default value is <see langword="false"/>: they show no secrets, keys, tenants or data.</value>
    public bool RequireAdminKey { get; set; }
}
