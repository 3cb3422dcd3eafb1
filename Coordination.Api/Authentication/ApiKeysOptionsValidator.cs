using Microsoft.Extensions.Options;

namespace Coordination.Api.Authentication;

/// <summary>Checks every configured key at start, naming the broken setting (never printing a key).</summary>
internal sealed class ApiKeysOptionsValidator : IValidateOptions<ApiKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeysOptions options)
    {
        if (options.ApiKeys.Count == 0)
        {
            return ValidateOptionsResult.Fail(
                "Coordination:ApiKeys is empty: configure at least one key, for example Coordination__ApiKeys__0__Key, Coordination__ApiKeys__0__Tenant and Coordination__ApiKeys__0__Role (member or admin).");
        }

        var failures = new List<string>();
        if (!CoordinationLimits.IsValidSegment(options.ReservedTenant))
        {
            failures.Add("Coordination:ReservedTenant must be 1..64 characters of letters, digits, '.', '_' or '-' (the Worker's Coordination:Tenant).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var entry = options.ApiKeys[i];
            var setting = $"Coordination:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(entry.Key))
            {
                failures.Add($"{setting}:Key must not be empty.");
            }
            else if (entry.Key.Length < ApiKeysOptions.MinimumKeyLength)
            {
                failures.Add($"{setting}:Key is too short: an API key must be at least {ApiKeysOptions.MinimumKeyLength} characters (generate one, for example with `openssl rand -hex 24`).");
            }
            else if (!seen.Add(entry.Key))
            {
                failures.Add($"{setting}:Key repeats an earlier key; each key must be unique.");
            }

            if (!CoordinationLimits.IsValidSegment(entry.Tenant))
            {
                failures.Add($"{setting}:Tenant must be 1..64 characters of letters, digits, '.', '_' or '-'.");
            }
            else if (string.Equals(entry.Tenant, options.ReservedTenant, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{setting}:Tenant is the tenant the Worker uses for itself (Coordination:ReservedTenant): give the key a tenant of its own.");
            }

            if (!ApiKeyStore.IsKnownRole(entry.Role))
            {
                failures.Add($"{setting}:Role must be '{ApiKeyDefaults.MemberRole}' or '{ApiKeyDefaults.AdminRole}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
