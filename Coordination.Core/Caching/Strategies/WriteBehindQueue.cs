using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Write-behind for one prefix: a bounded queue that acknowledges a write once it holds it, and one loop that writes
/// it in batches (full batch, <see cref="WriteBehindOptions.FlushInterval"/> after a batch's first write, a flush, or
/// shutdown), retrying a failing batch with capped exponential backoff until it succeeds or shutdown gives up.
/// </summary>
internal sealed class WriteBehindQueue<T> : CacheStrategy, ICacheWriteStrategy<T>, IAsyncDisposable
{
    private readonly Channel<Item> _channel;
    private readonly ICacheWriter<T> _writer;
    private readonly int _batchSize;
    private readonly TimeSpan _flushInterval;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly CacheEntryOptions? _entryOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly CancellationTokenSource _abandon = new();
    private readonly Task _loop;
    private long _acknowledged;
    private long _written;
    private int _stopped;

    public WriteBehindQueue(string prefix, ICacheWriter<T> writer, WriteBehindOptions options, TimeProvider time, ILogger logger, CacheMetrics metrics)
        : base(prefix, typeof(T))
    {
        _writer = writer;
        _batchSize = options.BatchSize;
        _flushInterval = options.FlushInterval;
        _retryDelay = options.RetryDelay;
        _maxRetryDelay = options.MaxRetryDelay;
        _entryOptions = options.EntryOptions;
        _time = time;
        _logger = logger;
        _metrics = metrics;

        // Flush markers take a slot like writes, so a flush waits behind a full queue as a write would.
        _channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            AllowSynchronousContinuations = false,
        });
        _loop = Task.Run(RunAsync);
    }

    public override long Pending => Math.Max(0, Interlocked.Read(ref _acknowledged) - Interlocked.Read(ref _written));

    public async ValueTask SetAsync(ICacheManager cache, string key, T value, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Writer.WriteAsync(new Item(key, value, null), cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw Stopped(ex);
        }

        Interlocked.Increment(ref _acknowledged);
        _metrics.WriteBehindQueued(1);

        // Acknowledged: the cache follows even when the caller gives up now.
        await cache.SetAsync(key, value, _entryOptions, CancellationToken.None);
    }

    public override async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _channel.Writer.WriteAsync(new Item(string.Empty, default!, marker), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // Stopping: the loop writes everything that is queued before it ends.
            await _loop.WaitAsync(cancellationToken);
            return;
        }

        await marker.Task.WaitAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _channel.Writer.TryComplete();
        }

        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Shutdown does not wait any longer: stop retrying and say how much is lost.
            await _abandon.CancelAsync();
            await _loop;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await StopAsync(timeout.Token);
        }

        _abandon.Dispose();
    }

    private InvalidOperationException Stopped(Exception inner) =>
        new($"The write-behind queue of the key prefix '{Prefix}' is stopped (the host is shutting down).", inner);

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new List<KeyValuePair<string, T>>(Math.Min(_batchSize, 1024));
        var markers = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(_abandon.Token))
            {
                await FillAsync(reader, batch, markers);
                if (batch.Count > 0)
                {
                    await WriteAsync(batch);
                    batch.Clear();
                }

                foreach (var marker in markers)
                {
                    marker.TrySetResult();
                }

                markers.Clear();
            }

            CacheStrategiesLog.WriteBehindStopped(_logger, Prefix, Interlocked.Read(ref _written));
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            long lost = batch.Count;
            while (reader.TryRead(out var item))
            {
                if (item.Marker is { } marker)
                {
                    markers.Add(marker);
                }
                else
                {
                    lost++;
                }
            }

            CacheStrategiesLog.WriteBehindAbandoned(_logger, Prefix, lost);
            foreach (var marker in markers)
            {
                marker.TrySetException(Stopped(new OperationCanceledException(_abandon.Token)));
            }
        }
    }

    /// <summary>Takes writes until the batch is full, a flush marker comes, the interval since the first write passes, or the queue ends.</summary>
    private async Task FillAsync(ChannelReader<Item> reader, List<KeyValuePair<string, T>> batch, List<TaskCompletionSource> markers)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            while (batch.Count < _batchSize && reader.TryRead(out var item))
            {
                if (item.Marker is { } marker)
                {
                    markers.Add(marker);
                    return; // Write what came before the flush now.
                }

                batch.Add(new KeyValuePair<string, T>(item.Key, item.Value));
            }

            var remaining = _flushInterval - _time.GetElapsedTime(started);
            if (batch.Count >= _batchSize || remaining <= TimeSpan.Zero)
            {
                return;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_abandon.Token);
            wait.CancelAfter(remaining);
            try
            {
                if (!await reader.WaitToReadAsync(wait.Token))
                {
                    return; // Stopped and drained.
                }
            }
            catch (OperationCanceledException) when (!_abandon.IsCancellationRequested)
            {
                return; // The interval passed.
            }
        }
    }

    private async Task WriteAsync(List<KeyValuePair<string, T>> batch)
    {
        var writes = batch.ToArray();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _writer.WriteAsync(writes, _abandon.Token);
                Interlocked.Add(ref _written, writes.Length);
                _metrics.WriteBehindFlushed(writes.Length);
                if (attempt > 1)
                {
                    CacheStrategiesLog.WriteBehindRecovered(_logger, Prefix, attempt - 1);
                }

                return;
            }
            catch (Exception ex) when (!_abandon.IsCancellationRequested)
            {
                // The batch is kept and retried: an acknowledged write is never dropped while the process lives.
                _metrics.WriteBehindFailed();
                var delay = Backoff(attempt);
                CacheStrategiesLog.WriteBehindFailed(_logger, Prefix, writes.Length, attempt, delay, ex);
                await Task.Delay(delay, _time, _abandon.Token);
            }
        }
    }

    /// <summary>RetryDelay × 2^(attempt-1), capped, with up to 50 % jitter subtracted so that nodes do not retry in step.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var exponential = _retryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, _maxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private readonly record struct Item(string Key, T Value, TaskCompletionSource? Marker);
}
