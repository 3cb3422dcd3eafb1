namespace Coordination.Benchmarks.RateLimiting;

/// <summary>Ours: <see cref="IRateLimitService"/> as an application gets it from <c>AddCoordination()</c>.</summary>
internal sealed class CoordinationRateLimitClient(IRateLimitService limits, string policy) : IRateLimitClient
{
    public string Name => "ours";

    public async ValueTask<bool> AcquireAsync(string key) => (await limits.AcquireAsync(policy, key)).Allowed;
}
