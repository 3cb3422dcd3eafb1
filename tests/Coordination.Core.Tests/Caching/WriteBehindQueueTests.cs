using System.Diagnostics.Metrics;
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
        var queue = new WriteBehindQueue<int>("k:", writer, options, TimeProvider.System, NullLogger.Instance, new CacheMetrics(meter));
        var cache = new RecordingCache();

        await queue.SetAsync(cache, "k:1", 1, TestContext.Current.CancellationToken);
        await queue.SetAsync(cache, "k:2", 2, TestContext.Current.CancellationToken);
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await queue.StopAsync(shutdown.Token).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.True(attempts >= 3, $"{attempts} attempts");
        Assert.Equal(2, queue.Pending); // still counted: not written, and not forgotten silently
        Assert.Equal(["k:1", "k:2"], cache.Keys);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => queue.SetAsync(cache, "k:3", 3, TestContext.Current.CancellationToken).AsTask());
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
