using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Rules that span several options, and the presence of the Redis connection string.</summary>
internal sealed class CoordinationOptionsRules(string connectionName, Func<string?> connectionString) : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(connectionString()))
        {
            failures.Add($"ConnectionStrings:{connectionName} is not set: the Redis connection string is required (for example 'localhost:6379').");
        }

        if (options.Pool.MaxConnections < options.Pool.MinConnections)
        {
            failures.Add($"Coordination:Pool:MaxConnections ({options.Pool.MaxConnections}) must not be below Coordination:Pool:MinConnections ({options.Pool.MinConnections}).");
        }

        if (options.Pool.ReconnectMaxDelay < options.Pool.ReconnectBaseDelay)
        {
            failures.Add("Coordination:Pool:ReconnectMaxDelay must not be below Coordination:Pool:ReconnectBaseDelay.");
        }

        if (options.Health.ProbeTimeout <= options.Health.DegradedLatency)
        {
            failures.Add("Coordination:Health:ProbeTimeout must be above Coordination:Health:DegradedLatency.");
        }

        if (options.Locks.DefaultWaitTimeout > options.Locks.MaxWaitTimeout)
        {
            failures.Add($"Coordination:Locks:DefaultWaitTimeout ({options.Locks.DefaultWaitTimeout}) must not be above Coordination:Locks:MaxWaitTimeout ({options.Locks.MaxWaitTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
