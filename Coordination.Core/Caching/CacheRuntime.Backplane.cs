using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The backplane: invalidations arrive at once through pub/sub (<see cref="Channel"/>) and are also read from the
/// bounded log (<see cref="LogKey"/>, a stream) from this node's offset, periodically and whenever a connection comes
/// back, so a node that missed messages replays them, or clears its memory level when the log was trimmed past its
/// offset. Pub/sub messages never move the offset: only the log does, so a gap in pub/sub is always replayed.
/// </summary>
internal sealed partial class CacheRuntime
{
    private const int LogBatch = 500;
    private readonly SemaphoreSlim _catchUpGate = new(1, 1);
    private ITimer? _pollTimer;
    private IConnectionMultiplexer? _subscribed;
    private string? _offset;
    private int _backplaneStarted;
    private long _catchUps;
    private long _memoryClears;
    private long _messages;

    /// <summary>Backplane messages applied from pub/sub.</summary>
    public long MessageCount => Interlocked.Read(ref _messages);

    // Ids pub/sub already delivered: the log replay skips them (it would evict values read since). Bounded: when it
    // grows past the limit it is dropped, and replay merely evicts a few keys twice.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _delivered = new(StringComparer.Ordinal);
    private const int MaxDelivered = 100_000;

    /// <summary>The id of the last log entry this node applied; null until the backplane first reached Redis.</summary>
    public string? Offset => Volatile.Read(ref _offset);

    /// <summary>Completed log reads (tests wait on it).</summary>
    public long CatchUpCount => Interlocked.Read(ref _catchUps);

    /// <summary>Times the memory level was cleared because the log no longer reached back to the offset.</summary>
    public long MemoryClearCount => Interlocked.Read(ref _memoryClears);

    /// <summary>Starts the backplane once (subscription and log polling); the first cache of the process calls it.</summary>
    public void EnsureBackplane()
    {
        if (Interlocked.Exchange(ref _backplaneStarted, 1) != 0)
        {
            return;
        }

        Executor.Pool.TopologyChanged += TriggerCatchUp;
        _pollTimer = Time.CreateTimer(static state => ((CacheRuntime)state!).TriggerCatchUp(), this, TimeSpan.Zero, Options.InvalidationLogPollInterval);
    }

    private void TriggerCatchUp()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _ = CatchUpAsync();
        }
    }

    /// <summary>Subscribes if needed and applies the log after the offset. Returns false when Redis could not be read or another read runs.</summary>
    internal async Task<bool> CatchUpAsync()
    {
        if (!await _catchUpGate.WaitAsync(0))
        {
            return false;
        }

        try
        {
            await EnsureSubscribedAsync();
            var offset = Volatile.Read(ref _offset);
            var replayed = 0;
            while (true)
            {
                var result = await Executor.ExecuteAsync(
                    "cache.log.read",
                    idempotent: true,
                    static (db, s) => RedisScript.CacheLogRead.EvaluateByShaAsync(db, [s.Key], [s.Offset ?? string.Empty, LogBatch]),
                    (Key: (RedisKey)LogKey, Offset: offset),
                    Stopping);
                var parts = (RedisResult[])result!;
                Clock.Observe((long)parts[0]);
                var last = (string)parts[1]!;
                if (offset is null)
                {
                    Volatile.Write(ref _offset, last);
                    break;
                }

                if ((long)parts[2] == 1)
                {
                    _delivered.Clear();
                    ClearMemory();
                    Interlocked.Increment(ref _memoryClears);
                    CachingLog.MemoryCleared(Logger, offset);
                    Volatile.Write(ref _offset, last);
                    break;
                }

                var entries = (RedisResult[])parts[3]!;
                foreach (var entry in entries)
                {
                    var fields = (RedisResult[])entry[1]!;
                    string? node = null, kind = null, tenant = null, argument = null;
                    for (var i = 0; i + 1 < fields.Length; i += 2)
                    {
                        var value = (string?)fields[i + 1];
                        switch ((string?)fields[i])
                        {
                            case "n": node = value; break;
                            case "k": kind = value; break;
                            case "t": tenant = value; break;
                            case "a": argument = value; break;
                        }
                    }

                    var id = (string)entry[0]!;
                    if (!_delivered.TryRemove(id, out _) && node != NodeId && kind is not null && tenant is not null && argument is not null)
                    {
                        Apply(kind, tenant, argument, "log");
                        replayed++;
                    }

                    offset = id;
                }

                Volatile.Write(ref _offset, offset);
                if (entries.Length < LogBatch)
                {
                    break;
                }
            }

            if (replayed > 0)
            {
                CachingLog.Replayed(Logger, replayed, offset ?? string.Empty);
            }

            Interlocked.Increment(ref _catchUps);
            return true;
        }
#pragma warning disable CA1031 // Any failure (Redis down, pool not started or closed) is retried at the next poll.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CachingLog.BackplaneFailed(Logger, ex);
            return false;
        }
        finally
        {
            _catchUpGate.Release();
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        var current = Volatile.Read(ref _subscribed);
        if (current is not null && Executor.Pool.Contains(current))
        {
            return;
        }

        var multiplexer = Executor.Pool.RentMultiplexer();
        await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Channel), (_, message) => OnMessage(message));
        Volatile.Write(ref _subscribed, multiplexer);
    }

    /// <summary>A backplane message: <c>{id}\n{node}\n{kind}\n{tenant}\n{argument}</c>.</summary>
    internal void OnMessage(RedisValue message)
    {
        var text = ((string?)message ?? string.Empty).AsSpan();
        Span<Range> parts = stackalloc Range[5];
        if (text.Split(parts, '\n') != 5)
        {
            return;
        }

        if (text[parts[1]].SequenceEqual(NodeId))
        {
            return;
        }

        if (_delivered.Count >= MaxDelivered)
        {
            _delivered.Clear();
        }

        _delivered.TryAdd(text[parts[0]].ToString(), 0);

        Interlocked.Increment(ref _messages);
        Apply(text[parts[2]].ToString(), text[parts[3]].ToString(), text[parts[4]].ToString(), "remote");
    }

    private void Apply(string kind, string tenant, string argument, string origin)
    {
        if (!_tenants.TryGetValue(tenant, out var cache))
        {
            return;
        }

        switch (kind)
        {
            case "k":
                cache.OnKeyInvalidated(argument);
                Metrics.Invalidation("key", origin);
                break;
            case "t":
                cache.OnStampsInvalidated(argument, isPrefix: false);
                Metrics.Invalidation("tag", origin);
                break;
            case "p":
                cache.OnStampsInvalidated(argument, isPrefix: true);
                Metrics.Invalidation("prefix", origin);
                break;
        }
    }

    /// <summary>Appends an invalidation to the log and publishes it (one script on the log key), on <paramref name="database"/>.</summary>
    internal Task<RedisResult> AppendLogAsync(IDatabase database, string kind, string tenant, string argument) =>
        RedisScript.CacheLogAppend.EvaluateAsync(database, [LogKey], [Channel, Options.InvalidationLogLength, NodeId, kind, tenant, argument]);

    private async Task StopBackplaneAsync()
    {
        if (_pollTimer is not null)
        {
            await _pollTimer.DisposeAsync();
        }

        Executor.Pool.TopologyChanged -= TriggerCatchUp;
        if (Volatile.Read(ref _subscribed) is { } multiplexer)
        {
            try
            {
                await multiplexer.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(Channel)).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                CachingLog.BackplaneFailed(Logger, ex);
            }
        }
    }
}
