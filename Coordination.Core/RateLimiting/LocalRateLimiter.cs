using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Coordination;

/// <summary>
/// The limiter of this node while Redis is unavailable: one small exact counter per (tenant, policy, algorithm, key)
/// admitting this node's share of the limit, <c>max(1, limit / NodeCount)</c>. Every rate algorithm is counted as a
/// fixed window of the policy's period on this process's clock (an outage is no time for the finer algorithms, and a
/// fixed window never admits more than the share per window); a concurrency policy holds local leases. A normal request
/// leaves the critical reserve (<see cref="RateLimitingOptions.CriticalReserve"/>) of the share unused, as in Redis. At most
/// <see cref="RateLimitFallbackOptions.MaxLimiters"/> counters, the least recently used dropped (with its leases).
/// One lock: it is taken only while Redis is down.
/// </summary>
internal sealed class LocalRateLimiter(RateLimitFallbackOptions options, double criticalReserve, TimeProvider timeProvider)
{
    /// <summary>The prefix of a local lease id; a Redis lease id (<c>{random}.{permits}.{key}</c>) never starts with it.</summary>
    public const string LeasePrefix = "local.";

    private readonly Dictionary<string, LinkedListNode<Counter>> _counters = new(StringComparer.Ordinal);
    private readonly LinkedList<Counter> _recency = new();
    private readonly Lock _gate = new();

    /// <summary>The counters kept (tests read it).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _counters.Count;
            }
        }
    }

    /// <summary>This node's share of <paramref name="limit"/>.</summary>
    public long ShareOf(long limit) => Math.Max(1, limit / options.NodeCount);

    private static long MillisecondsOf(TimeSpan period) => (long)period.TotalMilliseconds;

    /// <summary>
    /// What a request of <paramref name="priority"/> counts against: this node's share and the policy's limit, each less
    /// its reserve.
    /// </summary>
    private Allowance AllowanceOf(long limit, RateLimitPriority priority)
    {
        var share = ShareOf(limit);
        return new Allowance(
            share,
            share - RateLimitPolicyRules.Reserve(share, criticalReserve, priority),
            limit - RateLimitPolicyRules.Reserve(limit, criticalReserve, priority));
    }

    /// <summary>
    /// Decides locally, all or nothing over <paramref name="levels"/> (one for a single policy; a concurrency policy only
    /// alone): every level's share is checked before any is charged.
    /// </summary>
    public RateLimitDecision[] Acquire(string tenant, IReadOnlyList<Level> levels, int permits, RateLimitPriority priority = RateLimitPriority.Normal)
    {
        var counters = new Counter[levels.Count];
        var allowances = new Allowance[levels.Count];
        var decisions = new RateLimitDecision[levels.Count];
        lock (_gate)
        {
            // Read under the lock: a caller that read the clock before another moved the window on must not move it back.
            var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < levels.Count; i++)
            {
                var level = levels[i];
                allowances[i] = AllowanceOf(level.Limit, priority);
                counters[i] = Find(string.Join('\n', tenant, level.Policy, RateLimitingMetrics.TagOf(level.Algorithm), level.Key), create: true)!;
                if (level.Algorithm == RateLimitAlgorithm.Concurrency)
                {
                    // Alone by contract (IRateLimitService.AcquireAllAsync refuses concurrency levels).
                    return [counters[i].Lease(now, MillisecondsOf(level.Period), allowances[i], permits, level.Key)];
                }
            }

            var room = true;
            for (var i = 0; i < levels.Count; i++)
            {
                decisions[i] = counters[i].Check(now, MillisecondsOf(levels[i].Period), allowances[i], permits);
                room &= decisions[i].Allowed;
            }

            if (room)
            {
                for (var i = 0; i < levels.Count; i++)
                {
                    decisions[i] = counters[i].Charge(allowances[i], permits, decisions[i]);
                }
            }
        }

        return decisions;
    }

    /// <summary>Releases a local lease (<see cref="LeasePrefix"/>); <see langword="false"/> when it was not held (released, expired, dropped, malformed).</summary>
    public bool Release(string tenant, string policy, string leaseId)
    {
        var parts = leaseId.Split('.');
        if (parts is not [_, var random, var encodedKey] || !Base64Url.IsValid(encodedKey))
        {
            return false;
        }

        // Valid base64url (checked above) always decodes; a key that is not valid UTF-8 finds no counter.
        var key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(encodedKey));
        lock (_gate)
        {
            var counter = Find(string.Join('\n', tenant, policy, RateLimitingMetrics.TagOf(RateLimitAlgorithm.Concurrency), key), create: false);
            return counter is not null && counter.Release(random, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }
    }

    private Counter? Find(string id, bool create)
    {
        if (_counters.TryGetValue(id, out var node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }

        if (!create)
        {
            return null;
        }

        if (_counters.Count >= options.MaxLimiters)
        {
            var oldest = _recency.Last!;
            _recency.RemoveLast();
            _counters.Remove(oldest.Value.Id);
        }

        node = _recency.AddFirst(new Counter(id));
        _counters.Add(id, node);
        return node.Value;
    }

    private sealed class Counter(string id)
    {
        private readonly Dictionary<string, (int Permits, long ExpiresAt)> _leases = new(StringComparer.Ordinal);
        private long _windowStart = long.MinValue;
        private long _count;

        public string Id => id;

        /// <summary>Whether <paramref name="permits"/> fit in this window (moved on to the current one first); charges nothing.</summary>
        public RateLimitDecision Check(long now, long periodMs, Allowance allowance, int permits)
        {
            var windowStart = now - (now % periodMs);
            if (windowStart != _windowStart)
            {
                _windowStart = windowStart;
                _count = 0;
            }

            var resetAfter = TimeSpan.FromMilliseconds(windowStart + periodMs - now);
            return _count + permits <= allowance.Usable
                ? Decide(true, allowance.Share, allowance.Usable - _count, resetAfter, TimeSpan.Zero)
                : Refuse(allowance, allowance.Usable - _count, resetAfter, permits, resetAfter);
        }

        /// <summary>Charges <paramref name="permits"/> that <see cref="Check"/> found room for, answering the decision after the charge.</summary>
        public RateLimitDecision Charge(Allowance allowance, int permits, RateLimitDecision checkedDecision)
        {
            _count += permits;
            return checkedDecision with { Remaining = Math.Max(0, allowance.Usable - _count) };
        }

        public RateLimitDecision Lease(long now, long periodMs, Allowance allowance, int permits, string key)
        {
            var held = DropExpired(now);
            var resetAfter = _leases.Count == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(_leases.Values.Max(l => l.ExpiresAt) - now);
            if (held + permits <= allowance.Usable)
            {
                var random = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
                _leases.Add(random, (permits, now + periodMs));
                return Decide(true, allowance.Share, allowance.Usable - held - permits, TimeSpan.FromMilliseconds(periodMs), TimeSpan.Zero) with
                {
                    LeaseId = string.Concat(LeasePrefix, random, ".", Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key))),
                };
            }

            // When enough leases will have expired at the latest (a release frees them sooner).
            var needed = held + permits - allowance.Usable;
            var retry = 0L;
            foreach (var lease in _leases.Values.OrderBy(l => l.ExpiresAt))
            {
                needed -= lease.Permits;
                retry = lease.ExpiresAt - now;
                if (needed <= 0)
                {
                    break;
                }
            }

            return Refuse(allowance, allowance.Usable - held, resetAfter, permits, TimeSpan.FromMilliseconds(retry));
        }

        public bool Release(string random, long now)
        {
            DropExpired(now);
            return _leases.Remove(random);
        }

        private long DropExpired(long now)
        {
            var held = 0L;
            foreach (var (random, lease) in _leases)
            {
                if (lease.ExpiresAt <= now)
                {
                    _leases.Remove(random);
                }
                else
                {
                    held += lease.Permits;
                }
            }

            return held;
        }

        private static RateLimitDecision Refuse(Allowance allowance, long remaining, TimeSpan resetAfter, int permits, TimeSpan retryAfter) =>
            permits > allowance.Ceiling
                ? Decide(false, allowance.Share, remaining, resetAfter, Timeout.InfiniteTimeSpan) with
                {
                    Reason = $"{permits} permits are more than the policy ever allows at once ({allowance.Ceiling}); the request can never succeed.",
                }
                : Decide(false, allowance.Share, remaining, resetAfter, retryAfter);

        private static RateLimitDecision Decide(bool allowed, long share, long remaining, TimeSpan resetAfter, TimeSpan retryAfter) =>
            new(allowed, share, Math.Max(0, remaining), resetAfter, retryAfter) { DecidedLocally = true };
    }

    /// <summary>
    /// One level of a local decision. <paramref name="Limit"/> is what the decision counts against (the capacity for a
    /// token bucket or GCRA, the effective limit of an adaptive policy).
    /// </summary>
    public readonly record struct Level(string Policy, RateLimitAlgorithm Algorithm, long Limit, TimeSpan Period, string Key);

    /// <summary>This node's share of a limit, what of it the request may use, and what of the whole limit it ever could.</summary>
    private readonly record struct Allowance(long Share, long Usable, long Ceiling);
}
