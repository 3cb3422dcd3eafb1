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

    /// <summary>
    /// Decides locally. <paramref name="limit"/> is what the decision counts against (the capacity for a token bucket
    /// or GCRA, the effective limit of an adaptive policy).
    /// </summary>
    public RateLimitDecision Acquire(string tenant, string policy, RateLimitAlgorithm algorithm, long limit, TimeSpan period, string key, int permits, RateLimitPriority priority = RateLimitPriority.Normal)
    {
        var share = ShareOf(limit);
        // What this request counts against: this node's share and the policy's limit, each less its reserve.
        var allowance = share - RateLimitPolicyRules.Reserve(share, criticalReserve, priority);
        var ceiling = limit - RateLimitPolicyRules.Reserve(limit, criticalReserve, priority);
        var periodMs = (long)period.TotalMilliseconds;
        lock (_gate)
        {
            // Read under the lock: a caller that read the clock before another moved the window on must not move it back.
            var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            var counter = Find(string.Join('\n', tenant, policy, RateLimitingMetrics.TagOf(algorithm), key), create: true)!;
            return algorithm == RateLimitAlgorithm.Concurrency
                ? counter.Lease(now, periodMs, share, allowance, ceiling, permits, key)
                : counter.Count(now, periodMs, share, allowance, ceiling, permits);
        }
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

        public RateLimitDecision Count(long now, long periodMs, long share, long allowance, long limit, int permits)
        {
            var windowStart = now - (now % periodMs);
            if (windowStart != _windowStart)
            {
                _windowStart = windowStart;
                _count = 0;
            }

            var resetAfter = TimeSpan.FromMilliseconds(windowStart + periodMs - now);
            if (_count + permits <= allowance)
            {
                _count += permits;
                return Decide(true, share, allowance - _count, resetAfter, TimeSpan.Zero);
            }

            return Refuse(share, allowance - _count, resetAfter, permits, limit, resetAfter);
        }

        public RateLimitDecision Lease(long now, long periodMs, long share, long allowance, long limit, int permits, string key)
        {
            var held = DropExpired(now);
            var resetAfter = _leases.Count == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(_leases.Values.Max(l => l.ExpiresAt) - now);
            if (held + permits <= allowance)
            {
                var random = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
                _leases.Add(random, (permits, now + periodMs));
                return Decide(true, share, allowance - held - permits, TimeSpan.FromMilliseconds(periodMs), TimeSpan.Zero) with
                {
                    LeaseId = string.Concat(LeasePrefix, random, ".", Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key))),
                };
            }

            // When enough leases will have expired at the latest (a release frees them sooner).
            var needed = held + permits - allowance;
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

            return Refuse(share, allowance - held, resetAfter, permits, limit, TimeSpan.FromMilliseconds(retry));
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

        private static RateLimitDecision Refuse(long share, long remaining, TimeSpan resetAfter, int permits, long limit, TimeSpan retryAfter) =>
            permits > limit
                ? Decide(false, share, remaining, resetAfter, Timeout.InfiniteTimeSpan) with
                {
                    Reason = $"{permits} permits are more than the policy ever allows at once ({limit}); the request can never succeed.",
                }
                : Decide(false, share, remaining, resetAfter, retryAfter);

        private static RateLimitDecision Decide(bool allowed, long share, long remaining, TimeSpan resetAfter, TimeSpan retryAfter) =>
            new(allowed, share, Math.Max(0, remaining), resetAfter, retryAfter) { DecidedLocally = true };
    }
}
