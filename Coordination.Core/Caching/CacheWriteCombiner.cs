using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Writes cache entries with their invalidations. A write on its own is <c>cache_set.lua</c> followed on the same
/// connection by <c>cache_log_append.lua</c> (one round trip, entry first). While
/// <see cref="CoordinationOptions.MaxWritesInFlight"/> writes are outstanding, further writes are combined
/// (<see cref="RedisCallCombiner{TRequest, TResult}"/>): one <c>cache_set_batch.lua</c> per hash slot, followed by one
/// log entry per tenant of the batch naming all its keys (kind <c>m</c>: one <c>XADD</c> and one <c>PUBLISH</c>, so
/// one backplane message reaches each node for the whole batch). Entries are written before their announcement, so a
/// node that receives the message reads the new entries. The commands are idempotent and retried whole.
/// </summary>
internal sealed class CacheWriteCombiner(CacheRuntime runtime, CoordinationMetrics metrics, int maxInFlight)
    : RedisCallCombiner<CacheWriteCombiner.Write, long>(runtime.Executor, maxInFlight)
{
    private const string Operation = "cache.set";

    /// <summary>Writes an entry and announces its key; the server time (ms) at which the entry was created.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public ValueTask<long> WriteAsync(in Write write, CancellationToken cancellationToken) => RunAsync(write, cancellationToken);

    /// <summary>
    /// The same for a write nobody waits for (a miss's background write): sent <see cref="Linger"/> after the first
    /// such write of a batch, with every other one made meanwhile (at once when <see cref="LingerBatch"/> are waiting), so a trickle of misses shares its scripts and its
    /// backplane message too (one caller in a loop: about one batch per millisecond instead of two scripts per miss).
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    public ValueTask<long> WriteLaterAsync(in Write write) => RunLaterAsync(write, Linger, LingerBatch);

    /// <summary>How long a background write waits for others to share its batch.</summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(1);

    /// <summary>A lingering batch this large is sent at once: a larger one would hold up the commands queued behind it.</summary>
    internal const int LingerBatch = 16;

    protected override RedisKey KeyOf(Write request) => request.Key;

    protected override async ValueTask<long> RunAloneAsync(Write request, CancellationToken cancellationToken) =>
        await Executor.ExecuteAsync(
            Operation,
            idempotent: true,
            static async (db, s) =>
            {
                var set = RedisScript.CacheSet.EvaluateByShaAsync(db, [s.Request.Key], [s.Request.TimeToLive, s.Request.PhysicalTimeToLive, s.Request.Sliding, s.Request.Body]);
                var log = s.Runtime.AppendLogAsync(db, "k", s.Request.Tenant, s.Request.Name);
                await Task.WhenAll(set, log);
                return (long)await set;
            },
            (Request: request, Runtime: runtime),
            cancellationToken);

    protected override async Task<long[]> RunCombinedAsync(ArraySegment<Pending> group)
    {
        var keys = new RedisKey[group.Count];
        var arguments = new RedisValue[group.Count * 4];
        for (var i = 0; i < keys.Length; i++)
        {
            var write = group[i].Request;
            keys[i] = write.Key;
            arguments[4 * i] = write.TimeToLive;
            arguments[(4 * i) + 1] = write.PhysicalTimeToLive;
            arguments[(4 * i) + 2] = write.Sliding;
            arguments[(4 * i) + 3] = write.Body;
        }

        var announcements = Announcements(group);
        var created = await Executor.ExecuteAsync(
            Operation,
            idempotent: true,
            static async (db, s) =>
            {
                var set = RedisScript.CacheSetBatch.EvaluateByShaAsync(db, s.Keys, s.Arguments);
                var logs = new Task[s.Announcements.Count + 1];
                for (var i = 0; i < s.Announcements.Count; i++)
                {
                    var (tenant, kind, argument) = s.Announcements[i];
                    logs[i] = s.Runtime.AppendLogAsync(db, kind, tenant, argument);
                }

                logs[^1] = set;
                await Task.WhenAll(logs);
                return (long)await set;
            },
            (Keys: keys, Arguments: arguments, Announcements: announcements, Runtime: runtime),
            CancellationToken.None);
        var results = new long[group.Count];
        Array.Fill(results, created);
        return results;
    }

    /// <summary>
    /// One log entry per tenant of the batch: <c>k</c> with its key when it has one, else <c>m</c> with its keys
    /// separated by newlines (a key cannot contain a control character), in arrival order.
    /// </summary>
    private static List<(string Tenant, string Kind, string Argument)> Announcements(ArraySegment<Pending> group)
    {
        var byTenant = new List<(string Tenant, List<string> Names)>(1);
        foreach (var pending in group)
        {
            var write = pending.Request;
            var index = byTenant.FindIndex(t => string.Equals(t.Tenant, write.Tenant, StringComparison.Ordinal));
            if (index < 0)
            {
                byTenant.Add((write.Tenant, [write.Name]));
            }
            else
            {
                byTenant[index].Names.Add(write.Name);
            }
        }

        return byTenant.ConvertAll(static t => t.Names.Count == 1 ? (t.Tenant, "k", t.Names[0]) : (t.Tenant, "m", string.Join('\n', t.Names)));
    }

    protected override void RecordCombined(int calls) => metrics.RecordWritesCombined(calls, Operation);

    /// <summary>
    /// One entry write: <see cref="Body"/> under <see cref="Key"/>, fresh for <see cref="TimeToLive"/> ms, kept for
    /// <see cref="PhysicalTimeToLive"/> ms; <see cref="Name"/> is the key as the tenant <see cref="Tenant"/> named it.
    /// </summary>
    internal readonly record struct Write(RedisKey Key, long TimeToLive, long PhysicalTimeToLive, long Sliding, byte[] Body, string Tenant, string Name);
}
