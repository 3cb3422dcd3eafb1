using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Reads string keys with GET while fewer than <see cref="CoordinationOptions.MaxReadsInFlight"/> reads of one kind
/// (key/value or cache) are outstanding; beyond that, reads are combined into one MGET per hash slot
/// (<see cref="RedisCallCombiner{TRequest, TResult}"/>).
/// </summary>
internal sealed class RedisReadCombiner(RedisExecutor executor, CoordinationMetrics metrics, string operation, int maxInFlight)
    : RedisCallCombiner<RedisKey, RedisValue>(executor, maxInFlight)
{
    /// <summary>The value of <paramref name="key"/> (null when absent).</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public ValueTask<RedisValue> GetAsync(RedisKey key, CancellationToken cancellationToken) => RunAsync(key, cancellationToken);

    /// <summary>Reads that went out combined with others, since start.</summary>
    internal long CombinedReads => Combined;

    protected override RedisKey KeyOf(RedisKey request) => request;

    protected override ValueTask<RedisValue> RunAloneAsync(RedisKey request, CancellationToken cancellationToken) =>
        Executor.ExecuteAsync(operation, request, idempotent: true, static (db, k) => db.StringGetAsync(k), request, cancellationToken);

    protected override Task<RedisValue[]> RunCombinedAsync(ArraySegment<Pending> group)
    {
        var keys = new RedisKey[group.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = group[i].Key;
        }

        return Executor.ExecuteAsync(operation, keys[0], idempotent: true, static (db, k) => db.StringGetAsync(k), keys, CancellationToken.None).AsTask();
    }

    protected override void RecordCombined(int calls) => metrics.RecordReadsCombined(operation, calls);
}
