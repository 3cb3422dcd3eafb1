namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// Tests that measure how long a fault takes to be noticed or followed (a renewal deadline, a failover), or that drive
/// many callers through one: they run alone, so neither their bounds nor other tests' depend on the CPU the other
/// depends on (two cores; a failover test's 16 callers starved a renewal timer of another test for a whole TTL).
/// </summary>
[CollectionDefinition(nameof(FaultTimingTests), DisableParallelization = true)]
public sealed class FaultTimingTests;
