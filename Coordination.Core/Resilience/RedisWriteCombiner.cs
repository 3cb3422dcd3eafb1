using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Writes key/value keys (SET, DEL) on their own while fewer than <see cref="CoordinationOptions.MaxWritesInFlight"/>
/// writes are outstanding; beyond that, writes are combined into one command per hash slot
/// (<see cref="RedisCallCombiner{TRequest, TResult}"/>): MSET when every write of it is a SET without expiry, else
/// kv_write_batch.lua, which makes them in arrival order. Every write of a command succeeds or fails with it; SET and
/// DEL are idempotent, so a command is retried whole.
/// </summary>
internal sealed class RedisWriteCombiner(RedisExecutor executor, CoordinationMetrics metrics, int maxInFlight)
    : RedisCallCombiner<RedisWriteCombiner.Write, bool>(executor, maxInFlight)
{
    private const string Operation = "kv.write";

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, expiring after <paramref name="timeToLive"/> when given.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public async ValueTask SetAsync(RedisKey key, RedisValue value, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        await RunAsync(new Write(key, value, timeToLive), cancellationToken);

    /// <summary>Deletes <paramref name="key"/>; whether it existed.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public ValueTask<bool> DeleteAsync(RedisKey key, CancellationToken cancellationToken) =>
        RunAsync(new Write(key, RedisValue.Null, null), cancellationToken);

    protected override RedisKey KeyOf(Write request) => request.Key;

    protected override ValueTask<bool> RunAloneAsync(Write request, CancellationToken cancellationToken) =>
        request.Value.IsNull
            ? Executor.ExecuteAsync("kv.delete", request.Key, idempotent: true, static (db, w) => db.KeyDeleteAsync(w.Key), request, cancellationToken)
            : Executor.ExecuteAsync("kv.set", request.Key, idempotent: true, static (db, w) => db.StringSetAsync(w.Key, w.Value, w.TimeToLive, When.Always), request, cancellationToken);

    protected override async Task<bool[]> RunCombinedAsync(ArraySegment<Pending> group)
    {
        var results = new bool[group.Count];
        if (group.All(static p => p.Request.TimeToLive is null && !p.Request.Value.IsNull))
        {
            var pairs = new KeyValuePair<RedisKey, RedisValue>[group.Count];
            for (var i = 0; i < pairs.Length; i++)
            {
                pairs[i] = new(group[i].Key, group[i].Request.Value);
                results[i] = true;
            }

            await Executor.ExecuteAsync(Operation, group[0].Key, idempotent: true, static (db, p) => db.StringSetAsync(p), pairs, CancellationToken.None);
            return results;
        }

        var keys = new RedisKey[group.Count];
        var arguments = new RedisValue[group.Count * 2];
        for (var i = 0; i < keys.Length; i++)
        {
            var write = group[i].Request;
            keys[i] = write.Key;
            arguments[2 * i] = write.Value.IsNull ? -1 : write.TimeToLive is { } ttl ? Math.Max(1, (long)ttl.TotalMilliseconds) : 0;
            arguments[(2 * i) + 1] = write.Value.IsNull ? RedisValue.EmptyString : write.Value;
        }

        var answers = (RedisResult[])(await Executor.ExecuteAsync(
            Operation,
            keys[0],
            idempotent: true,
            static (db, s) => RedisScript.KeyValueWriteBatch.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: keys, Arguments: arguments),
            CancellationToken.None))!;
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = (long)answers[i] == 1;
        }

        return results;
    }

    protected override void RecordCombined(int calls) => metrics.RecordWritesCombined(calls);

    /// <summary>One write: a SET of <see cref="Value"/>, or a DEL when it is null.</summary>
    internal readonly record struct Write(RedisKey Key, RedisValue Value, TimeSpan? TimeToLive);
}
