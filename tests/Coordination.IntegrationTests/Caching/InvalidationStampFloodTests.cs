using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// One tenant's flood of invalidations is harmless to the others. It loads both cores for seconds, so it runs alone
/// (after the parallel tests), where it neither disturbs their timing nor is disturbed by it.
/// </summary>
[Collection(nameof(InvalidationStampFloodTests))]
public sealed class InvalidationStampFloodTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    /// <summary>
    /// The finding's traffic: 5,000 invalidations of 32 fresh 500-character tags by one tenant, while another tenant
    /// uses its cache on the same Redis. The flood has its own redis-server, so a Redis it blocks blocks no other test.
    /// </summary>
    [Fact]
    public async Task InvalidateTagsAsync_FloodOfFreshTagsByOneTenant_StampsStayBoundedAndOtherTenantStaysCorrectAndFast()
    {
        const int Invalidations = 5_000;
        const int TagsPerCall = 32;
        const int Bound = 10_000; // The default of MaxStampsPerTenant.
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2);
        var circuitOpenings = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            hosts[i].Events.CircuitOpened += (_, _) => Interlocked.Increment(ref circuitOpenings);
        }

        var attacker = hosts[0].Factory.ForTenant("attacker").Cache;
        var attackerOnSecond = hosts[1].Factory.ForTenant("attacker").Cache;
        var tenant = hosts[0].Factory.ForTenant("tenant").Cache;
        var tenantOnSecond = hosts[1].Factory.ForTenant("tenant").Cache;

        // An entry of the attacker invalidated before the flood, held in the second replica's memory level: the flood
        // evicts its stamp, and it must stay invalid everywhere.
        await attacker.SetAsync("before", 1, new CacheEntryOptions { TimeToLive = InvalidationStampTests.Hour, Tags = ["old-tag"] }, Token);
        await ProcessUtil.WaitUntilAsync(async () => (await attackerOnSecond.GetAsync<int>("before", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the second replica to hold the entry in memory", Token);
        await attacker.InvalidateTagsAsync(["old-tag"], Token);
        await ProcessUtil.WaitUntilAsync(async () => !(await attackerOnSecond.GetAsync<int>("before", Token)).HasValue, TimeSpan.FromSeconds(5), "the invalidation to reach the second replica", Token);

        using var flooding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        flooding.CancelAfter(TimeSpan.FromSeconds(120));
        var sent = 0;
        var floodFailures = 0;
        var floodTime = Stopwatch.StartNew();
        var flood = Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Invalidations && !flooding.IsCancellationRequested)
            {
                var tags = Enumerable.Range(0, TagsPerCall).Select(_ => Guid.NewGuid().ToString("N") + new string('x', 468)).ToArray();
                try
                {
                    await attacker.InvalidateTagsAsync(tags, flooding.Token);
                }
                catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
                {
                    Interlocked.Increment(ref floodFailures);
                }
            }
        }, Token)));

        // The other tenant, meanwhile: writes, reads on both replicas, tag invalidations; every answer checked and timed.
        var latencies = new List<double>();
        var wrong = new List<string>();
        var round = 0;
        var watch = new Stopwatch();
        async Task TimeAsync(Func<Task> call)
        {
            watch.Restart();
            try
            {
                await call();
            }
            catch (Exception ex) when (ex is CoordinationException or TimeoutException)
            {
                wrong.Add($"round {round}: {ex.GetType().Name}: {ex.Message}");
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        while (!flood.IsCompleted || round < 50)
        {
            round++;
            var key = $"k{round}";
            var tag = $"tag{round}"; // Never stamped before its entry is written (a stamp covers its own millisecond).
            await TimeAsync(() => tenant.SetAsync(key, round, new CacheEntryOptions { TimeToLive = InvalidationStampTests.Hour, Tags = [tag] }, Token).AsTask());
            await TimeAsync(async () => Check(await tenant.GetAsync<int>(key, Token), round, $"round {round}: own read"));
            await TimeAsync(async () => Check(await tenantOnSecond.GetAsync<int>(key, Token), round, $"round {round}: second replica's read"));
            if (round % 10 == 0)
            {
                await TimeAsync(() => tenant.InvalidateTagsAsync([tag], Token).AsTask());
                await TimeAsync(async () => Check(await tenant.GetAsync<int>(key, Token), null, $"round {round}: read after invalidating its tag"));
            }
        }

        void Check(CacheResult<int> result, int? expected, string what)
        {
            if (result.HasValue != expected.HasValue || (expected is { } value && result.Value != value))
            {
                wrong.Add($"{what}: {(result.HasValue ? result.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "miss")}, expected {expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "miss"}");
            }
        }

        await flood;
        floodTime.Stop();
        latencies.Sort();
        var p99 = latencies[(int)(latencies.Count * 0.99)];
        var admin = (await server.GetAdminAsync()).GetDatabase();
        var stampCount = await InvalidationStampTests.StoredStampCountAsync(admin, hosts.KeyPrefix, "attacker");
        Output.WriteLine($"[measure] flood of {Math.Min(sent, Invalidations)} x {TagsPerCall} fresh 500-char tags in {floodTime.Elapsed.TotalSeconds:F1} s, {floodFailures} failed; other tenant: {latencies.Count} calls, p50 {latencies[latencies.Count / 2]:F1} ms, p99 {p99:F1} ms, max {latencies[^1]:F1} ms; stored stamps of the flooding tenant: {stampCount}");

        Assert.False(flooding.IsCancellationRequested, $"The flood did not finish within 120 s ({Math.Min(sent, Invalidations)} of {Invalidations} calls sent).");
        Assert.Equal(0, floodFailures);
        Assert.InRange(stampCount, 1, Bound);
        Assert.Empty(wrong);
        Assert.Equal(0, Volatile.Read(ref circuitOpenings));
        Assert.True(p99 < 250, $"The other tenant's p99 was {p99:F1} ms.");

        // The entry invalidated before the flood stays invalid: on the replica that held it, and on a fresh one that
        // loads the stamps (whose stamp for 'old-tag' was folded into the floor).
        Assert.Null(await admin.SortedSetScoreAsync(InvalidationStampTests.StampsKey(hosts.KeyPrefix, "attacker"), "t:old-tag"));
        Assert.False((await attackerOnSecond.GetAsync<int>("before", Token)).HasValue);
        var third = await hosts.AddAsync(server.ConnectionString);
        Assert.False((await third.Factory.ForTenant("attacker").Cache.GetAsync<int>("before", Token)).HasValue);

        // The floor does not touch what the attacker writes afterwards (in a later millisecond than every stamp).
        await Task.Delay(5, Token);
        await attacker.SetAsync("after", 2, new CacheEntryOptions { TimeToLive = InvalidationStampTests.Hour }, Token);
        Assert.Equal(2, (await third.Factory.ForTenant("attacker").Cache.GetAsync<int>("after", Token)).Value);
    }
}

/// <summary>Runs <see cref="InvalidationStampFloodTests"/> alone.</summary>
[CollectionDefinition(nameof(InvalidationStampFloodTests), DisableParallelization = true)]
public sealed class InvalidationStampFloodRunsAlone;
