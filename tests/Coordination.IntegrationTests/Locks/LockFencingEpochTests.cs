using System.Collections.Concurrent;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// Fencing tokens across Redis data loss, with real redis-server and PostgreSQL processes: a token is
/// <c>epoch * 2^40 + count</c>, the epoch being that of the Redis server life (run id) kept in PostgreSQL, so tokens
/// issued after a crash without persistence, or a restart from an older dump, are above every token issued before,
/// even for a lock whose counter ran far ahead of the clock (docs/locks.md, "Fencing tokens").
/// </summary>
public sealed class LockFencingEpochTests(PostgresFixture postgres)
{
    private const long EpochUnit = 1L << FencingEpochs.EpochShift;

    private static readonly string[] Names = ["alpha", "beta", "gamma"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledAndRestartedEmpty_EveryTokenAfterIsAboveEveryTokenBefore()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg);
        var locks = host.Coordinator.Locks;

        var before = await TakeTokensAsync(locks, redis);
        await redis.KillAsync();
        await redis.RestartAsync(Token);
        var after = await TakeTokensAsync(locks, redis, hotAcquisitions: 0);

        AssertAllAbove(before, after);
        Assert.True(host.Services.GetRequiredService<LockRuntime>().Fencing.Current.Epoch >= 2, "A new Redis server life has a new epoch.");
    }

    [Fact]
    public async Task RestartedFromAnOlderDump_EveryTokenAfterIsAboveEveryTokenBefore()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg);
        var locks = host.Coordinator.Locks;

        var before = await TakeTokensAsync(locks, redis);
        var admin = await redis.GetAdminAsync();
        await admin.GetServers()[0].ExecuteAsync("SAVE");
        // The counters move on after the dump: the dump holds older values than the tokens handed out since.
        var sinceDump = await TakeTokensAsync(locks, redis, hotAcquisitions: 500);
        foreach (var (name, tokens) in sinceDump)
        {
            before[name].AddRange(tokens);
        }

        await redis.KillAsync();
        await redis.RestartAsync(Token);
        Assert.True(await (await redis.GetAdminAsync()).GetDatabase().KeyExistsAsync(host.RedisKey("hot", "lock") + ":fence"), "The restart loaded the dump.");
        var after = await TakeTokensAsync(locks, redis, hotAcquisitions: 0);

        AssertAllAbove(before, after);
    }

    [Fact]
    public async Task ReSeedIntoANewEpoch_IsNotANewNameForTheLockNameQuota()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(
            redis.ConnectionString, pg, settings: [new("Coordination:Quotas:MaxLockNamesPerTenant", "2")]);
        var locks = host.Coordinator.Locks;
        var ledger = (RedisKey)CoordinationKey.TenantTagged(host.KeyPrefix, "default", "lock-ledger");

        var fast = await AcquireTokenAsync(locks, "quota-fast", general: false);
        var general = await AcquireTokenAsync(locks, "quota-general", general: true);
        var admin = await redis.GetAdminAsync();
        var counted = await admin.GetDatabase().SortedSetRangeByRankWithScoresAsync(ledger);
        Assert.Equal(2, counted.Length);
        await admin.GetServers()[0].ExecuteAsync("SAVE");

        await redis.KillAsync();
        await redis.RestartAsync(Token);

        // The counters came back from the dump in the old epoch: re-seeded into the new one, not created, so the
        // names are not counted again (their ledger entries keep their scores) and the quota still holds.
        Assert.True(await AcquireTokenAsync(locks, "quota-fast", general: true) > fast);
        Assert.True(await AcquireTokenAsync(locks, "quota-general", general: false) > general);
        var after = await (await redis.GetAdminAsync()).GetDatabase().SortedSetRangeByRankWithScoresAsync(ledger);
        Assert.Equal(counted, after);
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(() => AcquireOnceAsync(locks, "quota-third", general: false));
    }

    [Fact]
    public async Task ManyNodesAcrossARestart_OneEpochPerServerLifeAndTokensOfEachNameStrictlyIncrease()
    {
        const int Nodes = 4;
        const int AcquirersPerNode = 8;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        var prefix = TestKeys.NewPrefix();
        var hosts = new List<CoordinationTestHost>();
        try
        {
            for (var i = 0; i < Nodes; i++)
            {
                hosts.Add(await CoordinationTestHost.StartAsync(
                    redis.ConnectionString, prefix, [new("Coordination:Fallback:Schema", schema)], pg.ConnectionString, $"node{i}"));
            }

            var gate = new Lock();
            var last = new Dictionary<string, long>(StringComparer.Ordinal);
            var violations = new ConcurrentQueue<string>();
            var acquired = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);

            async Task AcquireLoopAsync(IDistributedLockManager locks, int worker)
            {
                var random = new Random(worker);
                while (!stop.IsCancellationRequested)
                {
                    var name = Names[random.Next(Names.Length)];
                    try
                    {
                        await using var handle = await locks.TryAcquireAsync(
                            name, new LockOptions { TimeToLive = TimeSpan.FromSeconds(30), WaitTimeout = TimeSpan.FromSeconds(2) }, stop.Token);
                        if (handle is null)
                        {
                            continue;
                        }

                        // Recorded while held: the holds of a name follow each other, so their tokens must increase.
                        lock (gate)
                        {
                            if (last.TryGetValue(name, out var previous) && handle.FencingToken <= previous)
                            {
                                violations.Enqueue($"{name}: {handle.FencingToken} after {previous}");
                            }

                            last[name] = Math.Max(previous, handle.FencingToken);
                            acquired++;
                        }
                    }
                    catch (CoordinationUnavailableException)
                    {
                        // Redis is down or coming back: try again.
                        await Task.Delay(20, CancellationToken.None);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                    }
                }
            }

            var workers = hosts.SelectMany((h, n) => Enumerable.Range(0, AcquirersPerNode).Select(w => AcquireLoopAsync(h.Coordinator.Locks, (n * AcquirersPerNode) + w))).ToArray();
            await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref acquired) > 500, TimeSpan.FromSeconds(30), "acquisitions before the crash", Token);

            await redis.KillAsync();
            await redis.RestartAsync(Token);
            var afterRestart = Volatile.Read(ref acquired);
            await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref acquired) > afterRestart + 500, TimeSpan.FromSeconds(30), "acquisitions after the restart", Token);
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            Assert.Empty(violations);

            // Every node resolved the new server life to the same epoch: one row per run id, and every node holds the newest.
            var epochs = await ReadEpochsAsync(pg, schema);
            Assert.Equal(2, epochs.Count);
            Assert.All(hosts, h => Assert.Equal(epochs.Max(), h.Services.GetRequiredService<LockRuntime>().Fencing.Current.Epoch));
            lock (gate)
            {
                Assert.All(last.Values, token => Assert.Equal(epochs.Max(), token / EpochUnit));
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WithoutPostgres_TokensAreTheCountsOfEpochZero()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var locks = host.Coordinator.Locks;
        var clock = await RedisSecondsAsync(redis);

        var fast = await AcquireTokenAsync(locks, "fast", general: false);
        var general = await AcquireTokenAsync(locks, "general", general: true);

        // Today's tokens exactly: a new name starts from Redis's clock in seconds and counts on by one.
        Assert.InRange(fast, clock, clock + 5);
        Assert.InRange(general, clock, clock + 5);
        Assert.Equal(fast + 1, await AcquireTokenAsync(locks, "fast", general: false));
        Assert.Equal(general + 1, await AcquireTokenAsync(locks, "general", general: true));
        Assert.False(host.Services.GetRequiredService<LockRuntime>().Fencing.Enabled);
        Assert.Equal(0, host.Services.GetRequiredService<LockRuntime>().Fencing.Current.Epoch);
    }

    [Fact]
    public async Task PostgresDownWhenANewEpochIsNeeded_FailsClosed_CurrentEpochCountersStillAcquire()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var pg = await PostgresServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg);
        var locks = host.Coordinator.Locks;

        var first = await AcquireTokenAsync(locks, "kept", general: false);
        Assert.True(first >= EpochUnit, $"The first token {first} is in an epoch from PostgreSQL.");
        await ProcessUtil.WaitUntilAsync(() => !host.Services.GetRequiredService<LockRuntime>().Fencing.Verify, TimeSpan.FromSeconds(10), "the servers' identity to be verified", Token);

        await pg.DisposeAsync();

        // The server life is known: its counters (new ones too) need nothing from PostgreSQL.
        Assert.Equal(first + 1, await AcquireTokenAsync(locks, "kept", general: false));
        Assert.Equal(first + 2, await AcquireTokenAsync(locks, "kept", general: true));
        var fresh = await AcquireTokenAsync(locks, "fresh", general: false);
        Assert.Equal(first / EpochUnit, fresh / EpochUnit);

        // A new server life needs a new epoch, which only PostgreSQL can give: refused, not a token that may repeat.
        await redis.KillAsync();
        await redis.RestartAsync(Token);
        CoordinationUnavailableException? refused = null;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await AcquireOnceAsync(locks, "kept", general: false);
                    Assert.Fail("A lock was acquired on a new Redis server life without its fencing epoch.");
                }
                catch (CoordinationUnavailableException ex) when (ex.Message.Contains("fencing epoch", StringComparison.Ordinal))
                {
                    refused = ex;
                }
                catch (CoordinationUnavailableException)
                {
                    // Still reconnecting.
                }

                return refused is not null;
            },
            TimeSpan.FromSeconds(20),
            "the acquisition to be refused for want of an epoch",
            Token,
            TimeSpan.FromMilliseconds(50));
        Assert.IsAssignableFrom<NpgsqlException>(refused!.InnerException);
        Assert.False(await (await redis.GetAdminAsync()).GetDatabase().KeyExistsAsync(host.RedisKey("kept", "lock")), "A refused acquisition leaves no hold.");
        Assert.False(await (await redis.GetAdminAsync()).GetDatabase().KeyExistsAsync(host.RedisKey("kept", "lock") + ":fence"), "A refused acquisition leaves no counter.");
    }

    /// <summary>
    /// Takes tokens of <see cref="Names"/> (fast and general layouts) and of "hot", acquired
    /// <paramref name="hotAcquisitions"/> times as fast as it goes so that its counter runs far ahead of the clock.
    /// </summary>
    private static async Task<Dictionary<string, List<long>>> TakeTokensAsync(IDistributedLockManager locks, RedisServer redis, int hotAcquisitions = 3000)
    {
        var tokens = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        // Alternating layouts, and starting with either: after a restart the first acquisition of a name (the one
        // that re-seeds its counter) runs the fast script for some names and the general one for others.
        var first = 0;
        foreach (var name in Names.Append("hot"))
        {
            tokens[name] = [];
            for (var i = 0; i < 4; i++)
            {
                tokens[name].Add(await AcquireTokenAsync(locks, name, general: (first + i) % 2 == 1));
            }

            first++;
        }

        for (var i = 0; i < hotAcquisitions; i++)
        {
            tokens["hot"].Add(await AcquireTokenAsync(locks, "hot", general: false));
        }

        if (hotAcquisitions >= 1000)
        {
            var clock = await RedisSecondsAsync(redis);
            var count = tokens["hot"].Max() % EpochUnit;
            Assert.True(count > clock + 1000, $"The hot counter ({count}) ran ahead of the clock ({clock}).");
        }

        return tokens;
    }

    private static void AssertAllAbove(Dictionary<string, List<long>> before, Dictionary<string, List<long>> after)
    {
        foreach (var (name, tokens) in after)
        {
            Assert.True(
                tokens.Min() > before[name].Max(),
                $"'{name}': the least token after the restart, {tokens.Min()}, is not above the greatest before it, {before[name].Max()}.");
        }
    }

    /// <summary>Takes and releases the lock, retrying while Redis is coming back.</summary>
    private static async Task<long> AcquireTokenAsync(IDistributedLockManager locks, string name, bool general)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                return await AcquireOnceAsync(locks, name, general);
            }
            catch (CoordinationUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Token);
            }
        }
    }

    private static async Task<long> AcquireOnceAsync(IDistributedLockManager locks, string name, bool general)
    {
        // A fair acquisition always runs lock_acquire.lua (the general layout); a plain one on a free lock, the fast path.
        await using var handle = await locks.AcquireAsync(name, new LockOptions { Fair = general, WaitTimeout = TimeSpan.FromSeconds(5) }, Token);
        return handle.FencingToken;
    }

    private static async Task<long> RedisSecondsAsync(RedisServer redis) =>
        (long)(await (await redis.GetAdminAsync()).GetServers()[0].TimeAsync() - DateTime.UnixEpoch).TotalSeconds;

    private static async Task<List<long>> ReadEpochsAsync(PostgresServer pg, string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
#pragma warning disable CA2100 // The schema is the test's own identifier.
        await using var command = dataSource.CreateCommand($"SELECT epoch FROM {schema}.fencing_epochs");
#pragma warning restore CA2100
        await using var reader = await command.ExecuteReaderAsync(Token);
        var epochs = new List<long>();
        while (await reader.ReadAsync(Token))
        {
            epochs.Add(reader.GetInt64(0));
        }

        return epochs;
    }
}
