namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Per-test names, so tests can share one server and run in parallel without touching each other.</summary>
public static class TestKeys
{
    /// <summary>A key prefix no other test uses (Coordination:KeyPrefix).</summary>
    public static string NewPrefix() => "it-" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A PostgreSQL schema no other test uses (Coordination:Fallback:Schema).</summary>
    public static string NewSchema() => "it_" + Guid.NewGuid().ToString("N")[..20];
}
