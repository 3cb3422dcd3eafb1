using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>How one write-behind registration (<c>WithWriteBehind</c>) queues and writes.</summary>
public sealed class WriteBehindOptions
{
    /// <summary>Gets or sets the most writes per writer call; a full batch is written without waiting for <see cref="FlushInterval"/>.</summary>
    /// <value>The default value is 100.</value>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Gets or sets how long a batch waits for more writes after its first one before it is written.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many writes the queue holds. When it is full, <see cref="IBackedCache.SetAsync{T}"/> waits for
    /// room (backpressure); writes are never dropped.
    /// </summary>
    /// <value>The default value is 10000.</value>
    [Range(1, 10_000_000)]
    public int Capacity { get; set; } = 10_000;

    /// <summary>Gets or sets the delay before the first retry of a failed batch; it doubles (with jitter) on each further failure.</summary>
    /// <value>The default value is 200 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest delay between retries of a failed batch.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the settings of the cache entries written; <see langword="null"/> uses the cache defaults.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public CacheEntryOptions? EntryOptions { get; set; }
}
