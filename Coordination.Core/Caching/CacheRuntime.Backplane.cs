using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The backplane: invalidations arrive at once through pub/sub (<see cref="Channel"/>, one channel for every tenant)
/// and are also read from each tenant's bounded log (<see cref="LogKeyOf"/>, a stream) from this node's offset in it,
/// periodically and whenever a connection comes back, so a node that missed messages replays them, or clears that
/// tenant's memory level when its log was trimmed past the offset. One tenant's log is trimmed by that tenant's
/// invalidations only, so no tenant can make a node drop another tenant's memory level. Pub/sub messages never move an
/// offset: only the log does, so a gap in pub/sub is always replayed.
/// </summary>
internal sealed partial class CacheRuntime
{
    private const int LogBatch = 500;

    // Tenants whose logs one catch-up reads at once: enough to hide round trips when a node serves many tenants,
    // few enough that a poll does not flood the pool.
    private const int CatchUpParallelism = 16;

    // Ids pub/sub already delivered are kept per tenant so the log replay skips them (it would evict values read
    // since). Bounded: a set that grows past the bound is dropped, and replay merely evicts a few keys twice.
    private const int MinDeliveredPerTenant = 1024;
    private const int MaxDeliveredPerTenant = 100_000;

    private readonly SemaphoreSlim _catchUpGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TenantLog> _logs = new(StringComparer.Ordinal);
    private ITimer? _pollTimer;
    private IConnectionMultiplexer? _subscribed;
    private int _backplaneStarted;
    private int _catchUpRequested;
    private long _catchUps;
    private long _memoryClears;
    private long _messages;

    /// <summary>Backplane messages applied from pub/sub.</summary>
    public long MessageCount => Interlocked.Read(ref _messages);

    /// <summary>Catch-ups that read the log of every tenant this node has a cache for (tests wait on it).</summary>
    public long CatchUpCount => Interlocked.Read(ref _catchUps);

    /// <summary>Times a tenant's memory level was cleared because its log no longer reached back to this node's offset.</summary>
    public long MemoryClearCount => Interlocked.Read(ref _memoryClears);

    /// <summary>The invalidation log of <paramref name="tenant"/> (<c>{prefix}:{tenant}:cache-log</c>).</summary>
    public string LogKeyOf(string tenant) => LogOf(tenant).Key;

    /// <summary>The id of the last entry of <paramref name="tenant"/>'s log this node applied; null until it first read that log.</summary>
    public string? OffsetOf(string tenant) => _logs.TryGetValue(tenant, out var log) ? Volatile.Read(ref log.Offset) : null;

    /// <summary>Ids of <paramref name="tenant"/>'s log that pub/sub delivered and the log replay has not passed yet.</summary>
    internal int DeliveredCountOf(string tenant) => _logs.TryGetValue(tenant, out var log) ? log.Delivered.Count : 0;

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

    /// <summary>
    /// Subscribes if needed and applies each tenant's log after this node's offset in it. A call while another one
    /// runs makes that one read again when it is done (a tenant added meanwhile learns its offset at once) and
    /// returns false; so does a call that could not read every log.
    /// </summary>
    internal async Task<bool> CatchUpAsync()
    {
        if (!await _catchUpGate.WaitAsync(0))
        {
            Volatile.Write(ref _catchUpRequested, 1);
            return false;
        }

        try
        {
            Volatile.Write(ref _catchUpRequested, 0);
            var complete = await CatchUpEveryTenantAsync();
            while (Interlocked.Exchange(ref _catchUpRequested, 0) == 1 && !Stopping.IsCancellationRequested)
            {
                complete = await CatchUpEveryTenantAsync();
            }

            return complete;
        }
#pragma warning disable CA1031 // Any failure (Redis down, pool not started or closed, shutdown) is retried at the next poll.
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

    private async Task<bool> CatchUpEveryTenantAsync()
    {
        await EnsureSubscribedAsync();
        var failed = 0;
        await Parallel.ForEachAsync(
            _tenants.Keys,
            new ParallelOptions { MaxDegreeOfParallelism = CatchUpParallelism, CancellationToken = Stopping },
            async (tenant, _) =>
            {
                if (!await CatchUpTenantAsync(tenant))
                {
                    Interlocked.Increment(ref failed);
                }
            });
        if (failed > 0)
        {
            return false;
        }

        Interlocked.Increment(ref _catchUps);
        return true;
    }

    /// <summary>Applies <paramref name="tenant"/>'s log after this node's offset, or clears that tenant's memory level when the log lost entries past it.</summary>
    private async Task<bool> CatchUpTenantAsync(string tenant)
    {
        var log = LogOf(tenant);
        try
        {
            var offset = Volatile.Read(ref log.Offset);
            var replayed = 0;
            while (true)
            {
                var result = await Executor.ExecuteAsync(
                    "cache.log.read",
                    idempotent: true,
                    static (db, s) => RedisScript.CacheLogRead.EvaluateByShaAsync(db, [s.Key], [s.Offset ?? string.Empty, LogBatch]),
                    (Key: (RedisKey)log.Key, Offset: offset),
                    Stopping);
                var parts = (RedisResult[])result!;
                Clock.Observe((long)parts[0]);
                var last = (string)parts[1]!;
                if (offset is null)
                {
                    Volatile.Write(ref log.Offset, last);
                    break;
                }

                if ((long)parts[2] == 1)
                {
                    log.Delivered.Clear();
                    ClearTenantMemory(tenant, offset);
                    Volatile.Write(ref log.Offset, last);
                    break;
                }

                var entries = (RedisResult[])parts[3]!;
                foreach (var entry in entries)
                {
                    var fields = (RedisResult[])entry[1]!;
                    string? node = null, kind = null, argument = null;
                    for (var i = 0; i + 1 < fields.Length; i += 2)
                    {
                        var value = (string?)fields[i + 1];
                        switch ((string?)fields[i])
                        {
                            case "n": node = value; break;
                            case "k": kind = value; break;
                            case "a": argument = value; break;
                        }
                    }

                    var id = (string)entry[0]!;
                    if (!log.Delivered.TryRemove(id, out _) && node != NodeId && kind is not null && argument is not null)
                    {
                        Apply(kind, tenant, argument, "log");
                        replayed++;
                    }

                    offset = id;
                }

                Volatile.Write(ref log.Offset, offset);
                if (entries.Length < LogBatch)
                {
                    break;
                }
            }

            if (replayed > 0)
            {
                CachingLog.Replayed(Logger, replayed, offset ?? string.Empty);
            }

            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            CachingLog.BackplaneFailed(Logger, ex);
            return false;
        }
    }

    /// <summary>Clears one tenant's memory level: its log no longer reaches back to this node's offset. The other tenants keep theirs.</summary>
    private void ClearTenantMemory(string tenant, string offset)
    {
        if (_tenants.TryGetValue(tenant, out var cache))
        {
            cache.ClearMemory();
        }

        Interlocked.Increment(ref _memoryClears);
        Metrics.Invalidation("clear", "log");
        CachingLog.MemoryCleared(Logger, offset);
        CachingLog.TenantMemoryCleared(Logger, tenant);
    }

    private TenantLog LogOf(string tenant) =>
        _logs.TryGetValue(tenant, out var log)
            ? log
            : _logs.GetOrAdd(
                tenant,
                static (tenant, runtime) => new TenantLog(
                    string.Concat(runtime.KeyPrefix, ":", tenant, ":cache-log"),
                    Math.Clamp(runtime.Options.InvalidationLogLength, MinDeliveredPerTenant, MaxDeliveredPerTenant)),
                this);

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

    /// <summary>A backplane message: <c>{id}\n{node}\n{kind}\n{tenant}\n{argument}</c>, the id being one of the tenant's log.</summary>
    internal void OnMessage(RedisValue message)
    {
        var text = ((string?)message ?? string.Empty).AsSpan();
        Span<Range> parts = stackalloc Range[5];
        if (!TrySplitMessage(text, parts))
        {
            return;
        }

        if (text[parts[1]].SequenceEqual(NodeId))
        {
            return;
        }

        Interlocked.Increment(ref _messages);
        var tenant = text[parts[3]].ToString();
        if (!_tenants.ContainsKey(tenant))
        {
            return;
        }

        LogOf(tenant).NoteDelivered(text[parts[0]].ToString());
        Apply(text[parts[2]].ToString(), tenant, text[parts[4]].ToString(), "remote");
    }

    /// <summary>
    /// The five fields of a message: the first four end at the first four newlines, the argument is the rest (the
    /// keys of an <c>m</c> entry are separated by newlines too).
    /// </summary>
    internal static bool TrySplitMessage(ReadOnlySpan<char> text, Span<Range> parts)
    {
        var start = 0;
        for (var i = 0; i < 4; i++)
        {
            var end = text[start..].IndexOf('\n');
            if (end < 0)
            {
                return false;
            }

            parts[i] = new Range(start, start + end);
            start += end + 1;
        }

        parts[4] = new Range(start, text.Length);
        return true;
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
            case "m":
                // Several keys written together (CacheWriteCombiner), separated by newlines.
                foreach (var range in argument.AsSpan().Split('\n'))
                {
                    cache.OnKeyInvalidated(argument[range]);
                    Metrics.Invalidation("key", origin);
                }

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

    /// <summary>Appends an invalidation to <paramref name="tenant"/>'s log and publishes it (one script on the log key), on <paramref name="database"/>.</summary>
    internal Task<RedisResult> AppendLogAsync(IDatabase database, string kind, string tenant, string argument) =>
        RedisScript.CacheLogAppend.EvaluateAsync(database, [LogOf(tenant).Key], [Channel, Options.InvalidationLogLength, NodeId, kind, tenant, argument]);

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

    /// <summary>A tenant's invalidation log as this node follows it.</summary>
    private sealed class TenantLog(string key, int maxDelivered)
    {
        /// <summary>The id of the last entry applied; null until the log was first read.</summary>
        public string? Offset;

        public string Key { get; } = key;

        /// <summary>Ids pub/sub delivered that the log replay has not passed yet.</summary>
        public ConcurrentDictionary<string, byte> Delivered { get; } = new(StringComparer.Ordinal);

        public void NoteDelivered(string id)
        {
            if (Delivered.Count >= maxDelivered)
            {
                Delivered.Clear();
            }

            Delivered.TryAdd(id, 0);
        }
    }
}
