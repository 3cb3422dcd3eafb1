using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The bulk session migration (<see cref="ISessionMigration"/>): SCANs the users' indexes under the source's key prefix
/// (<c>{prefix}:*:session-user:*</c>, sorted sets) on every primary of the source and moves each listed session with
/// the same three steps as the read-through (<see cref="RedisSessionManager.MoveAsync"/>), several at once. A session is
/// counted by the mover whose conditional removal took it from the source, so passes running together count each
/// session once. Under the platform lock <c>session-migration</c> (tenant <c>_platform</c>) for the Worker.
/// </summary>
internal sealed class SessionMigration(SessionRuntime runtime, IPlatformLocks platformLocks) : ISessionMigration
{
    public const string LockName = "session-migration";
    public const string LockTenant = "_platform";
    private const int ScanCount = 1000;
    private const int MovesAtOnce = 8;
    private static readonly TimeSpan LockTimeToLive = TimeSpan.FromSeconds(30);

    private readonly string _owner = "session-migration-" + Guid.NewGuid().ToString("N");

    public bool IsConfigured => runtime.Migration is not null;

    public async Task<SessionMigrationResult?> TryMigrateAsync(CancellationToken cancellationToken = default)
    {
        _ = Source;
        await using var hold = await platformLocks.For(LockTenant).TryAcquireAsync(
            LockName,
            new LockOptions { TimeToLive = LockTimeToLive, AutoRenew = true, Owner = _owner },
            cancellationToken);
        if (hold is null)
        {
            SessionsLog.MigrationSkipped(runtime.Logger);
            return null;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, hold.HandleLost);
        return await MigrateAsync(lost.Token);
    }

    public async Task<SessionMigrationResult> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var source = Source;
        var pattern = source.KeyPrefix + ":*:session-user:*";
        long indexes = 0, moved = 0, present = 0, ended = 0;
        foreach (var primary in await source.PrimariesAsync(cancellationToken))
        {
            var cursor = "0";
            do
            {
                var page = await ScanAsync(primary, cursor, pattern, cancellationToken);
                cursor = (string)page[0]!;
                var moves = new List<(RedisSessionManager Manager, string Id, string Random, string Tag, string Index)>();
                foreach (var index in (string[])page[1]!)
                {
                    if (Parse(source.KeyPrefix, index) is not { } tenant)
                    {
                        continue;
                    }

                    indexes++;
                    var manager = runtime.ForTenant(tenant);
                    var ids = await source.ExecuteAsync(
                        "session.migrate.list",
                        static (db, key) => db.SortedSetRangeByRankAsync(key),
                        (RedisKey)index,
                        cancellationToken);
                    foreach (var id in ids)
                    {
                        if (SessionId.TryParse(id, out var random, out var tag))
                        {
                            moves.Add((manager, id!, random, tag, index));
                        }
                    }
                }

                await Parallel.ForEachAsync(
                    moves,
                    new ParallelOptions { MaxDegreeOfParallelism = MovesAtOnce, CancellationToken = cancellationToken },
                    async (move, token) =>
                    {
                        var (outcome, removed) = await move.Manager.MoveAsync(move.Id, move.Random, move.Tag, move.Index, bulk: true, token);
                        if (!removed)
                        {
                            // Another mover took it (and counts it), or it changed at the source since: the next pass.
                            return;
                        }

                        switch (outcome)
                        {
                            case SessionMoveOutcome.Moved:
                                Interlocked.Increment(ref moved);
                                break;
                            case SessionMoveOutcome.Present:
                                Interlocked.Increment(ref present);
                                break;
                            default:
                                Interlocked.Increment(ref ended);
                                break;
                        }
                    });
            }
            while (cursor != "0");
        }

        SessionsLog.MigrationPassCompleted(runtime.Logger, indexes, moved, present, ended);
        return new SessionMigrationResult(indexes, moved, present, ended);
    }

    private SessionMigrationSource Source =>
        runtime.Migration ?? throw new InvalidOperationException("No session migration source is configured (Coordination:Sessions:MigrateFrom).");

    private static async Task<RedisResult[]> ScanAsync(IServer primary, string cursor, string pattern, CancellationToken cancellationToken)
    {
        try
        {
            return (RedisResult[])(await primary.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", ScanCount, "TYPE", "zset").WaitAsync(cancellationToken))!;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw ExceptionFactory.Unavailable("session.migrate.scan", ex);
        }
    }

    /// <summary>
    /// The tenant of an index key, <c>{prefix}:{tenant}:session-user:{tag}:{userId}</c>, or <see langword="null"/> for a
    /// sorted set of another capability the pattern also matches (a lock name holding <c>:session-user:</c>).
    /// </summary>
    private static string? Parse(string prefix, string index)
    {
        var tenantStart = prefix.Length + 1;
        var tenantEnd = index.IndexOf(':', tenantStart);
        if (tenantEnd < 0 || string.CompareOrdinal(index, tenantEnd, ":session-user:{", 0, 15) != 0)
        {
            return null;
        }

        var tenant = index[tenantStart..tenantEnd];
        return CoordinationLimits.IsValidSegment(tenant) ? tenant : null;
    }
}
