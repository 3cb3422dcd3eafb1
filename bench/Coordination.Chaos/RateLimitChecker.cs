namespace Coordination.Chaos;

/// <summary>
/// Counts the admitted permits of the fixed-window policy per window. A decision's window is found from when it was
/// answered plus its <c>ResetAfter</c> (the window's end), rounded to the period. Redis-decided admissions are counted
/// per window and per Redis server life (a restart without persistence starts the window's count afresh, as
/// documented), and must stay within the limit; local decisions (Redis unavailable) per window and per node, and must
/// stay within the node's share, <c>max(1, limit / NodeCount)</c> (docs/ratelimiting.md, "Local fallback limiter").
/// </summary>
internal sealed class RateLimitChecker(Recorder recorder, long limit, long share, TimeSpan period)
{
    public const string RedisInvariant = "rate limit: admitted by Redis per window > limit";
    public const string LocalInvariant = "rate limit: admitted locally per window and node > share";

    private readonly Dictionary<(long Window, int Life), long> _redis = [];
    private readonly Dictionary<(long Window, string Node), long> _local = [];

    public long Limit => limit;

    public long Share => share;

    public void Admitted(string node, int redisLife, RateLimitDecision decision)
    {
        var windowEnd = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)decision.ResetAfter.TotalMilliseconds;
        var window = (long)Math.Round(windowEnd / period.TotalMilliseconds) - 1;
        lock (_redis)
        {
            if (decision.DecidedLocally)
            {
                _local[(window, node)] = _local.GetValueOrDefault((window, node)) + 1;
            }
            else
            {
                _redis[(window, redisLife)] = _redis.GetValueOrDefault((window, redisLife)) + 1;
            }
        }
    }

    /// <summary>Checks the windows that ended more than a period ago into the current scenario, and forgets them.</summary>
    public void CheckClosedWindows(bool all = false)
    {
        var stats = recorder.Current;
        var current = (long)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / period.TotalMilliseconds);
        lock (_redis)
        {
            foreach (var key in _redis.Keys.Where(k => all || k.Window < current - 1).ToArray())
            {
                stats.Check(RedisInvariant);
                stats.Maximum(RedisInvariant, _redis[key]);
                if (_redis[key] > limit)
                {
                    stats.Violation(RedisInvariant);
                    stats.Notes.Enqueue($"window {key.Window} (Redis life {key.Life}): {_redis[key]} admitted by Redis, limit {limit}");
                }

                _redis.Remove(key);
            }

            foreach (var key in _local.Keys.Where(k => all || k.Window < current - 1).ToArray())
            {
                stats.Check(LocalInvariant);
                stats.Maximum(LocalInvariant, _local[key]);
                if (_local[key] > share)
                {
                    stats.Violation(LocalInvariant);
                    stats.Notes.Enqueue($"window {key.Window} on {key.Node}: {_local[key]} admitted locally, share {share}");
                }

                _local.Remove(key);
            }
        }

    }
}
