using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>The Redis implementation of <see cref="IDistributedLockManager"/> for one tenant.</summary>
internal sealed partial class RedisLockManager : IDistributedLockManager
{
    private readonly LockRuntime _runtime;
    private readonly LockNamespace _namespace;
    private readonly RedisExecutor _executor;
    private readonly LockManagerOptions _options;
    private readonly LockKeysCache _keys;
    private readonly ConcurrentDictionary<(string Key, string Token), HeldLock> _holds = new();
    private readonly Lock _levelsGate = new();
    private readonly Dictionary<string, List<HeldLock>> _levels = new(StringComparer.Ordinal);
    private RedisKey? _nameLedger;

    public RedisLockManager(string tenant, LockRuntime runtime, LockNamespace keySpace)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        Tenant = tenant;
        _runtime = runtime;
        _namespace = keySpace;
        _executor = runtime.Executor;
        _options = runtime.Options;
        _graph = LockKeys.Graph(runtime.KeyPrefix, tenant, keySpace.Graph);
        _keys = new LockKeysCache(runtime.KeyPrefix, tenant);
        runtime.Primary.Changed += OnPrimaryChanged;
    }

    public string Tenant { get; }

    internal LockRuntime Runtime => _runtime;

    internal ILogger Logger => _runtime.Logger;

    /// <summary>Holds this process has through handles (re-entries count once).</summary>
    internal int HeldCount => _holds.Count;

    /// <summary>When the oldest hold this process has was acquired (<see cref="TimeProvider.GetTimestamp"/>); null when none.</summary>
    internal long? OldestHeldTimestamp()
    {
        long? oldest = null;
        foreach (var hold in _holds.Values)
        {
            if (oldest is null || hold.AcquiredTimestamp < oldest)
            {
                oldest = hold.AcquiredTimestamp;
            }
        }

        return oldest;
    }

    // The public Acquire* methods are not async on purpose: Prepare records the acquisition in the caller's async
    // flow (LockFlow), which must happen in the caller's own frame to stay visible to it afterwards.
    public ValueTask<ILockHandle> AcquireAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        RequireAsync(AcquireHandleAsync(Prepare(LockKind.Exclusive, name, options, 1, _options.DefaultWaitTimeout), true, cancellationToken));

    public ValueTask<ILockHandle?> TryAcquireAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        AcquireHandleAsync(Prepare(LockKind.Exclusive, name, options, 1, TimeSpan.Zero), false, cancellationToken);

    public ValueTask<ILockHandle> AcquireReadAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        RequireAsync(AcquireHandleAsync(Prepare(LockKind.Read, name, options, 1, _options.DefaultWaitTimeout), true, cancellationToken));

    public ValueTask<ILockHandle?> TryAcquireReadAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        AcquireHandleAsync(Prepare(LockKind.Read, name, options, 1, TimeSpan.Zero), false, cancellationToken);

    public ValueTask<ILockHandle> AcquireSemaphoreAsync(string name, int permits, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        RequireAsync(AcquireHandleAsync(Prepare(LockKind.Semaphore, name, options, permits, _options.DefaultWaitTimeout), true, cancellationToken));

    public ValueTask<ILockHandle?> TryAcquireSemaphoreAsync(string name, int permits, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        AcquireHandleAsync(Prepare(LockKind.Semaphore, name, options, permits, TimeSpan.Zero), false, cancellationToken);

    public ValueTask<IMultiLockHandle> AcquireAllAsync(IEnumerable<string> names, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        RequireAsync(AcquireAllCoreAsync(PrepareAll(names, options, _options.DefaultWaitTimeout), true, cancellationToken));

    public ValueTask<IMultiLockHandle?> TryAcquireAllAsync(IEnumerable<string> names, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        AcquireAllCoreAsync(PrepareAll(names, options, TimeSpan.Zero), false, cancellationToken);

    public ValueTask<LockLease?> TryAcquireLeaseAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(
            PrepareLease(name, options),
            throwOnTimeout: false,
            static (_, request, acquired) => new LockLease(
                request.Name, acquired.Token, request.Owner, acquired.FencingToken, FromMilliseconds(acquired.ExpiresAtMilliseconds), acquired.Count),
            cancellationToken);

    public async ValueTask<DateTimeOffset> ExtendAsync(string name, string token, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        var keys = LockKeysOf(name);
        ArgumentNullException.ThrowIfNull(token);
        CoordinationLimits.ValidateTimeToLive(timeToLive, nameof(timeToLive));
        using var activity = StartActivity("coordination lock.extend", name);
        if (!LockRules.IsWellFormedToken(token))
        {
            throw ExceptionFactory.LockNotHeld(name);
        }

        var sent = _runtime.Time.GetTimestamp();
        var expiresAt = await ExtendCoreAsync(keys, token, timeToLive, cancellationToken);
        if (expiresAt < 0)
        {
            throw ExceptionFactory.LockNotHeld(name);
        }

        if (_holds.TryGetValue((keys.Base, token), out var hold))
        {
            hold.OnRenewed(sent, expiresAt, timeToLive);
        }

        return FromMilliseconds(expiresAt);
    }

    public async ValueTask ReleaseAsync(string name, string token, CancellationToken cancellationToken = default)
    {
        var keys = LockKeysOf(name);
        ArgumentNullException.ThrowIfNull(token);
        using var activity = StartActivity("coordination lock.release", name);
        if (!LockRules.IsWellFormedToken(token))
        {
            throw ExceptionFactory.LockNotHeld(name);
        }

        var (left, gone) = await ReleaseCoreAsync(keys, token, all: false, fastHold: null, cancellationToken);
        if (left < 0)
        {
            throw ExceptionFactory.LockNotHeld(name);
        }

        if (gone && _holds.TryGetValue((keys.Base, token), out var hold))
        {
            // A handle of this process held it: its critical section is no longer protected.
            hold.MarkLost(LockLostReason.RenewalRejected);
        }
    }

    public async ValueTask<LockInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        var keys = LockKeysOf(name);
        using var activity = StartActivity("coordination lock.inspect", name);
        return await InspectAsync(keys, cancellationToken);
    }

    /// <summary>Releases every hold this process has through handles (host shutdown); returns how many could not be released.</summary>
    public async Task<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var hold in _holds.Values.ToArray())
        {
            try
            {
                await hold.ReleaseAtShutdownAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
            {
                failures++;
            }
        }

        return failures;
    }

    /// <summary>Takes <paramref name="name"/> for <see cref="RedisCoordinator.LockAsync"/>: no wait, no re-entry, nothing tracked. Returns the token.</summary>
    internal async ValueTask<string?> TryTakeAsync(string name, TimeSpan timeToLive, string owner, CancellationToken cancellationToken)
    {
        var settings = new LockSettings(timeToLive, TimeSpan.Zero, false, false, owner, null, 0);
        var request = new LockRequest(LockKind.Exclusive, LockKeysOf(name), settings, 1, tracked: false) { Owner = owner };
        return await AcquireAsync(request, throwOnTimeout: false, static (_, _, acquired) => acquired.Token, cancellationToken, span: false);
    }

    /// <summary>Restarts the time to live of a hold by token; <see langword="false"/> when the token holds nothing.</summary>
    internal async ValueTask<bool> TryRestartAsync(string name, string token, TimeSpan timeToLive, CancellationToken cancellationToken) =>
        await ExtendCoreAsync(LockKeysOf(name), token, timeToLive, cancellationToken) >= 0;

    /// <summary>Releases a hold by token entirely; <see langword="false"/> when the token holds nothing.</summary>
    internal async ValueTask<bool> TryReleaseAsync(string name, string token, CancellationToken cancellationToken) =>
        (await ReleaseCoreAsync(LockKeysOf(name), token, all: true, fastHold: null, cancellationToken)).Left >= 0;

    internal void ReportLost(HeldLock hold, LockLostReason reason) =>
        _runtime.Events.OnLockLost(new LockLostEventArgs(Tenant, hold.Name, hold.Owner, hold.FencingToken, reason));

    /// <summary>A hold ended (released or lost): it is no longer this process's.</summary>
    internal void Untrack(HeldLock hold)
    {
        if (_holds.TryRemove(new KeyValuePair<(string, string), HeldLock>((hold.Keys.Base, hold.Token), hold)))
        {
            _runtime.Metrics.RecordLockHeld(-1);
        }

        if (hold.Level is not null)
        {
            lock (_levelsGate)
            {
                if (_levels.TryGetValue(hold.Owner, out var held) && held.Remove(hold) && held.Count == 0)
                {
                    _levels.Remove(hold.Owner);
                }
            }
        }
    }

    internal void ReleaseInBackground(LockKeys keys, string token) =>
        _runtime.RunInBackground(ReleaseCoreAsync(keys, token, all: true, fastHold: null, CancellationToken.None).AsTask());

    private LockKeys LockKeysOf(string name)
    {
        CoordinationKey.ValidateName(name, nameof(name));
        return _keys.Get(_namespace.Lock, name);
    }

    private void OnPrimaryChanged(long epoch)
    {
        if (!_options.LoseLocksOnPrimaryChange)
        {
            return;
        }

        foreach (var hold in _holds.Values)
        {
            if (hold.Epoch < epoch)
            {
                hold.MarkLost(LockLostReason.PrimaryChanged);
            }
        }
    }

    /// <summary>Starts a span named <paramref name="spanName"/> (a constant: no string is built per call) for the lock <paramref name="name"/>.</summary>
    private Activity? StartActivity(string spanName, string name)
    {
        var activity = CoordinationMetrics.ActivitySource.StartActivity(spanName, ActivityKind.Internal);
        activity?.SetTag("coordination.tenant", Tenant);
        activity?.SetTag("coordination.lock", name);
        return activity;
    }

    private static string Classify(Exception exception) => exception switch
    {
        DeadlockDetectedException => "deadlock",
        LockHierarchyViolationException => "hierarchy",
        CoordinationUnavailableException => "unavailable",
        LockWaitersExceededException => "waiters_exceeded",
        CoordinationQuotaExceededException => "quota_exceeded",
        OperationCanceledException => "canceled",
        LockTimeoutException => "timeout",
        _ => "error",
    };

    private static DateTimeOffset FromMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private static async ValueTask<T> RequireAsync<T>(ValueTask<T?> acquisition)
        where T : class => (await acquisition)!;
}
