namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// Stands for PostgreSQL on the dashboard when no PostgreSQL runs (no container runtime, no binaries): it starts
/// nothing and has no connection string; its state says the services run without the fallback.
/// </summary>
/// <param name="name">The resource name, <c>postgres</c>.</param>
internal sealed class AbsentPostgresResource(string name) : Resource(name);

/// <summary>Adds <see cref="AbsentPostgresResource"/> to the application model.</summary>
internal static class AbsentPostgresBuilderExtensions
{
    /// <summary>The state the dashboard shows for the absent PostgreSQL.</summary>
    public const string StateText = "Absent: no fallback";

    /// <summary>What running without PostgreSQL means, for the log and the dashboard.</summary>
    public const string Consequence =
        "the api and the worker run without the PostgreSQL fallback: while Redis is unavailable, key/value calls fail "
        + "with CoordinationUnavailableException instead of falling back, nothing is mirrored for a repair after a "
        + "Redis data loss, fencing tokens carry no epoch and sessions have no durable copy";

    /// <summary>Adds a <c>postgres</c> resource that only says PostgreSQL is absent and why.</summary>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name, <c>postgres</c>.</param>
    /// <param name="reason">Why there is no PostgreSQL.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<AbsentPostgresResource> AddAbsentPostgres(
        this IDistributedApplicationBuilder builder, string name, string reason)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(reason);

        return builder.AddResource(new AbsentPostgresResource(name))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgreSQL",
                State = new ResourceStateSnapshot(StateText, KnownResourceStateStyles.Warn),
                Properties =
                [
                    new("coordination.reason", reason),
                    new("coordination.consequence", Consequence),
                ],
            })
            .ExcludeFromManifest();
    }
}
