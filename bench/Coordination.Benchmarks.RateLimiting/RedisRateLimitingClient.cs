using System.Threading.RateLimiting;

namespace Coordination.Benchmarks.RateLimiting;

/// <summary>
/// The peer: RedisRateLimiting (System.Threading.RateLimiting on Redis) as its users run it, one limiter per key
/// through a <see cref="PartitionedRateLimiter"/> (which creates each key's limiter once and keeps it).
/// </summary>
internal sealed class RedisRateLimitingClient(PartitionedRateLimiter<string> limiter) : IRateLimitClient, IDisposable
{
    public string Name => "RedisRateLimiting";

    public async ValueTask<bool> AcquireAsync(string key)
    {
        using var lease = await limiter.AcquireAsync(key);
        return lease.IsAcquired;
    }

    public void Dispose() => limiter.Dispose();
}
