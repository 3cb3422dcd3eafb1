using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The rules of <see cref="SessionMigrationOptions"/>: a source that can be parsed, and one that is not the current
/// location itself (moving sessions onto the keys they already have would delete them).
/// </summary>
internal sealed class SessionMigrationOptionsRules(Func<string?> currentConnectionString) : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options)
    {
        var source = options.Sessions.MigrateFrom;
        if (!source.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        var otherConnection = !string.IsNullOrWhiteSpace(source.ConnectionString);
        if (otherConnection)
        {
            try
            {
                ConfigurationOptions.Parse(source.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"Coordination:Sessions:MigrateFrom:ConnectionString is not a valid StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        var sameConnection = !otherConnection || string.Equals(source.ConnectionString.Trim(), currentConnectionString()?.Trim(), StringComparison.Ordinal);
        var samePrefix = string.IsNullOrEmpty(source.KeyPrefix) || string.Equals(source.KeyPrefix, options.KeyPrefix, StringComparison.Ordinal);
        if (sameConnection && samePrefix)
        {
            return ValidateOptionsResult.Fail(
                "Coordination:Sessions:MigrateFrom names the current location (same connection string and key prefix): set a different ConnectionString or KeyPrefix to move sessions from, or leave both empty.");
        }

        return ValidateOptionsResult.Success;
    }
}
