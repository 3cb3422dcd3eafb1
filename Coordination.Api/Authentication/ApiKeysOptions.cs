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
}
