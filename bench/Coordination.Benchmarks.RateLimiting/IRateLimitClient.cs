namespace Coordination.Benchmarks.RateLimiting;

/// <summary>One limiter under test: a library and one of its algorithms, deciding for many keys.</summary>
internal interface IRateLimitClient
{
    /// <summary>The client's name in the report.</summary>
    string Name { get; }

    /// <summary>Asks for one permit of <paramref name="key"/>; answers whether it was granted.</summary>
    ValueTask<bool> AcquireAsync(string key);
}
