using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The hot keys of a tenant's cache shared by all nodes: a sorted set <c>{prefix}:{tenant}:cache-hot</c> of key to
/// sampled read count. Every node adds its counts; the warming node takes the top and halves every count, so the table
/// follows what is hot now. It expires when nobody writes it for <c>keepFor</c>.
/// </summary>
internal sealed class HotKeyTable(RedisExecutor executor, string redisKey, TimeSpan keepFor, int maxEntries)
{
    public string RedisKey { get; } = redisKey;

    /// <summary>Adds <paramref name="counts"/> (ZINCRBY each, pipelined in one round trip).</summary>
    public async Task PublishAsync(KeyValuePair<string, long>[] counts, CancellationToken cancellationToken)
    {
        if (counts.Length == 0)
        {
            return;
        }

        await executor.ExecuteAsync(
            "cache.hot.publish",
            idempotent: false,
            static async (db, s) =>
            {
                var calls = new Task[s.Counts.Length + 1];
                for (var i = 0; i < s.Counts.Length; i++)
                {
                    calls[i] = db.SortedSetIncrementAsync(s.Key, s.Counts[i].Key, s.Counts[i].Value);
                }

                calls[^1] = db.KeyExpireAsync(s.Key, s.KeepFor);
                await Task.WhenAll(calls);
                return true;
            },
            (Key: (RedisKey)RedisKey, Counts: counts, KeepFor: keepFor),
            cancellationToken);
    }

    /// <summary>The <paramref name="count"/> hottest keys, hottest first; then every count is halved and the table trimmed.</summary>
    public async Task<string[]> TakeTopAsync(int count, CancellationToken cancellationToken) =>
        await executor.ExecuteAsync(
            "cache.hot.top",
            idempotent: false,
            static async (db, s) =>
            {
                // Sent in this order on one connection: read, halve (ZUNIONSTORE onto itself), drop what fell below one
                // read, keep the largest entries only, and restore the expiry the store removed.
                var top = db.SortedSetRangeByRankAsync(s.Key, 0, s.Count - 1, Order.Descending);
                var decay = db.SortedSetCombineAndStoreAsync(SetOperation.Union, s.Key, [s.Key], [0.5]);
                var prune = db.SortedSetRemoveRangeByScoreAsync(s.Key, double.NegativeInfinity, 1, Exclude.Stop);
                var trim = db.SortedSetRemoveRangeByRankAsync(s.Key, 0, -(s.Max + 1));
                var expire = db.KeyExpireAsync(s.Key, s.KeepFor);
                await Task.WhenAll(top, decay, prune, trim, expire);
                return (await top).Select(static v => v.ToString()).ToArray();
            },
            (Key: (RedisKey)RedisKey, Count: count, Max: (long)maxEntries, KeepFor: keepFor),
            cancellationToken);
}
