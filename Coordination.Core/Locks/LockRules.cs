namespace Coordination;

/// <summary>The pure rules of the lock machinery: option validation, canonical order, hierarchy, timing.</summary>
internal static class LockRules
{
    public static readonly TimeSpan MinAutoRenewTimeToLive = TimeSpan.FromMilliseconds(100);
    public const int MaxReplicasToAcknowledge = 16;
    public const int MaxPermits = 10_000;

    /// <summary>Validates <paramref name="options"/> and fills in the defaults.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static LockSettings Resolve(LockOptions? options, LockManagerOptions defaults, TimeSpan defaultWait)
    {
        options ??= Default;
        var ttl = options.TimeToLive ?? defaults.DefaultTimeToLive;
        CoordinationLimits.ValidateTimeToLive(ttl, nameof(options));
        if (options.AutoRenew && ttl < MinAutoRenewTimeToLive)
        {
            throw new ArgumentOutOfRangeException(nameof(options), ttl, $"With AutoRenew the time to live must be at least {MinAutoRenewTimeToLive.TotalMilliseconds} ms.");
        }

        var wait = options.WaitTimeout ?? defaultWait;
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), wait, "The wait timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        if (wait == Timeout.InfiniteTimeSpan || wait > defaults.MaxWaitTimeout)
        {
            // A waiter holds a place of its tenant's waiters for as long as it waits: no wait is endless.
            wait = defaults.MaxWaitTimeout;
        }

        if (options.Owner is not null)
        {
            CoordinationKey.ValidateName(options.Owner, nameof(options));
        }

        if (options.ReplicasToAcknowledge is < 0 or > MaxReplicasToAcknowledge)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ReplicasToAcknowledge, $"ReplicasToAcknowledge must be between 0 and {MaxReplicasToAcknowledge}.");
        }

        return new LockSettings(
            ttl, wait, options.AutoRenew, options.Fair, options.Owner, options.Level, options.ReplicasToAcknowledge, options.Owner is null ? null : options.ReentryToken);
    }

    public static void ValidatePermits(int permits)
    {
        if (permits is < 1 or > MaxPermits)
        {
            throw new ArgumentOutOfRangeException(nameof(permits), permits, $"A semaphore has 1 to {MaxPermits} permits.");
        }
    }

    /// <summary>
    /// The order every multi-lock takes its locks in: distinct names, ordinal. Two callers asking for overlapping
    /// sets then take their common locks in the same order, so neither can hold one the other needs first.
    /// </summary>
    /// <exception cref="ArgumentException">No name, or an invalid one.</exception>
    public static string[] CanonicalOrder(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var distinct = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            CoordinationKey.ValidateName(name, nameof(names));
            distinct.Add(name);
        }

        return distinct.Count == 0 ? throw new ArgumentException("At least one lock name is needed.", nameof(names)) : [.. distinct];
    }

    /// <summary>
    /// The lock hierarchy: a lock of <paramref name="level"/> may be taken only when every level the owner holds is
    /// below it. Returns the held lock of the highest level when that level is not below, else <see langword="null"/>.
    /// </summary>
    public static (string Name, int Level)? FindHierarchyViolation(int level, IEnumerable<(string Name, int Level)> held)
    {
        (string Name, int Level)? worst = null;
        foreach (var hold in held)
        {
            if (hold.Level >= level && (worst is null || hold.Level > worst.Value.Level))
            {
                worst = hold;
            }
        }

        return worst;
    }

    /// <summary>How much shorter than the time to live the local validity estimate is: drift factor × TTL + 2 ms (as RedLock).</summary>
    public static TimeSpan ValidityMargin(TimeSpan ttl, double driftFactor) =>
        TimeSpan.FromTicks((long)(ttl.Ticks * driftFactor)) + TimeSpan.FromMilliseconds(2);

    /// <summary>The watchdog renews a hold every third of its time to live.</summary>
    public static TimeSpan RenewInterval(TimeSpan ttl) => ttl / 3;

    /// <summary>After a renewal that could not reach Redis, the next try comes sooner: a tenth of the TTL, 10 ms to 1 s.</summary>
    public static TimeSpan RenewRetryDelay(TimeSpan ttl) =>
        TimeSpan.FromTicks(Math.Clamp(ttl.Ticks / 10, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));

    /// <summary>An idle waiter's sleep doubles up to this many re-check intervals (see <see cref="NextRecheck"/>).</summary>
    public const int MaxRecheckBackOff = 2;

    /// <summary>
    /// How long a waiter record lives in Redis without a refresh: the longest idle sleep (<see cref="MaxRecheckBackOff"/>
    /// re-check intervals) plus two more and one attempt timeout, so a waiter that is merely slow is not dropped
    /// while a crashed one is forgotten soon.
    /// </summary>
    public static TimeSpan WaiterLease(TimeSpan recheckInterval, TimeSpan attemptTimeout) => recheckInterval * (MaxRecheckBackOff + 2) + attemptTimeout;

    /// <summary>
    /// The re-check interval of a waiter's next sleep: back to <paramref name="recheckInterval"/> after a release
    /// message woke it (the lock is busy again, someone else won), doubled up to <see cref="MaxRecheckBackOff"/>
    /// intervals after a sleep no message ended (nothing happens to the lock: idle waiters cost Redis less).
    /// </summary>
    public static TimeSpan NextRecheck(TimeSpan current, TimeSpan recheckInterval, bool woken)
    {
        if (woken)
        {
            return recheckInterval;
        }

        var doubled = current * 2;
        var longest = recheckInterval * MaxRecheckBackOff;
        return doubled < longest ? doubled : longest;
    }

    /// <summary><c>WAIT</c> is bounded by the client's attempt timeout like any command: at most half of it, at least 1 ms.</summary>
    public static TimeSpan ReplicaWait(TimeSpan configured, TimeSpan attemptTimeout)
    {
        var cap = attemptTimeout / 2;
        var wait = configured < cap ? configured : cap;
        return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    /// <summary>
    /// How long a waiter sleeps before its next attempt unless woken: until the blocking holds expire (plus 1 ms),
    /// at most the re-check interval, never past the deadline.
    /// </summary>
    public static TimeSpan NextSleep(TimeSpan remaining, TimeSpan recheckInterval, long retryAfterMilliseconds)
    {
        var sleep = recheckInterval;
        if (retryAfterMilliseconds >= 0)
        {
            sleep = TimeSpan.FromMilliseconds(Math.Min(retryAfterMilliseconds + 1, sleep.TotalMilliseconds));
        }

        return remaining < sleep ? remaining : sleep;
    }

    /// <summary>Tokens are what this library issues: 16 to 64 characters of base64url. Anything else holds nothing.</summary>
    public static bool IsWellFormedToken(string token)
    {
        if (token.Length is < 16 or > 64)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
            {
                return false;
            }
        }

        return true;
    }

    public static char ModeOf(LockKind kind) => kind switch
    {
        LockKind.Read => 'r',
        LockKind.Semaphore => 's',
        _ => 'w',
    };

    public static string MetricName(LockKind kind) => kind switch
    {
        LockKind.Read => "read",
        LockKind.Semaphore => "semaphore",
        _ => "exclusive",
    };

    private static readonly LockOptions Default = new();
}
