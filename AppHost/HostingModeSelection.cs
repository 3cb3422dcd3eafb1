namespace Coordination.AppHost;

/// <summary>The hosting chosen for this run and why, for the AppHost's log and dashboard.</summary>
/// <param name="Mode">How Redis runs.</param>
/// <param name="Postgres">How PostgreSQL runs, or that it does not.</param>
/// <param name="Reason">A short human-readable reason.</param>
internal sealed record HostingModeSelection(HostingMode Mode, PostgresHosting Postgres, string Reason)
{
    /// <summary>Both servers as containers.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The selection.</returns>
    public static HostingModeSelection Containers(string reason) => new(HostingMode.Container, PostgresHosting.Container, reason);
}
