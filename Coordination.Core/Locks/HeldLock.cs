namespace Coordination;

/// <summary>
/// A hold this process has on a lock, shared by the handles of its re-entries: its renewal watchdog, its local
/// validity estimate and its lost token. Active until released (every handle released) or lost.
/// </summary>
/// <remarks>
/// Validity: each acquire or renewal that succeeds moves the local deadline to (time the call was sent) + (time to
/// live) - (drift margin), on the monotonic clock. Measuring from the send time, not the answer, keeps the estimate
/// on the safe side of the server's expiry whatever the latency. When the deadline passes without a renewal, the
/// hold is lost: by then Redis may have expired it and admitted someone else.
/// </remarks>
#pragma warning disable CA1001 // The lost token is handed to callers and must stay usable after the hold ends; the sources own no timer or handle.
internal sealed class HeldLock
#pragma warning restore CA1001
{
    private const int Active = 0;
    private const int Released = 1;
    private const int Lost = 2;

    private readonly RedisLockManager _manager;
    private readonly TimeProvider _time;
    private readonly double _driftFactor;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource? _stopping;
    private readonly Lock _gate = new();
    private readonly ITimer _validityTimer;
    private TimeSpan _timeToLive;
    private long _validUntil;
    private long _expiresAt;
    private int _handles;
    private int _state;

    // The hold's value while it is in the fast layout, as far as this process knows: null once adopted into the general
    // one (a re-entry or renewal here adopts it; another process may too, which the fast release detects).
    private string? _fastHold;

    public HeldLock(RedisLockManager manager, LockRequest request, AcquireOutcome outcome, long sentTimestamp)
    {
        _manager = manager;
        _time = manager.Runtime.Time;
        _driftFactor = manager.Runtime.Options.ClockDriftFactor;
        Kind = request.Kind;
        Keys = request.Keys;
        Token = outcome.Token;
        Owner = request.Owner;
        FencingToken = outcome.FencingToken;
        Level = request.Settings.Level;
        AutoRenew = request.Settings.AutoRenew;
        ReleasesAllCounts = request.Reentry != Reentry.ByOwner;
        Epoch = request.Epoch;
        AcquiredTimestamp = sentTimestamp;
        _timeToLive = request.Settings.TimeToLive;
        _expiresAt = outcome.ExpiresAtMilliseconds;
        _validUntil = ValidUntil(sentTimestamp, _timeToLive);
        _fastHold = outcome.FastHold;

        // Only the renewal watchdog waits on it.
        _stopping = AutoRenew ? new CancellationTokenSource() : null;
        _validityTimer = _time.CreateTimer(static state => ((HeldLock)state!).OnValidityTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public LockKind Kind { get; }

    /// <summary>When the acquisition that created the hold was sent (<see cref="TimeProvider.GetTimestamp"/>), for the node reports' oldest hold.</summary>
    public long AcquiredTimestamp { get; }

    public LockKeys Keys { get; }

    public string Name => Keys.Name;

    public string Token { get; }

    public string Owner { get; }

    public long FencingToken { get; }

    public int? Level { get; }

    public bool AutoRenew { get; }

    /// <summary>
    /// Whether releasing the last local handle releases every count in Redis. Not for holds of a named owner: their
    /// re-entries may be counted by other processes too.
    /// </summary>
    public bool ReleasesAllCounts { get; }

    /// <summary>The primary epoch the hold was taken in.</summary>
    public long Epoch { get; }

    public bool IsActive => Volatile.Read(ref _state) == Active;

    public CancellationToken LostToken => _lost.Token;

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _expiresAt));

    /// <summary>The time left on the local validity estimate (negative once passed).</summary>
    public TimeSpan Validity => _time.GetElapsedTime(_time.GetTimestamp(), Interlocked.Read(ref _validUntil));

    public void Start()
    {
        ScheduleValidityTimer();
        if (AutoRenew)
        {
            _ = Task.Run(RenewLoopAsync);
        }
    }

    public void AddHandle() => Interlocked.Increment(ref _handles);

    /// <summary>A re-entry moved the expiry (never earlier).</summary>
    public void OnEntered(AcquireOutcome outcome, long sentTimestamp)
    {
        Volatile.Write(ref _fastHold, null);
        lock (_gate)
        {
            if (outcome.ExpiresAtMilliseconds > Interlocked.Read(ref _expiresAt))
            {
                Interlocked.Exchange(ref _expiresAt, outcome.ExpiresAtMilliseconds);
                Interlocked.Exchange(ref _validUntil, Math.Max(Interlocked.Read(ref _validUntil), ValidUntil(sentTimestamp, _timeToLive)));
            }
        }

        ScheduleValidityTimer();
    }

    /// <summary>An extension sent at <paramref name="sentTimestamp"/> succeeded (here or by token from elsewhere in this process).</summary>
    public void OnRenewed(long sentTimestamp, long expiresAt, TimeSpan timeToLive)
    {
        Volatile.Write(ref _fastHold, null);
        lock (_gate)
        {
            if (!IsActive)
            {
                return;
            }

            _timeToLive = timeToLive;
            Interlocked.Exchange(ref _expiresAt, expiresAt);
            Interlocked.Exchange(ref _validUntil, ValidUntil(sentTimestamp, timeToLive));
        }

        ScheduleValidityTimer();
    }

    public async ValueTask<DateTimeOffset> ExtendAsync(TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        var ttl = timeToLive ?? _timeToLive;
        CoordinationLimits.ValidateTimeToLive(ttl, nameof(timeToLive));
        if (!IsActive)
        {
            throw ExceptionFactory.LockNotHeld(Name);
        }

        var sent = _time.GetTimestamp();
        var expiresAt = await _manager.ExtendCoreAsync(Keys, Token, ttl, cancellationToken);
        if (expiresAt < 0)
        {
            MarkLost(LockLostReason.RenewalRejected);
            throw ExceptionFactory.LockNotHeld(Name);
        }

        OnRenewed(sent, expiresAt, ttl);
        return ExpiresAt;
    }

    /// <summary>
    /// Releases one handle's count. The last local handle stops the renewal first, whatever Redis answers. When Redis
    /// cannot be reached: throws <see cref="CoordinationUnavailableException"/> if <paramref name="throwWhenUnavailable"/>,
    /// else logs it (a dispose; in one frame with the release rather than a wrapper around it).
    /// </summary>
    public async ValueTask ReleaseOneAsync(bool throwWhenUnavailable, CancellationToken cancellationToken)
    {
        var last = Interlocked.Decrement(ref _handles) <= 0;
        if (!IsActive)
        {
            return;
        }

        if (last)
        {
            End(Released);
        }

        long left;
        try
        {
            (left, _) = await _manager.ReleaseCoreAsync(Keys, Token, last && ReleasesAllCounts, Volatile.Read(ref _fastHold), cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (!throwWhenUnavailable)
        {
            OnReleaseFailed(ex);
            return;
        }

        if (!last && left <= 0)
        {
            // Redis has no count left for handles this process still has: the hold expired or was released by token.
            MarkLost(LockLostReason.RenewalRejected);
        }
    }

    /// <summary>Releases every count at shutdown (renewal stops first, whatever Redis answers).</summary>
    public async Task ReleaseAtShutdownAsync(CancellationToken cancellationToken)
    {
        if (End(Released))
        {
            await _manager.ReleaseCoreAsync(Keys, Token, all: ReleasesAllCounts, Volatile.Read(ref _fastHold), cancellationToken);
        }
    }

    /// <summary>A handle's release could not reach Redis (logged by its dispose): the hold expires with its time to live.</summary>
    public void OnReleaseFailed(CoordinationUnavailableException exception) => LocksLog.ReleaseFailed(_manager.Logger, exception.Reason, exception);

    /// <summary>
    /// Reports the hold lost (once): stops the renewal, cancels <see cref="LostToken"/>, raises the lock-lost event
    /// when <paramref name="report"/>, and asks Redis to drop the hold in case it still has it (a renewal applied
    /// after the client gave up on it would otherwise keep others out for another time to live).
    /// </summary>
    public void MarkLost(LockLostReason reason, bool report = true)
    {
        if (!End(Lost))
        {
            return;
        }

        // The token first: whoever handles the lock-lost event sees the handle lost already.
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException ex)
        {
            LocksLog.LostCallbackFailed(_manager.Logger, ex);
        }

        if (report)
        {
            _manager.ReportLost(this, reason);
        }
        else
        {
            LocksLog.LockExpired(_manager.Logger, _manager.Tenant, Name);
        }

        _manager.ReleaseInBackground(Keys, Token);
    }

    private bool End(int state)
    {
        if (Interlocked.CompareExchange(ref _state, state, Active) != Active)
        {
            return false;
        }

        _stopping?.Cancel();
        _validityTimer.Dispose();
        _manager.Untrack(this);
        return true;
    }

    private long ValidUntil(long sentTimestamp, TimeSpan timeToLive)
    {
        var validity = timeToLive - LockRules.ValidityMargin(timeToLive, _driftFactor);
        return sentTimestamp + (long)(validity.TotalSeconds * _time.TimestampFrequency);
    }

    private void ScheduleValidityTimer()
    {
        var due = Validity;
        try
        {
            _validityTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Ended meanwhile.
        }
    }

    private void OnValidityTimer()
    {
        if (!IsActive)
        {
            return;
        }

        if (Validity > TimeSpan.Zero)
        {
            // A renewal moved the deadline after this firing was scheduled.
            ScheduleValidityTimer();
            return;
        }

        // Without renewal, reaching the time to live is the expected end of the hold, not an incident.
        MarkLost(LockLostReason.ValidityExpired, report: AutoRenew);
    }

    private async Task RenewLoopAsync()
    {
        var stopping = _stopping!.Token;
        var delay = LockRules.RenewInterval(_timeToLive);
        while (true)
        {
            try
            {
                await Task.Delay(delay, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var ttl = _timeToLive;
            var sent = _time.GetTimestamp();
            try
            {
                var expiresAt = await _manager.ExtendCoreAsync(Keys, Token, ttl, stopping);
                if (expiresAt < 0)
                {
                    MarkLost(LockLostReason.RenewalRejected);
                    return;
                }

                OnRenewed(sent, expiresAt, ttl);
                delay = LockRules.RenewInterval(ttl);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (CoordinationUnavailableException ex)
            {
                // Not lost yet: the validity timer decides that, when the time to live has passed.
                LocksLog.RenewalFailed(_manager.Logger, ex.Reason, ex);
                delay = LockRules.RenewRetryDelay(ttl);
            }
        }
    }
}
