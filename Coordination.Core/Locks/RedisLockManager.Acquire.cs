using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

internal sealed partial class RedisLockManager
{
    /// <summary>
    /// Validates a handle acquisition and settles its owner and re-entry, synchronously in the caller's frame (see
    /// <see cref="LockFlow"/>). Checks the hierarchy before anything reaches Redis.
    /// </summary>
    private LockRequest Prepare(LockKind kind, string name, LockOptions? options, int permits, TimeSpan defaultWait, bool checkHierarchy = true)
    {
        CoordinationKey.ValidateName(name, nameof(name));
        if (kind == LockKind.Semaphore)
        {
            LockRules.ValidatePermits(permits);
        }

        var settings = LockRules.Resolve(options, _options, defaultWait);
        var keys = _keys.Get(kind == LockKind.Semaphore ? _namespace.Semaphore : _namespace.Lock, name);
        var request = new LockRequest(kind, keys, settings, permits, tracked: true);
        if (settings.Owner is { } owner)
        {
            request.Owner = owner;
            request.Reentry = kind == LockKind.Semaphore ? Reentry.None : ReentryByOwner(settings);
            if (checkHierarchy && settings.Level is { } level && !HoldsByOwner(keys.Base, owner))
            {
                CheckHierarchy(owner, name, level);
            }

            return request;
        }

        if (kind != LockKind.Semaphore && FindFlowReentry(kind, keys) is { } entry)
        {
            // Re-entering a hold of this flow: same owner, same token, counted; no hierarchy question.
            request.Owner = entry.Owner;
            request.Reentry = Reentry.ByToken;
            request.ReenterHold = entry.Hold;
            request.Token = entry.Hold!.Token;
            request.Flow = entry;
            return request;
        }

        if (checkHierarchy && settings.Level is { } requested && LockFlow.LiveOwner() is { } liveOwner)
        {
            CheckHierarchy(liveOwner, name, requested);
        }

        request.Flow = LockFlow.Enter(this, keys.Base, LockRuntime.NewOwner);
        request.Owner = request.Flow.Owner;
        return request;
    }

    private FlowEntry? FindFlowReentry(LockKind kind, LockKeys keys)
    {
        FlowEntry? read = null;
        foreach (var entry in LockFlow.Entries)
        {
            if (!entry.IsLiveHoldOf(this, keys.Base))
            {
                continue;
            }

            if (entry.Hold!.Kind == LockKind.Exclusive)
            {
                // Writing includes reading: a read inside the flow's write lock re-enters the write hold.
                return entry;
            }

            read ??= entry;
        }

        if (read is not null && kind == LockKind.Exclusive)
        {
            throw new LockRecursionException("The read lock is held by this flow: upgrading to the write lock is not supported (release the read lock first).");
        }

        return read;
    }

    private LockRequest PrepareLease(string name, LockOptions? options)
    {
        var keys = LockKeysOf(name);
        var settings = LockRules.Resolve(options, _options, TimeSpan.Zero);
        if (settings.AutoRenew || settings.Level is not null)
        {
            throw new ArgumentException("AutoRenew and Level do not apply to leases: the holder extends a lease by token and no process tracks its levels.", nameof(options));
        }

        return new LockRequest(LockKind.Exclusive, keys, settings, 1, tracked: false)
        {
            Owner = settings.Owner ?? LockRuntime.NewOwner(),
            Reentry = settings.Owner is null ? Reentry.None : ReentryByOwner(settings),
        };
    }

    private static Reentry ReentryByOwner(LockSettings settings) =>
        settings.ReentryToken is null ? Reentry.ByOwner : Reentry.ByOwnerWithToken;

    private LockRequest[] PrepareAll(IEnumerable<string> names, LockOptions? options, TimeSpan defaultWait)
    {
        var ordered = LockRules.CanonicalOrder(names);
        var requests = new List<LockRequest>(ordered.Length);
        try
        {
            // The set shares one level: it is checked once against what the owner held before, not member by member.
            foreach (var name in ordered)
            {
                requests.Add(Prepare(LockKind.Exclusive, name, options, 1, defaultWait, checkHierarchy: requests.Count == 0));
            }
        }
        catch
        {
            // Members already recorded in the flow would otherwise stay pending (and keep the flow's owner) forever.
            requests.ForEach(r => r.Flow?.Fail());
            throw;
        }

        return [.. requests];
    }

    private bool HoldsByOwner(string key, string owner) =>
        _holds.Values.Any(h => h.Owner == owner && h.Keys.Base == key && h.IsActive);

    private void CheckHierarchy(string owner, string name, int level)
    {
        (string Name, int Level)? violation;
        lock (_levelsGate)
        {
            violation = _levels.TryGetValue(owner, out var held)
                ? LockRules.FindHierarchyViolation(level, held.Where(h => h.IsActive).Select(h => (h.Name, h.Level!.Value)))
                : null;
        }

        if (violation is not { } found)
        {
            return;
        }

        if (_options.HierarchyViolation == HierarchyViolationBehavior.Throw)
        {
            throw ExceptionFactory.HierarchyViolation(name, level, found.Name, found.Level);
        }

        LocksLog.HierarchyViolated(Logger, level, found.Level);
        LocksLog.HierarchyViolatedDetail(Logger, Tenant, name, level, found.Name, found.Level);
    }

    private ValueTask<ILockHandle?> AcquireHandleAsync(LockRequest request, bool throwOnTimeout, CancellationToken cancellationToken) =>
        AcquireAsync(request, throwOnTimeout, static (manager, request, acquired) => (ILockHandle)manager.Track(request, acquired), cancellationToken);

    /// <summary>
    /// Takes the lock, or waits for it when asked, under the acquisition's span and metric, and hands the outcome to
    /// <paramref name="complete"/> (a handle, a lease, a token). A new exclusive hold that is not queued fairly first
    /// tries the fast path (lock_fast_acquire.lua): it takes a free lock with the fewest commands, and anything else
    /// (a holder to wait for, re-entry, fairness) is left to the general script. Not when others in this process
    /// already wait for the lock: it is taken, and the try would only cost a round trip. Returns
    /// <see langword="null"/> (or throws <see cref="LockTimeoutException"/>) when the lock is not free and the wait
    /// (if any) ran out.
    /// </summary>
    /// <remarks>
    /// One async frame for all of it: an uncontended acquisition's frames are a good part of its client cost.
    /// <paramref name="span"/> is false when the caller has its own span for the acquisition.
    /// </remarks>
    private async ValueTask<T?> AcquireAsync<T>(
        LockRequest request,
        bool throwOnTimeout,
        Func<RedisLockManager, LockRequest, AcquireOutcome, T> complete,
        CancellationToken cancellationToken,
        bool span = true)
        where T : class
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = span ? StartActivity("coordination lock.acquire", request.Name) : null;
        var result = "acquired";
        try
        {
            AcquireOutcome? outcome;
            if (request.Kind == LockKind.Exclusive && request.Reentry == Reentry.None && !request.Settings.Fair && !_runtime.Waiters.IsWaitedFor(request.Keys.Base))
            {
                await NoteEpochAsync(request);
                outcome = await RunAcquireScriptAsync(request, 0, fast: true, cancellationToken);
                if (outcome.Status != AcquireStatus.Acquired)
                {
                    // Not free: a waiting caller goes on with the general script, which records the wait (and learns
                    // whom it waits for) at once.
                    outcome = request.Settings.Waits ? await AcquireGeneralAsync(request, cancellationToken) : null;
                }
            }
            else
            {
                outcome = await AcquireGeneralAsync(request, cancellationToken);
            }

            if (outcome is not { } acquired)
            {
                result = request.Settings.Waits ? "timeout" : "busy";
                request.Flow?.Fail();
                return throwOnTimeout ? throw ExceptionFactory.LockTimeout(request.Name, request.Settings.WaitTimeout) : null;
            }

            return complete(this, request, acquired);
        }
        catch (Exception ex) when (ex is not LockTimeoutException)
        {
            result = Classify(ex);
            request.Flow?.Fail();
            throw;
        }
        finally
        {
            _runtime.Metrics.RecordLockAcquire(LockRules.MetricName(request.Kind), result, started);
        }
    }

    private async ValueTask<IMultiLockHandle?> AcquireAllCoreAsync(LockRequest[] requests, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var wait = requests[0].Settings.WaitTimeout;
        var handles = new List<RedisLockHandle>(requests.Length);
        var result = "acquired";
        try
        {
            foreach (var request in requests)
            {
                // One wait budget for the whole set.
                if (wait != Timeout.InfiniteTimeSpan)
                {
                    var left = wait - Stopwatch.GetElapsedTime(started);
                    request.Settings = request.Settings with { WaitTimeout = left > TimeSpan.Zero ? left : TimeSpan.Zero };
                }

                var handle = (RedisLockHandle?)await AcquireHandleAsync(request, throwOnTimeout: false, cancellationToken);
                if (handle is null)
                {
                    result = wait == TimeSpan.Zero ? "busy" : "timeout";
                    await AbandonAsync(handles, requests);
                    return throwOnTimeout ? throw ExceptionFactory.LockTimeout(request.Name, wait) : null;
                }

                handles.Add(handle);
            }

            return new RedisMultiLockHandle([.. handles]);
        }
        catch (Exception ex) when (ex is not LockTimeoutException)
        {
            result = Classify(ex);
            await AbandonAsync(handles, requests);
            throw;
        }
        finally
        {
            _runtime.Metrics.RecordLockAcquire("multi", result, started);
        }
    }

    private static async ValueTask AbandonAsync(List<RedisLockHandle> handles, LockRequest[] requests)
    {
        foreach (var request in requests)
        {
            request.Flow?.Fail();
        }

        try
        {
            await RedisMultiLockHandle.ReleaseAllAsync(handles, CancellationToken.None);
        }
        catch (CoordinationUnavailableException ex)
        {
            // The locks taken expire with their time to live; the original failure is what the caller needs.
            handles[0].Hold.OnReleaseFailed(ex);
        }
    }

    private RedisLockHandle Track(LockRequest request, AcquireOutcome outcome)
    {
        var sentTimestamp = outcome.SentTimestamp;
        var key = (request.Keys.Base, outcome.Token);
        HeldLock hold;
        if (request.ReenterHold is { } reentered && reentered.Token == outcome.Token)
        {
            hold = reentered;
            hold.OnEntered(outcome, sentTimestamp);
        }
        else
        {
            var created = new HeldLock(this, request, outcome, sentTimestamp);
            hold = _holds.GetOrAdd(key, created);
            if (ReferenceEquals(hold, created))
            {
                _runtime.Metrics.RecordLockHeld(1);
                if (hold.Level is not null)
                {
                    lock (_levelsGate)
                    {
                        if (!_levels.TryGetValue(hold.Owner, out var held))
                        {
                            _levels[hold.Owner] = held = [];
                        }

                        held.Add(hold);
                    }
                }

                hold.Start();
            }
            else
            {
                // A named owner re-entered a hold this process already tracks.
                hold.OnEntered(outcome, sentTimestamp);
            }
        }

        hold.AddHandle();
        request.Flow?.Complete(hold);
        if (_options.LoseLocksOnPrimaryChange && _runtime.Primary.Epoch != request.Epoch)
        {
            // The primary changed while the lock was being taken: which primary granted it is unknown.
            hold.MarkLost(LockLostReason.PrimaryChanged);
        }

        return new RedisLockHandle(hold);
    }

    /// <summary>Settles the primary epoch the acquisition starts in (see <see cref="Track"/>).</summary>
    private async ValueTask NoteEpochAsync(LockRequest request)
    {
        if (request.Tracked && _options.LoseLocksOnPrimaryChange)
        {
            await _runtime.Primary.EnsureBaselineAsync();
            request.Epoch = _runtime.Primary.Epoch;
        }
    }

    /// <summary>
    /// Tries, and waits when asked: each refused attempt records the caller as a waiter of the lock (at most
    /// <see cref="LockManagerOptions.MaxWaitersPerLock"/>) and of the tenant (at most
    /// <see cref="LockManagerOptions.MaxWaitersPerTenant"/>, with its edge in the wait-for graph), then sleeps until a
    /// release message, the blocking holds' expiry or the re-check interval, whichever is first; the interval doubles
    /// (up to <see cref="LockRules.MaxRecheckBackOff"/> times) while no message comes. Returns <see langword="null"/>
    /// when the wait runs out.
    /// </summary>
    private async ValueTask<AcquireOutcome?> AcquireGeneralAsync(LockRequest request, CancellationToken cancellationToken)
    {
        await NoteEpochAsync(request);

        var time = _runtime.Time;
        var wait = request.Settings.WaitTimeout;
        var started = time.GetTimestamp();
        var leaseMilliseconds = request.Settings.Waits ? (long)_runtime.WaiterLease.TotalMilliseconds : 0;
        var recheck = _options.RecheckInterval;
        LockWaiter? waiter = null;
        var graph = new GraphState();
        AcquireOutcome? acquired = null;
        var queued = false;
        try
        {
            if (request.Settings.Waits)
            {
                await _runtime.Waiters.EnsureSubscribedAsync(cancellationToken);
                waiter = _runtime.Waiters.Register(request.Keys.Base, request.Kind == LockKind.Read);
            }

            while (true)
            {
                waiter?.Reset();
                var outcome = await RunAcquireScriptAsync(request, leaseMilliseconds, fast: false, cancellationToken);
                switch (outcome.Status)
                {
                    case AcquireStatus.Acquired:
                        acquired = outcome;
                        return outcome;
                    case AcquireStatus.UpgradeRefused:
                        throw new LockRecursionException("The owner holds the read lock: upgrading to the write lock is not supported (release the read lock first).");
                    case AcquireStatus.ReentryGone:
                        // The hold this flow re-entered expired or was released elsewhere: it is lost; take the lock anew.
                        request.ReenterHold?.MarkLost(LockLostReason.RenewalRejected);
                        request.ReenterHold = null;
                        request.Reentry = Reentry.None;
                        request.Token = LockRuntime.NewToken();
                        continue;
                    case AcquireStatus.WaitersExceeded:
                        throw ExceptionFactory.WaitersExceeded(request.Name, LockWaiterLimit.Lock, _options.MaxWaitersPerLock);
                }

                if (waiter is null)
                {
                    return null;
                }

                queued = true;
                waiter.ArrivalNumber = outcome.ArrivalNumber;
                await RecordWaitAsync(request, outcome, graph, cancellationToken);

                var remaining = wait == Timeout.InfiniteTimeSpan ? recheck : wait - time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    return null;
                }

                await _runtime.Waiters.EnsureSubscribedAsync(cancellationToken);
                var woken = await waiter.WaitAsync(LockRules.NextSleep(remaining, recheck, outcome.RetryAfterMilliseconds), time, cancellationToken);
                recheck = LockRules.NextRecheck(recheck, _options.RecheckInterval, woken);
            }
        }
        finally
        {
            waiter?.Dispose(passOnWake: acquired is null);
            // A fair request may be queued by an attempt whose answer never arrived (cancelled, timed out): it leaves too.
            if (acquired is null && (queued || (waiter is not null && request.Settings.Fair)))
            {
                _runtime.RunInBackground(DequeueAsync(request));
            }

            if (graph.Recorded)
            {
                _runtime.RunInBackground(LeaveGraphAsync(request, acquired));
            }
        }
    }

    private async ValueTask<AcquireOutcome> RunAcquireScriptAsync(LockRequest request, long leaseMilliseconds, bool fast, CancellationToken cancellationToken)
    {
        var timeToLive = (long)Math.Ceiling(request.Settings.TimeToLive.TotalMilliseconds);
        var fencing = _runtime.Fencing;
        for (var resolved = 0; ; resolved++)
        {
            var sent = _runtime.Time.GetTimestamp();
            var clockReading = fast ? _runtime.Clock.Current(sent) : null;
            var epoch = fencing.Current;
            var arguments = AcquireArguments(request, timeToLive, leaseMilliseconds, fast, clockReading is null, fencing.Enabled ? epoch : null, fencing.Verify);
            var attempt = new AcquireAttempt(this, request.Keys, request.Token, arguments, fast, clockReading, sent, request.Settings.ReplicasToAcknowledge, epoch.Base);
            AcquireOutcome outcome;
            try
            {
                outcome = await _executor.ExecuteAsync("lock.acquire", request.Keys.Base, idempotent: false, static (db, a) => a.RunAsync(db), attempt, cancellationToken);
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
            {
                attempt.Abandon();
                throw;
            }

            if (outcome.Status == AcquireStatus.Unverified)
            {
                // The server is a life whose fencing epoch this node lacks (a restart or failover): nothing was taken.
                // Once its epoch is known the script re-seeds the counter in it; more than a few rounds means the
                // server keeps changing under the acquisition.
                if (resolved == MaxEpochResolutions)
                {
                    throw new CoordinationUnavailableException(
                        "The Redis server kept changing (restarts or failovers) while the lock was being acquired; no fencing token could be issued.",
                        UnavailableReason.ServerUnavailable);
                }

                await fencing.ResolveAsync(outcome.RunId!, cancellationToken);
                continue;
            }

            if (outcome.Status == AcquireStatus.Acquired && attempt.Acknowledged < request.Settings.ReplicasToAcknowledge)
            {
                // Fewer replicas than asked for have it: a failover could lose it, so it does not count.
                await ReleaseCoreAsync(request.Keys, outcome.Token, all: outcome.Count == 1, outcome.FastHold, CancellationToken.None);
                throw ExceptionFactory.ReplicasNotAcknowledged(request.Settings.ReplicasToAcknowledge, attempt.Acknowledged);
            }

            if (outcome.CreatedCounter && _runtime.MaxLockNamesPerTenant > 0 && ReferenceEquals(_namespace, LockNamespace.Tenant))
            {
                await CountNewNameAsync(request, outcome, cancellationToken);
            }

            outcome.SentTimestamp = sent;
            return outcome;
        }
    }

    /// <summary>How many times one acquisition resolves an unknown server life before it gives up.</summary>
    private const int MaxEpochResolutions = 3;

    /// <summary>
    /// The arguments of lock_fast_acquire.lua or lock_acquire.lua; with the fencing epochs of PostgreSQL
    /// (<paramref name="epoch"/> not null) followed by the node's epoch base, the run ids it knows and whether the
    /// script must check the server's run id on every call (<see cref="FencingEpochs"/>).
    /// </summary>
    private RedisValue[] AcquireArguments(
        LockRequest request, long timeToLive, long leaseMilliseconds, bool fast, bool wholeExpiry, FencingEpochs.EpochState? epoch, bool verify)
    {
        if (fast)
        {
            var hold = AcquireOutcome.FastHoldOf(request.Token, request.Owner);
            // Without epochs the third argument is sent only when needed: one argument less on most acquisitions.
            return epoch is not null ? [hold, timeToLive, wholeExpiry ? "1" : "0", epoch.BaseText, epoch.RunIdsText, verify ? "1" : "0"]
                : wholeExpiry ? [hold, timeToLive, "1"]
                : [hold, timeToLive];
        }

        RedisValue[] general =
        [
            request.Token,
            request.Owner,
            timeToLive,
            LockRules.ModeOf(request.Kind).ToString(),
            request.Permits,
            (int)request.Reentry,
            leaseMilliseconds,
            request.Settings.Fair ? "1" : "0",
            request.Settings.ReentryToken ?? string.Empty,
            _options.MaxWaitersPerLock,
        ];
        return epoch is null ? general : [.. general, epoch.BaseText, epoch.RunIdsText, verify ? "1" : "0"];
    }

    /// <summary>
    /// The tenant's lock-name ledger (lock_name_count.lua): a capability segment no caller's lock can take, under a
    /// tenant-level hash tag.
    /// </summary>
    private RedisKey NameLedger => _nameLedger ??= CoordinationKey.TenantTagged(_runtime.KeyPrefix, Tenant, "lock-ledger");

    /// <summary>
    /// Counts the name whose fencing counter <paramref name="outcome"/> created in the tenant's ledger (another hash
    /// slot than the lock's, so a second call); over the quota, or when the count fails, the acquisition is undone:
    /// its hold is released and the counter deleted while it still holds the seed nobody was handed (lock_release.lua),
    /// so a refusal leaves nothing behind. The platform's own locks (cache single-flight) are not counted: a cache read
    /// must not fail for a quota.
    /// </summary>
    private async ValueTask CountNewNameAsync(LockRequest request, AcquireOutcome outcome, CancellationToken cancellationToken)
    {
        var limit = _runtime.MaxLockNamesPerTenant;
        long counted;
        try
        {
            counted = (long)await _executor.ExecuteAsync(
                "lock.count-name",
                idempotent: true,
                static (db, s) => RedisScript.LockNameCount.EvaluateByShaAsync(db, [s.Ledger], [s.Name, s.Limit]),
                (Ledger: NameLedger, Name: (RedisValue)string.Concat(request.Keys.Capability, ":", request.Keys.Name), Limit: (RedisValue)limit),
                cancellationToken);
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
        {
            // Whether it was counted is unknown; a name counted and then undone only takes a place until its score passes.
            await UndoNewNameAsync(request.Keys, outcome);
            throw;
        }

        if (counted == 0)
        {
            await UndoNewNameAsync(request.Keys, outcome);
            _runtime.Metrics.RecordQuotaRefused("lock-names");
            throw ExceptionFactory.LockNameQuotaExceeded(limit);
        }
    }

    private async ValueTask UndoNewNameAsync(LockKeys keys, AcquireOutcome outcome)
    {
        try
        {
            await _executor.ExecuteAsync(
                "lock.release",
                keys.Base,
                idempotent: false,
                static (db, s) => RedisScript.LockRelease.EvaluateByShaAsync(db, s.Keys, [s.Token, "1", s.Channel, s.Seed]),
                (Keys: keys.All, Token: (RedisValue)outcome.Token, Channel: (RedisValue)_runtime.Channel, Seed: (RedisValue)outcome.FencingToken),
                CancellationToken.None);
        }
        catch (CoordinationUnavailableException)
        {
            // The hold expires with its time to live and the counter within 62 days; the refusal is what the caller needs.
        }
    }

    internal async ValueTask<long> ExtendCoreAsync(LockKeys keys, string token, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        // Idempotent by token: restarting the same hold's time to live twice is the same as once.
        var result = await _executor.ExecuteAsync(
            "lock.extend",
            keys.Base,
            idempotent: true,
            static (db, s) => RedisScript.LockExtend.EvaluateByShaAsync(db, s.Keys, [s.Token, s.Ttl]),
            (Keys: keys.All, Token: (RedisValue)token, Ttl: (RedisValue)(long)Math.Ceiling(timeToLive.TotalMilliseconds)),
            cancellationToken);
        return (long)result;
    }

    /// <summary>
    /// Releases the hold of <paramref name="token"/> (every count, or one). <paramref name="fastHold"/>: the hold as
    /// stored in the fast layout, when it was taken there; lock_fast_release.lua is tried first, and defers to
    /// lock_release.lua when another script has adopted the hold since.
    /// </summary>
    internal async ValueTask<(long Left, bool Gone)> ReleaseCoreAsync(LockKeys keys, string token, bool all, string? fastHold, CancellationToken cancellationToken)
    {
        if (fastHold is not null)
        {
            var fastResult = await _executor.ExecuteAsync(
                "lock.release",
                keys.Base,
                idempotent: false,
                static (db, s) => RedisScript.LockFastRelease.EvaluateByShaAsync(db, s.Keys, [s.Hold]),
                (Keys: keys.FastRelease, Hold: (RedisValue)fastHold),
                cancellationToken);
            switch ((long)fastResult)
            {
                case 1:
                    return (0, true);
                case -1:
                    return (-1, false);
            }
        }

        var result = await _executor.ExecuteAsync(
            "lock.release",
            keys.Base,
            idempotent: false,
            static (db, s) => RedisScript.LockRelease.EvaluateByShaAsync(db, s.Keys, [s.Token, s.All, s.Channel]),
            (Keys: keys.All, Token: (RedisValue)token, All: (RedisValue)(all ? "1" : "0"), Channel: (RedisValue)_runtime.Channel),
            cancellationToken);
        var parts = (RedisResult[])result!;
        return ((long)parts[0], (long)parts[1] == 1);
    }

    private async ValueTask<LockInfo?> InspectAsync(LockKeys keys, CancellationToken cancellationToken)
    {
        var result = await _executor.ExecuteAsync(
            "lock.inspect",
            keys.Base,
            idempotent: true,
            static (db, k) => RedisScript.LockInspect.EvaluateByShaAsync(db, k, []),
            keys.All,
            cancellationToken);
        var parts = (RedisResult[])result!;
        var now = (long)parts[0];
        var holders = new List<LockHolderInfo>();
        for (var i = 3; i + 4 < parts.Length; i += 5)
        {
            var expiresAt = (long)parts[i + 4];
            holders.Add(new LockHolderInfo(
                (string)parts[i + 1]!,
                (string?)parts[i] == "r" ? LockMode.Shared : LockMode.Exclusive,
                (long)parts[i + 3],
                (int)parts[i + 2],
                FromMilliseconds(expiresAt),
                TimeSpan.FromMilliseconds(expiresAt - now)));
        }

        return holders.Count == 0 ? null : new LockInfo(keys.Name, holders, (int)parts[2], (long)parts[1]);
    }

    private async Task DequeueAsync(LockRequest request) =>
        await _executor.ExecuteAsync(
            "lock.dequeue",
            request.Keys.Base,
            idempotent: true,
            static (db, s) => RedisScript.LockDequeue.EvaluateByShaAsync(db, s.Keys, [s.Token, s.Channel]),
            (Keys: request.Keys.All, Token: (RedisValue)request.Token, Channel: (RedisValue)_runtime.Channel),
            CancellationToken.None);

    /// <summary>
    /// One run of lock_acquire.lua (and WAIT). When the caller gives up on it (timeout, cancellation) its outcome is
    /// unknown: a paused or slow server may still grant it later, after the client dropped the answer, which would
    /// keep the lock from everyone for a whole time to live. So a release of the attempt's token is sent at once on
    /// the same connection, where Redis runs it after the acquisition. That is safe only for a new hold (its token
    /// is this request's own); a re-entry is undone only when its grant is seen.
    /// </summary>
    private sealed class AcquireAttempt(
        RedisLockManager manager, LockKeys keys, string token, RedisValue[] arguments, bool fast, RedisClock.Reading? clockReading, long sent, int replicas, long fencingBase)
    {
        private readonly Lock _gate = new();
        private IDatabase? _database;
        private AcquireOutcome? _granted;
        private bool _abandoned;
        private bool _undone;

        public long Acknowledged { get; private set; }

        private bool IsNewHold => fast || arguments[5] == (int)Reentry.None;

        public async Task<AcquireOutcome> RunAsync(IDatabase database)
        {
            lock (_gate)
            {
                _database = database;
            }

            var outcome = fast
                ? AcquireOutcome.ParseFast(
                    await RedisScript.LockFastAcquire.EvaluateByShaAsync(database, keys.FastAcquire, arguments), token, (string)arguments[0]!, (long)arguments[1], manager._runtime.Clock, clockReading, sent, fencingBase)
                : AcquireOutcome.Parse(await RedisScript.LockAcquire.EvaluateByShaAsync(database, keys.All, arguments));
            if (outcome.Status != AcquireStatus.Acquired)
            {
                return outcome;
            }

            lock (_gate)
            {
                _granted = outcome;
                if (_abandoned)
                {
                    Undo();
                    return outcome;
                }
            }

            if (replicas > 0)
            {
                try
                {
                    var server = database.Multiplexer.GetServer((RedisKey)keys.Base);
                    Acknowledged = (long)await server.ExecuteAsync("WAIT", replicas, (long)Math.Ceiling(manager._runtime.ReplicaAcknowledgeTimeout.TotalMilliseconds));
                }
                catch (Exception ex) when (ex is RedisServerException || (ex is InvalidOperationException && ex is not ObjectDisposedException))
                {
                    // Right after a failover the client can still route the key to a server that is now a replica
                    // ("WAIT cannot be used with replica instances"), or have no connection to the key's server for a
                    // moment after the script ran ("not possible to resolve a connection to the server owning the
                    // key"): nothing acknowledged the hold, so it is released and refused like any hold too few
                    // replicas acknowledged, never a raw exception.
                    Acknowledged = 0;
                }
            }

            return outcome;
        }

        public void Abandon()
        {
            lock (_gate)
            {
                _abandoned = true;
                if (_database is not null && (_granted is not null || IsNewHold))
                {
                    Undo();
                }
            }
        }

        private void Undo()
        {
            if (_undone)
            {
                return;
            }

            _undone = true;
            LocksLog.AbandonedAttemptUndone(manager.Logger, manager.Tenant, keys.Name);

            // A new hold goes entirely (its token is the attempt's own); a seen re-entry gives back its one count.
            var (held, all) = _granted is { } granted ? (granted.Token, granted.Count == 1) : (token, true);
            RedisValue[] release = [held, all ? "1" : "0", manager._runtime.Channel];
            manager._runtime.RunInBackground(RedisScript.LockRelease.EvaluateAsync(_database!, keys.All, release));
            if (!fast && arguments[7] == "1")
            {
                // Behind the attempt on the same connection, so it also undoes a queue entry the attempt makes late.
                manager._runtime.RunInBackground(RedisScript.LockDequeue.EvaluateAsync(_database!, keys.All, [held, manager._runtime.Channel]));
            }
        }
    }
}
