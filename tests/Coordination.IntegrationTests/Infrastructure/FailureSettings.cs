namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Resilience settings shared by the outage tests.</summary>
public static class FailureSettings
{
    /// <summary>Short attempts and breaks keep the outage tests quick; the semantics do not depend on them.</summary>
    public static readonly KeyValuePair<string, string?>[] Fast =
    [
        new("Coordination:Resilience:AttemptTimeout", "00:00:00.300"),
        new("Coordination:Resilience:BreakDuration", "00:00:00.500"),
    ];
}
