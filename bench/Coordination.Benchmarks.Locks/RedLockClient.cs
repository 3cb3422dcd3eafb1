using RedLockNet;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>RedLock.net with a single endpoint (an existing multiplexer), as <c>RedLockFactory</c> gives it.</summary>
internal sealed class RedLockClient : ILockClient, IDisposable
{
    private readonly RedLockFactory _factory;
    private readonly TimeSpan _timeToLive;
    private readonly TimeSpan _retry;

    public RedLockClient(IConnectionMultiplexer multiplexer, TimeSpan timeToLive, TimeSpan retry)
    {
        _timeToLive = timeToLive;
        _retry = retry;
        var provider = new ExistingMultiplexersRedLockConnectionProvider { Multiplexers = [new RedLockMultiplexer(multiplexer)] };

        // With one server the quorum retries (3 by default, with random sleeps of up to 400 ms between them) only
        // delay a waiter behind a busy lock: one quorum attempt per try, the wait loop does the retrying.
        _factory = new RedLockFactory(new RedLockConfiguration(provider) { RetryConfiguration = new RedLockRetryConfiguration(retryCount: 1, retryDelayMs: 10) });
    }

    public string Name => "RedLock.net";

    public string Description =>
        $"`RedLockFactory.CreateLockAsync(resource, {_timeToLive.TotalSeconds:0} s)` on one existing multiplexer (SET NX PX, auto-extend timer at TTL/2), " +
        $"`DisposeAsync` to release (Lua compare-and-delete); waiting: `CreateLockAsync(resource, ttl, wait, retry: {_retry.TotalMilliseconds:0} ms)` " +
        "(polls; a refused try also runs the unlock script), quorum `RedLockRetryConfiguration(1, 10)` instead of the default 3 tries with random sleeps up to 400 ms.";

    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken) =>
        Acquired(await _factory.CreateLockAsync(name, _timeToLive));

    public async ValueTask<IAsyncDisposable?> AcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken) =>
        Acquired(await _factory.CreateLockAsync(name, _timeToLive, wait, _retry, cancellationToken));

    public void Dispose() => _factory.Dispose();

    private static IAsyncDisposable? Acquired(IRedLock redLock)
    {
        if (redLock.IsAcquired)
        {
            return (IAsyncDisposable)redLock;
        }

        // Not acquired: nothing to release, and disposing would run the unlock script once more.
        redLock.Dispose();
        return null;
    }
}
