using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Runs single-key Redis calls on their own while fewer than a bound of them are outstanding; beyond that, calls join
/// an open batch that is sent as one command per hash slot on the thread pool's next turn. A lone caller never waits
/// for a batch, and a batch never waits for a round trip; under load each command carries many keys, which costs Redis
/// and the client far less per key than one command each.
/// </summary>
/// <remarks>
/// A combined command is sent after every call it serves was made, and a slot's calls keep their arrival order in it,
/// so each caller still sees every write that completed before its call began.
/// </remarks>
/// <typeparam name="TRequest">What one call asks for.</typeparam>
/// <typeparam name="TResult">What one call answers.</typeparam>
internal abstract class RedisCallCombiner<TRequest, TResult>
{
    private const int MaxKeysPerCommand = 512;

    private readonly int _maxInFlight;
    private readonly Lock _gate = new();
    private List<Pending> _open = [];
    private List<Pending> _lingering = [];
    private bool _flushQueued;
    private bool _lingerQueued;
    private int _inFlight;
    private long _combined;

    /// <param name="executor">Runs the calls.</param>
    /// <param name="maxInFlight">Calls in flight before further calls are combined; 0 never combines.</param>
    protected RedisCallCombiner(RedisExecutor executor, int maxInFlight)
    {
        Executor = executor;
        _maxInFlight = maxInFlight;
    }

    /// <summary>Calls that went out combined with others, since start.</summary>
    internal long Combined => Interlocked.Read(ref _combined);

    protected RedisExecutor Executor { get; }

    /// <summary>The key <paramref name="request"/> is about (batches are cut by its hash slot).</summary>
    protected abstract RedisKey KeyOf(TRequest request);

    /// <summary>Runs one call on its own.</summary>
    protected abstract ValueTask<TResult> RunAloneAsync(TRequest request, CancellationToken cancellationToken);

    /// <summary>Runs at least two calls of one hash slot as one command; the answers in the same order.</summary>
    protected abstract Task<TResult[]> RunCombinedAsync(ArraySegment<Pending> group);

    /// <summary>Counts <paramref name="calls"/> combined into one command.</summary>
    protected abstract void RecordCombined(int calls);

    /// <summary>Runs <paramref name="request"/>, alone or combined with others.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    protected ValueTask<TResult> RunAsync(TRequest request, CancellationToken cancellationToken)
    {
        if (_maxInFlight == 0)
        {
            return RunAloneAsync(request, cancellationToken);
        }

        Pending? pending = null;
        var queueFlush = false;
        lock (_gate)
        {
            if (Volatile.Read(ref _inFlight) < _maxInFlight)
            {
                Interlocked.Increment(ref _inFlight);
            }
            else
            {
                pending = new Pending(request, KeyOf(request));
                _open.Add(pending);
                queueFlush = !_flushQueued;
                _flushQueued = true;
            }
        }

        if (pending is null)
        {
            return RunOneAsync(request, cancellationToken);
        }

        if (queueFlush)
        {
            // The global queue: the flush runs after the work already queued here, whose calls then join the batch.
            ThreadPool.UnsafeQueueUserWorkItem(static combiner => _ = combiner.FlushAsync(), this, preferLocal: false);
        }

        pending.StopWaitingOn(cancellationToken);
        return new ValueTask<TResult>(pending.Completion.Task);
    }

    /// <summary>
    /// Runs <paramref name="request"/> in a batch sent <paramref name="linger"/> after the first call of the batch, with
    /// every call made this way meanwhile, whatever is in flight: for calls nobody waits for, where a short delay buys
    /// fewer, larger commands. Not cancelable (the batch serves several calls).
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    protected ValueTask<TResult> RunLaterAsync(TRequest request, TimeSpan linger, int maxBatch)
    {
        var pending = new Pending(request, KeyOf(request));
        var schedule = false;
        List<Pending>? full = null;
        lock (_gate)
        {
            _lingering.Add(pending);
            if (_lingering.Count >= maxBatch)
            {
                // Full: sent now, so that no batch makes Redis (and the commands queued behind it) wait long.
                full = _lingering;
                _lingering = [];
                Interlocked.Increment(ref _inFlight);
            }
            else if (!_lingerQueued)
            {
                schedule = true;
                _lingerQueued = true;
            }
        }

        if (full is not null)
        {
            _ = RunBatchAsync(full);
        }
        else if (schedule)
        {
            _ = FlushLingeringAsync(linger);
        }

        return new ValueTask<TResult>(pending.Completion.Task);
    }

    private async Task FlushLingeringAsync(TimeSpan linger)
    {
        await Task.Delay(linger).ConfigureAwait(false);
        List<Pending> batch;
        lock (_gate)
        {
            batch = _lingering;
            _lingering = [];
            _lingerQueued = false;
            if (batch.Count == 0)
            {
                return;
            }

            Interlocked.Increment(ref _inFlight);
        }

        await RunBatchAsync(batch);
    }

    private async ValueTask<TResult> RunOneAsync(TRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAloneAsync(request, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task FlushAsync()
    {
        List<Pending> batch;
        lock (_gate)
        {
            batch = _open;
            _open = [];
            _flushQueued = false;
            Interlocked.Increment(ref _inFlight);
        }

        await RunBatchAsync(batch);
    }

    /// <summary>Sends <paramref name="batch"/> (counted in flight by the caller) as one command per hash slot.</summary>
    private async Task RunBatchAsync(List<Pending> batch)
    {
        try
        {
            var multiplexer = Executor.Pool.RentMultiplexer();
            var groups = Group(batch, key => multiplexer.HashSlot(key));
            await (groups.Count == 1 ? RunGroupAsync(groups[0]) : Task.WhenAll(groups.Select(RunGroupAsync)));
        }
#pragma warning disable CA1031 // No connection to send on (the pool is not started or closed): every caller learns it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var pending in batch)
            {
                pending.Fail(ex);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task RunGroupAsync(ArraySegment<Pending> group)
    {
        try
        {
            if (group.Count == 1)
            {
                group[0].Complete(await RunAloneAsync(group[0].Request, CancellationToken.None));
                return;
            }

            // The batch serves several callers: one caller's cancellation must not cancel it (each caller stops
            // waiting on its own token).
            Interlocked.Add(ref _combined, group.Count);
            RecordCombined(group.Count);
            var results = await RunCombinedAsync(group);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Complete(results[i]);
            }
        }
#pragma warning disable CA1031 // Every failure goes to the callers the command served.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var pending in group)
            {
                pending.Fail(ex);
            }
        }
    }

    /// <summary>
    /// The batch in commands: one per hash slot (a cluster refuses multi-key commands across slots; a standalone server
    /// has no slots, so everything goes in one), at most <see cref="MaxKeysPerCommand"/> keys each, arrival order kept.
    /// </summary>
    internal static List<ArraySegment<Pending>> Group(List<Pending> batch, Func<RedisKey, int> slotOf)
    {
        var calls = batch.ToArray();
        var slot = slotOf(calls[0].Key);
        var oneSlot = true;
        foreach (var call in calls)
        {
            call.Slot = slotOf(call.Key);
            oneSlot &= call.Slot == slot;
        }

        if (!oneSlot)
        {
            // Stable, so each slot's calls keep their arrival order.
            calls = [.. calls.OrderBy(static c => c.Slot)];
        }

        var groups = new List<ArraySegment<Pending>>(1);
        var start = 0;
        for (var i = 1; i <= calls.Length; i++)
        {
            if (i == calls.Length || calls[i].Slot != calls[start].Slot || i - start == MaxKeysPerCommand)
            {
                groups.Add(new ArraySegment<Pending>(calls, start, i - start));
                start = i;
            }
        }

        return groups;
    }

    /// <summary>A call waiting for its batch.</summary>
    internal sealed class Pending(TRequest request, RedisKey key)
    {
        private CancellationTokenRegistration _registration;

        public TRequest Request { get; } = request;

        public RedisKey Key { get; } = key;

        public int Slot { get; set; }

        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// Ends the caller's wait when <paramref name="cancellationToken"/> is canceled (the batch goes on for the others).
        /// A registration rather than <c>WaitAsync</c>: no second task, no second continuation per call.
        /// </summary>
        public void StopWaitingOn(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return;
            }

            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((Pending)state!).Completion.TrySetCanceled(token), this);

            // Completed before the registration was stored: Complete/Fail may have missed it.
            if (Completion.Task.IsCompleted)
            {
                _registration.Dispose();
            }
        }

        public void Complete(TResult value)
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
