namespace Coordination.Api.Authentication;

/// <summary>One configured API key (an element of <c>Coordination:ApiKeys</c>).</summary>
public sealed class ApiKeyEntry
{
    /// <summary>The secret the caller sends in the <c>X-Api-Key</c> header.</summary>
    public string Key { get; set; } = "";

    /// <summary>The tenant every call made with the key acts for.</summary>
    public string Tenant { get; set; } = "";

    /// <summary><c>member</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = "";
}
