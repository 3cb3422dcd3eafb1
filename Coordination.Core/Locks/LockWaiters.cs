using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Wakes the waiters of this process when a lock they wait for is released: one subscription to the release
/// channel for the whole process (not one per lock, not one per waiter), fanned out in process by lock key.
/// </summary>
/// <remarks>
/// A message wakes every waiting reader of the lock, the fair waiter at the head of the lock's FIFO queue, and one
/// other waiter (the longest waiting one not already woken): more would only race for a lock one of them can get.
/// Pub/sub delivers at most once, so waiters also re-check on their own (<see cref="LockManagerOptions.RecheckInterval"/>).
/// When the pool replaces or closes the subscribed connection, the next waiter subscribes again on another one.
/// </remarks>
internal sealed class LockWaiters : IAsyncDisposable
{
    private readonly RedisConnectionPool _pool;
    private readonly RedisChannel _channel;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, WaiterQueue> _queues = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Action<RedisChannel, RedisValue> _handler;
    private IConnectionMultiplexer? _subscribedOn;
    private long _messages;
    private int _disposed;

    public LockWaiters(RedisConnectionPool pool, string channel, TimeSpan timeout, ILogger logger)
    {
        _pool = pool;
        _channel = RedisChannel.Literal(channel);
        _timeout = timeout;
        _logger = logger;
        _handler = (_, message) => OnMessage(message);
    }

    /// <summary>Release messages received (all locks of the key prefix).</summary>
    public long MessagesReceived => Interlocked.Read(ref _messages);

    /// <summary>Locks that have waiters in this process right now.</summary>
    public int WaitedLocks => _queues.Count;

    /// <summary>The connection the subscription is on, when there is one.</summary>
    public IConnectionMultiplexer? SubscribedOn => Volatile.Read(ref _subscribedOn);

    /// <summary>Subscribes to the release channel unless already subscribed on a connection the pool still has.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis could not be reached.</exception>
    public async ValueTask EnsureSubscribedAsync(CancellationToken cancellationToken)
    {
        if (IsCurrent(Volatile.Read(ref _subscribedOn)))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (IsCurrent(_subscribedOn))
            {
                return;
            }

            var multiplexer = _pool.RentMultiplexer();
            var subscriber = multiplexer.GetSubscriber();
            try
            {
                await subscriber.SubscribeAsync(_channel, _handler).WaitAsync(_timeout, cancellationToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // A subscription that completes after the timeout would deliver twice once we subscribe again.
                _ = subscriber.UnsubscribeAsync(_channel, _handler, CommandFlags.FireAndForget);
                throw ExceptionFactory.Unavailable("lock.subscribe", ex);
            }

            Volatile.Write(ref _subscribedOn, multiplexer);
            LocksLog.Subscribed(_logger, _channel.ToString());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether callers of this process wait for the lock <paramref name="key"/>.</summary>
    public bool IsWaitedFor(string key)
    {
        if (!_queues.TryGetValue(key, out var queue))
        {
            return false;
        }

        lock (queue)
        {
            return queue.Waiters.Count > 0;
        }
    }

    /// <summary>Adds a waiter for the lock <paramref name="key"/> (its holds' hash key), woken by its release messages.</summary>
    public LockWaiter Register(string key, bool shared)
    {
        while (true)
        {
            var queue = _queues.GetOrAdd(key, static k => new WaiterQueue(k));
            lock (queue)
            {
                if (!queue.Removed)
                {
                    var waiter = new LockWaiter(this, queue, shared);
                    queue.Waiters.Add(waiter);
                    return waiter;
                }
            }
        }
    }

    /// <summary>
    /// Removes a waiter. When it had been woken but leaves without using the wake (timeout, cancel, error), the wake
    /// goes to another waiter of the lock, so it is not lost.
    /// </summary>
    public void Unregister(LockWaiter waiter, bool passOnWake)
    {
        var queue = waiter.Queue;
        lock (queue)
        {
            queue.Waiters.Remove(waiter);
            if (passOnWake && waiter.IsSignaled)
            {
                WakeOne(queue);
            }

            if (queue.Waiters.Count == 0)
            {
                queue.Removed = true;
                _queues.TryRemove(new KeyValuePair<string, WaiterQueue>(queue.Key, queue));
            }
        }
    }

    /// <summary>Wakes the waiters of <paramref name="key"/> a release of it lets in (see the remarks of the class).</summary>
    public void Notify(string key, long headArrival)
    {
        if (!_queues.TryGetValue(key, out var queue))
        {
            return;
        }

        lock (queue)
        {
            var wokeOne = false;
            foreach (var waiter in queue.Waiters)
            {
                if (waiter.Shared || (headArrival != 0 && waiter.ArrivalNumber == headArrival))
                {
                    waiter.Signal();
                }
                else if (!wokeOne && waiter.ArrivalNumber == 0)
                {
                    wokeOne = waiter.Signal();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var multiplexer = Volatile.Read(ref _subscribedOn);
        if (multiplexer is not null && _pool.Contains(multiplexer) && multiplexer.IsConnected)
        {
            try
            {
                await multiplexer.GetSubscriber().UnsubscribeAsync(_channel, _handler).WaitAsync(_timeout);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                // The connection closes right after; the server drops the subscription with it.
            }
        }

        _gate.Dispose();
    }

    private bool IsCurrent(IConnectionMultiplexer? multiplexer) => multiplexer is not null && _pool.Contains(multiplexer);

    private static void WakeOne(WaiterQueue queue)
    {
        foreach (var waiter in queue.Waiters)
        {
            if (!waiter.Shared && waiter.Signal())
            {
                return;
            }
        }
    }

    /// <summary>Handles a release message: "fence|head arrival|key" (the key may contain '|', the numbers cannot).</summary>
    internal void OnMessage(RedisValue message)
    {
        Interlocked.Increment(ref _messages);
        var text = (string?)message;
        var first = text?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        var second = first < 0 ? -1 : text!.IndexOf('|', first + 1);
        if (second < 0 || !long.TryParse(text.AsSpan(first + 1, second - first - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var head))
        {
            return;
        }

        Notify(text![(second + 1)..], head);
    }

    internal sealed class WaiterQueue(string key)
    {
        public string Key { get; } = key;

        public List<LockWaiter> Waiters { get; } = [];

        public bool Removed { get; set; }
    }
}

/// <summary>One caller waiting for a lock: a signal it re-arms before each attempt, so a wake that arrives during the attempt is kept.</summary>
internal sealed class LockWaiter
{
    private readonly LockWaiters _owner;
    private TaskCompletionSource _signal = NewSignal();
    private long _arrivalNumber;

    internal LockWaiter(LockWaiters owner, LockWaiters.WaiterQueue queue, bool shared)
    {
        _owner = owner;
        Queue = queue;
        Shared = shared;
    }

    internal LockWaiters.WaiterQueue Queue { get; }

    /// <summary>Whether the waiter wants a shared hold (every release wakes every shared waiter).</summary>
    public bool Shared { get; }

    /// <summary>The waiter's place in the lock's fair queue (0 when it does not wait fairly).</summary>
    public long ArrivalNumber
    {
        get => Interlocked.Read(ref _arrivalNumber);
        set => Interlocked.Exchange(ref _arrivalNumber, value);
    }

    public bool IsSignaled => Volatile.Read(ref _signal).Task.IsCompleted;

    /// <summary>Re-arms the signal before an attempt: a wake from now on is for the state after the attempt.</summary>
    public void Reset()
    {
        if (Volatile.Read(ref _signal).Task.IsCompleted)
        {
            Volatile.Write(ref _signal, NewSignal());
        }
    }

    /// <summary>Wakes the waiter; <see langword="false"/> when it was already woken and has not attempted since.</summary>
    public bool Signal() => Volatile.Read(ref _signal).TrySetResult();

    /// <summary>Waits for a wake, at most <paramref name="timeout"/>; returns whether it was woken.</summary>
    public async ValueTask<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _signal).Task;
        if (signal.IsCompleted)
        {
            return true;
        }

        try
        {
            await signal.WaitAsync(timeout, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Dispose(bool passOnWake) => _owner.Unregister(this, passOnWake);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
