using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Reads string keys with GET while fewer than <see cref="CoordinationOptions.MaxReadsInFlight"/> reads of one kind
/// (key/value or cache) are outstanding; beyond that, reads join an open batch that is sent as one MGET per hash slot
/// on the thread pool's next turn. A lone caller never waits for a batch, and a batch never waits for a round trip;
/// under load each command carries many keys, which costs Redis and the client far less per key than one command each.
/// </summary>
/// <remarks>
/// A combined read is sent after every read it serves was requested, so each caller still sees every write that
/// completed before its call began.
/// </remarks>
internal sealed class RedisReadCombiner
{
    private const int MaxKeysPerCommand = 512;

    private readonly RedisExecutor _executor;
    private readonly CoordinationMetrics _metrics;
    private readonly string _operation;
    private readonly int _maxInFlight;
    private readonly Lock _gate = new();
    private List<PendingRead> _open = [];
    private bool _flushQueued;
    private int _inFlight;
    private long _combinedReads;

    /// <param name="executor">Runs the reads.</param>
    /// <param name="metrics">Counts the combined reads.</param>
    /// <param name="operation">The operation name the reads are measured under (<c>kv.get</c>, <c>cache.get</c>).</param>
    /// <param name="maxInFlight">Reads in flight before further reads are combined; 0 never combines.</param>
    public RedisReadCombiner(RedisExecutor executor, CoordinationMetrics metrics, string operation, int maxInFlight)
    {
        _executor = executor;
        _metrics = metrics;
        _operation = operation;
        _maxInFlight = maxInFlight;
    }

    /// <summary>The value of <paramref name="key"/> (null when absent).</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public ValueTask<RedisValue> GetAsync(RedisKey key, CancellationToken cancellationToken)
    {
        if (_maxInFlight == 0)
        {
            return GetAloneAsync(key, cancellationToken);
        }

        PendingRead read;
        var queueFlush = false;
        lock (_gate)
        {
            if (Volatile.Read(ref _inFlight) < _maxInFlight)
            {
                Interlocked.Increment(ref _inFlight);
                read = null!;
            }
            else
            {
                read = new PendingRead(key);
                _open.Add(read);
                queueFlush = !_flushQueued;
                _flushQueued = true;
            }
        }

        if (read is null)
        {
            return GetOneAsync(key, cancellationToken);
        }

        if (queueFlush)
        {
            // The global queue: the flush runs after the work already queued here, whose reads then join the batch.
            ThreadPool.UnsafeQueueUserWorkItem(static combiner => _ = combiner.FlushAsync(), this, preferLocal: false);
        }

        read.StopWaitingOn(cancellationToken);
        return new ValueTask<RedisValue>(read.Completion.Task);
    }

    /// <summary>Reads that went out combined with others, since start.</summary>
    internal long CombinedReads => Interlocked.Read(ref _combinedReads);

    private async ValueTask<RedisValue> GetOneAsync(RedisKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await GetAloneAsync(key, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private ValueTask<RedisValue> GetAloneAsync(RedisKey key, CancellationToken cancellationToken) =>
        _executor.ExecuteAsync(_operation, idempotent: true, static (db, k) => db.StringGetAsync(k), key, cancellationToken);

    private async Task FlushAsync()
    {
        List<PendingRead> batch;
        lock (_gate)
        {
            batch = _open;
            _open = [];
            _flushQueued = false;
            Interlocked.Increment(ref _inFlight);
        }

        try
        {
            var multiplexer = _executor.Pool.RentMultiplexer();
            var groups = Group(batch, key => multiplexer.HashSlot(key));
            await (groups.Count == 1 ? ReadGroupAsync(groups[0]) : Task.WhenAll(groups.Select(ReadGroupAsync)));
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ReadGroupAsync(ArraySegment<PendingRead> group)
    {
        try
        {
            if (group.Count == 1)
            {
                group[0].Complete(await GetAloneAsync(group[0].Key, CancellationToken.None));
                return;
            }

            var keys = new RedisKey[group.Count];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = group[i].Key;
            }

            // The batch serves several callers: one caller's cancellation must not cancel it (each caller stops
            // waiting on its own token).
            Interlocked.Add(ref _combinedReads, keys.Length);
            _metrics.RecordReadsCombined(_operation, keys.Length);
            var values = await _executor.ExecuteAsync(_operation, idempotent: true, static (db, k) => db.StringGetAsync(k), keys, CancellationToken.None);
            for (var i = 0; i < keys.Length; i++)
            {
                group[i].Complete(values[i]);
            }
        }
#pragma warning disable CA1031 // Every failure goes to the callers the read served.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var read in group)
            {
                read.Fail(ex);
            }
        }
    }

    /// <summary>
    /// The batch in commands: one per hash slot (a cluster refuses MGET across slots; a standalone server has no
    /// slots, so everything goes in one), at most <see cref="MaxKeysPerCommand"/> keys each.
    /// </summary>
    internal static List<ArraySegment<PendingRead>> Group(List<PendingRead> batch, Func<RedisKey, int> slotOf)
    {
        var reads = batch.ToArray();
        var slot = slotOf(reads[0].Key);
        var oneSlot = true;
        foreach (var read in reads)
        {
            read.Slot = slotOf(read.Key);
            oneSlot &= read.Slot == slot;
        }

        if (!oneSlot)
        {
            // Stable, so each slot's reads keep their arrival order.
            reads = [.. reads.OrderBy(static r => r.Slot)];
        }

        var groups = new List<ArraySegment<PendingRead>>(1);
        var start = 0;
        for (var i = 1; i <= reads.Length; i++)
        {
            if (i == reads.Length || reads[i].Slot != reads[start].Slot || i - start == MaxKeysPerCommand)
            {
                groups.Add(new ArraySegment<PendingRead>(reads, start, i - start));
                start = i;
            }
        }

        return groups;
    }

    /// <summary>A read waiting for its batch.</summary>
    internal sealed class PendingRead(RedisKey key)
    {
        private CancellationTokenRegistration _registration;

        public RedisKey Key { get; } = key;

        public int Slot { get; set; }

        public TaskCompletionSource<RedisValue> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// Ends the caller's wait when <paramref name="cancellationToken"/> is canceled (the batch goes on for the others).
        /// A registration rather than <c>WaitAsync</c>: no second task, no second continuation per read.
        /// </summary>
        public void StopWaitingOn(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return;
            }

            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((PendingRead)state!).Completion.TrySetCanceled(token), this);

            // Completed before the registration was stored: Complete/Fail may have missed it.
            if (Completion.Task.IsCompleted)
            {
                _registration.Dispose();
            }
        }

        public void Complete(RedisValue value)
        {
            Completion.TrySetResult(value);
            _registration.Dispose();
        }

        public void Fail(Exception exception)
        {
            Completion.TrySetException(exception);
            _registration.Dispose();
        }
    }
}
