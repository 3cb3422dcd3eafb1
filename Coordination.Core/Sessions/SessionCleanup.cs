using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The sessions' housekeeping (<see cref="ISessionMaintenance"/>): under the platform lock <c>session-cleanup</c>
/// (tenant <c>_platform</c>, a key space no tenant can name), SCANs the users' indexes of every tenant under the key
/// prefix (<c>{prefix}:*:session-user:*</c>, sorted sets), removes the entries of ended sessions with
/// <c>session_sweep.lua</c> and publishes an expiry event for each; then deletes the durable copy's expired rows in
/// PostgreSQL, when there is one (by PostgreSQL's clock, in batches). SCAN walks every primary: on a cluster, each node's
/// indexes in turn.
/// </summary>
internal sealed class SessionCleanup(SessionRuntime runtime, IPlatformLocks platformLocks) : ISessionMaintenance
{
    public const string LockName = "session-cleanup";
    public const string LockTenant = "_platform";
    private const int ScanCount = 1000;
    private const int SweepBatch = 1000;
    private const int PurgeBatch = 1000;
    private static readonly TimeSpan LockTimeToLive = TimeSpan.FromSeconds(30);

    private readonly string _owner = "session-cleanup-" + Guid.NewGuid().ToString("N");

    // Ledger entries (ledger key, id) whose session did not exist at the last round: removed if still so at the next.
    private HashSet<(string Ledger, string Id)> _suspects = [];

    public string SessionExpiredChannel { get; } = runtime.KeyPrefix + ":#session-expired";

    public async Task<SessionCleanupResult?> TryCleanupAsync(CancellationToken cancellationToken = default)
    {
        await using var hold = await platformLocks.For(LockTenant).TryAcquireAsync(
            LockName,
            new LockOptions { TimeToLive = LockTimeToLive, AutoRenew = true, Owner = _owner },
            cancellationToken);
        if (hold is null)
        {
            SessionsLog.CleanupSkipped(runtime.Logger);
            return null;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, hold.HandleLost);
        long scanned = 0;
        long removed = 0;
        long active = 0;
        await foreach (var index in ScanSortedSetsAsync(runtime.KeyPrefix + ":*:session-user:*", lost.Token))
        {
            if (Parse(index) is { } owner)
            {
                scanned++;
                var (ended, live) = await SweepAsync(index, owner.Tenant, owner.UserId, owner.SessionPrefix, lost.Token);
                removed += ended;
                active += live;
            }
        }

        var uncounted = await ReconcileLedgersAsync(lost.Token);
        // Replayed before the purge: a change made while Redis was unavailable is never purged unreplayed.
        var replayed = await runtime.Replay.ReplayAsync(lost.Token);
        var purged = runtime.Store is { } store ? await store.PurgeExpiredAsync(PurgeBatch, lost.Token) : 0;
        runtime.Metrics.RecordExpired(removed);
        runtime.Metrics.RecordActive(active);
        SessionsLog.CleanupCompleted(runtime.Logger, scanned, removed, purged);
        if (uncounted > 0)
        {
            SessionsLog.LedgerReconciled(runtime.Logger, uncounted);
        }

        return new SessionCleanupResult(scanned, removed, purged, active, replayed);
    }

    /// <summary>Sweeps one user's index; returns the entries removed and those left (live sessions).</summary>
    private async Task<(long Removed, long Live)> SweepAsync(string index, string tenant, string userId, string sessionPrefix, CancellationToken cancellationToken)
    {
        long removed = 0;
        long live = 0;
        var first = 0L;
        while (true)
        {
            var answer = (RedisResult[])(await runtime.Executor.ExecuteAsync(
                "sessions.cleanup",
                idempotent: true,
                static (db, s) => RedisScript.SessionSweep.EvaluateByShaAsync(db, [s.Index], [s.Batch, s.SessionPrefix, s.First]),
                (Index: (RedisKey)index, Batch: SweepBatch, SessionPrefix: sessionPrefix, First: first),
                cancellationToken))!;
            var ended = (string[])answer[0]!;
            var examined = (long)answer[1];
            foreach (var id in ended)
            {
                var message = JsonSerializer.Serialize(new SessionExpiredMessage(tenant, userId, id));
                await runtime.Executor.ExecuteAsync(
                    "sessions.expired",
                    idempotent: false,
                    static (db, s) => db.PublishAsync(RedisChannel.Literal(s.Channel), s.Message),
                    (Channel: SessionExpiredChannel, Message: message),
                    cancellationToken);
            }

            removed += ended.Length;
            live += examined - ended.Length;
            if (examined < SweepBatch)
            {
                return (removed, live);
            }

            // What was removed no longer takes a rank.
            first += examined - ended.Length;
        }
    }

    /// <summary>
    /// With the session quota on, removes from the tenants' session ledgers (session_quota_count.lua) the ids of sessions
    /// that no longer exist: those that ended idle or past their absolute end, and creations counted that failed. An id
    /// is removed only when its session was missing at two rounds in a row, so a creation counted just before its
    /// session was written is never uncounted. Returns how many ids were removed.
    /// </summary>
    private async Task<long> ReconcileLedgersAsync(CancellationToken cancellationToken)
    {
        if (runtime.MaxSessionsPerTenant == 0)
        {
            return 0;
        }

        var suspects = new HashSet<(string Ledger, string Id)>();
        long uncounted = 0;
        await foreach (var ledger in ScanSortedSetsAsync(runtime.KeyPrefix + ":*:" + SessionKeys.LedgerCapability + ":{*", cancellationToken))
        {
            var tenantStart = runtime.KeyPrefix.Length + 1;
            var tenantEnd = ledger.IndexOf(':', tenantStart);
            // Only exact ledger keys: a caller-named key of another capability may match the pattern.
            if (tenantEnd > 0 && new SessionKeys(runtime.KeyPrefix, ledger[tenantStart..tenantEnd]) is var keys && keys.Ledger == ledger)
            {
                uncounted += await ReconcileLedgerAsync(ledger, keys, suspects, cancellationToken);
            }
        }

        _suspects = suspects;
        return uncounted;
    }

    /// <summary>The sorted sets whose keys match <paramref name="pattern"/>, SCANned in pages on every primary.</summary>
    private async IAsyncEnumerable<string> ScanSortedSetsAsync(string pattern, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in RedisScan.PagesAsync(runtime.Executor, "sessions.cleanup", pattern, "zset", ScanCount, cancellationToken))
        {
            foreach (var key in page)
            {
                yield return key;
            }
        }
    }

    private async Task<long> ReconcileLedgerAsync(string ledger, SessionKeys keys, HashSet<(string Ledger, string Id)> suspects, CancellationToken cancellationToken)
    {
        long uncounted = 0;
        var first = 0L;
        while (true)
        {
            var ids = (string[])(await runtime.Executor.ExecuteAsync(
                "sessions.cleanup",
                idempotent: true,
                static (db, s) => db.ExecuteAsync("ZRANGE", s.Ledger, s.First, s.First + SweepBatch - 1),
                (Ledger: (RedisKey)ledger, First: first),
                cancellationToken))!;
            var sessionKeys = ids.Select(id => SessionId.TryParse(id, out var random, out var tag) ? keys.Session(tag, random) : null).ToArray();
            var exists = await runtime.Executor.ExecuteAsync(
                "sessions.cleanup",
                idempotent: true,
                static (db, s) => Task.WhenAll(s.Select(key => key is null ? Task.FromResult(false) : db.KeyExistsAsync(key))),
                sessionKeys,
                cancellationToken);
            var gone = new List<RedisValue>();
            for (var i = 0; i < ids.Length; i++)
            {
                if (exists[i])
                {
                    continue;
                }

                if (_suspects.Contains((ledger, ids[i])))
                {
                    gone.Add(ids[i]);
                }
                else
                {
                    suspects.Add((ledger, ids[i]));
                }
            }

            if (gone.Count > 0)
            {
                await runtime.Executor.ExecuteAsync(
                    "sessions.cleanup",
                    idempotent: true,
                    static (db, s) => db.SortedSetRemoveAsync(s.Ledger, s.Ids),
                    (Ledger: (RedisKey)ledger, Ids: gone.ToArray()),
                    cancellationToken);
                uncounted += gone.Count;
            }

            if (ids.Length < SweepBatch)
            {
                return uncounted;
            }

            // What was removed no longer takes a rank.
            first += ids.Length - gone.Count;
        }
    }

    /// <summary>
    /// The tenant and user of an index key, <c>{prefix}:{tenant}:session-user:{tag}:{userId}</c> (SessionKeys), or
    /// <see langword="null"/> for a sorted set of another capability that the pattern also matches (a lock's expiry set
    /// whose caller-chosen name holds <c>:session-user:</c>): the segment after the tenant must be the index's.
    /// </summary>
    private (string Tenant, string UserId, string SessionPrefix)? Parse(string index)
    {
        var tenantStart = runtime.KeyPrefix.Length + 1;
        var tenantEnd = index.IndexOf(':', tenantStart);
        if (tenantEnd < 0 || string.CompareOrdinal(index, tenantEnd, ":session-user:{", 0, 15) != 0)
        {
            return null;
        }

        var tagEnd = index.IndexOf("}:", tenantEnd, StringComparison.Ordinal);
        if (tagEnd < 0)
        {
            return null;
        }

        var tenant = index[tenantStart..tenantEnd];
        var tag = index[(tenantEnd + 15)..tagEnd];
        return (tenant, index[(tagEnd + 2)..], new SessionKeys(runtime.KeyPrefix, tenant).SessionPrefix(tag));
    }

    private sealed record SessionExpiredMessage(
        [property: System.Text.Json.Serialization.JsonPropertyName("tenant")] string Tenant,
        [property: System.Text.Json.Serialization.JsonPropertyName("userId")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("sessionId")] string SessionId);
}
