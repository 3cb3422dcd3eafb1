namespace Coordination.Api.Authentication;

/// <summary>The API keys the service accepts, bound from the <c>Coordination</c> section (<c>Coordination:ApiKeys</c>).</summary>
public sealed class ApiKeysOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination";

    /// <summary>The shortest key accepted: 32 characters, so a key cannot be guessed or tried through in practice.</summary>
    public const int MinimumKeyLength = 32;

    /// <summary>The accepted keys, each with its tenant and role.</summary>
    /// <value>The default value is an empty list, which fails the start: a service nobody can call is a misconfiguration.</value>
    public IList<ApiKeyEntry> ApiKeys { get; init; } = [];

    /// <summary>
    /// The tenant the Worker uses for itself (the Worker's <c>Coordination:Tenant</c>): no API key may have it, so no
    /// HTTP caller can read or disturb the Worker's keys, locks or heartbeats. Setting
    /// <c>Coordination:ReservedTenant</c>; keep it equal to the Worker's <c>Coordination:Tenant</c> when that changes.
    /// Compared ignoring case.
    /// </summary>
    /// <value>The default value is <c>default</c>, the Worker's default tenant.</value>
    public string ReservedTenant { get; set; } = "default";
}
