using System.Diagnostics.Metrics;
using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Core.Tests.Caching;

/// <summary>The write-behind queue on its own: a writer that never recovers, and shutdown that stops waiting.</summary>
public class WriteBehindQueueTests
{
    [Fact]
    public async Task StopAsync_WriterNeverRecovers_GivesUpWhenTheTokenFires_AndSaysSo()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        var attempts = 0;
        var writer = new DelegateCacheWriter<int>((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            throw new TimeoutException("down");
        });
        var options = new WriteBehindOptions { FlushInterval = TimeSpan.FromMilliseconds(1), RetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryDelay = TimeSpan.FromMilliseconds(20) };
        var time = new TimerAwareTimeProvider();
        var queue = new WriteBehindQueue<int>("k:", writer, options, time, NullLogger.Instance, new CacheMetrics(meter));
        var cache = new RecordingCache();
        var token = TestContext.Current.CancellationToken;

        // Each failed write waits its retry delay (jittered, at most MaxRetryDelay) on the fake clock: once the queue
        // waits, moving the clock past MaxRetryDelay lets it try again.
        bool IsRetryDelay(TimeSpan due) => due > TimeSpan.Zero && due <= options.MaxRetryDelay;
        var retryWaiting = time.WhenTimerCreated(IsRetryDelay);
        await queue.SetAsync(cache, "k:1", 1, token);
        await queue.SetAsync(cache, "k:2", 2, token);
        for (var retry = 0; retry < 2; retry++)
        {
            await retryWaiting.WaitAsync(TimeSpan.FromSeconds(10), token);
            retryWaiting = time.WhenTimerCreated(IsRetryDelay);
            time.Advance(options.MaxRetryDelay);
        }

        await retryWaiting.WaitAsync(TimeSpan.FromSeconds(10), token);
        Assert.Equal(3, Volatile.Read(ref attempts));

        using var shutdown = new CancellationTokenSource();
        var stopping = queue.StopAsync(shutdown.Token);
        Assert.False(stopping.IsCompleted); // still retrying: shutdown waits for the writes while its token allows
        await shutdown.CancelAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(5), token);

        Assert.Equal(3, Volatile.Read(ref attempts));
        Assert.Equal(2, queue.Pending); // still counted: not written, and not forgotten silently
        Assert.Equal(["k:1", "k:2"], cache.Keys);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => queue.SetAsync(cache, "k:3", 3, token).AsTask());
        await queue.DisposeAsync();
    }

    private sealed class RecordingCache : ICacheManager
    {
        public List<string> Keys { get; } = [];

        public string Tenant => "t";

        public ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
        {
            Keys.Add(key);
            return ValueTask.CompletedTask;
        }

        public ValueTask<CacheResult<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<CacheResult<T>> GetOrCreateAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask InvalidateByPrefixAsync(string prefix, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
