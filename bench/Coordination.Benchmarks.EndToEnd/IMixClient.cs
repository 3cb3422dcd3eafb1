namespace Coordination.Benchmarks.EndToEnd;

/// <summary>One way of running the workload: through the API, through the library, or the trivial endpoint.</summary>
internal interface IMixClient
{
    string Name { get; }

    /// <summary>What one operation is, for the report.</summary>
    string Description { get; }

    /// <summary>Whether it runs <see cref="Mix"/> (the trivial endpoint runs one request for every kind).</summary>
    bool RunsMix { get; }

    /// <summary>HTTP requests one operation of <paramref name="kind"/> sends; 0 when it sends none (the library).</summary>
    int RequestsPer(OperationKind kind);

    /// <summary>Writes what the mix reads (cache entries, sessions, the rate-limit policy) before anything is measured.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>Runs one operation; returns null when it had the expected outcome, else why not (an exception counts too).</summary>
    ValueTask<string?> RunAsync(OperationKind kind, int caller, long call, Random random, CancellationToken cancellationToken);
}
