using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Connections;

/// <summary>
/// The coordinator on a real Sentinel group (one primary, two replicas, three sentinels): a connection string of
/// sentinels and a <c>serviceName</c> reaches the primary for every capability, and when the primary is killed under
/// load the coordinator follows the primary the sentinels elect, failing in the meantime only with
/// <see cref="CoordinationUnavailableException"/>.
/// </summary>
[Collection(nameof(FaultTimingTests))]
public sealed class SentinelTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task EveryCapability_ThroughSentinels_WritesToThePrimary()
    {
        await using var group = await RedisSentinelGroup.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(group.ConnectionString);
        var coordinator = host.Coordinator;

        await coordinator.SetAsync("k", "v", cancellationToken: Token);
        Assert.Equal("v", (await coordinator.GetAsync<string>("k", Token)).Value);
        await using (var held = await coordinator.Locks.AcquireAsync("lock", new LockOptions { Owner = "first" }, Token))
        {
            Assert.True(held.FencingToken > 0);
            Assert.Null(await coordinator.Locks.TryAcquireAsync("lock", new LockOptions { Owner = "second" }, Token));
        }

        await coordinator.Cache.SetAsync("cached", 42, cancellationToken: Token);
        Assert.Equal(42, (await coordinator.Cache.GetAsync<int>("cached", Token)).Value);
        var session = await coordinator.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["a"] = JsonSerializer.SerializeToElement(1) }, cancellationToken: Token);
        Assert.NotNull(await coordinator.Sessions.GetAsync(session.Id, Token));
        await host.Services.GetRequiredService<IRateLimitPolicies>().SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 10, Period = TimeSpan.FromSeconds(1) }, Token);
        Assert.True((await coordinator.RateLimits.AcquireAsync("api", "client", cancellationToken: Token)).Allowed);

        var primary = group.ServerOn(await group.PrimaryPortAsync(Token));
        var keys = (await primary.GetAdminAsync()).GetServer(primary.ConnectionString).Keys(pattern: $"{host.KeyPrefix}:*").ToArray();
        Assert.Contains(keys, k => ((string)k!).EndsWith(":k", StringComparison.Ordinal));
        Assert.True(keys.Length >= 5, $"only {keys.Length} keys on the primary");
    }

    [Fact]
    public async Task PrimaryKilledUnderLoad_CoordinatorFollowsTheElectedPrimary_FailuresTypedOnly()
    {
        // down-after 1 s, then the election and the client's reconfiguration; generous for a loaded 2-core machine.
        var maxRecovery = TimeSpan.FromSeconds(20);
        const int Workers = 16;
        await using var group = await RedisSentinelGroup.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(group.ConnectionString);
        var coordinator = host.Coordinator;
        var oldPrimaryPort = await group.PrimaryPortAsync(Token);

        await using var load = FailoverLoad.Start(host, Workers, keysPerWorker: 32);
        var clock = load.Clock;
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        var killedAt = clock.Elapsed;
        await group.ServerOn(oldPrimaryPort).KillAsync();

        await ProcessUtil.WaitUntilAsync(
            async () => await group.PrimaryPortAsync(Token) != oldPrimaryPort,
            maxRecovery,
            "the sentinels to elect a new primary",
            Token,
            TimeSpan.FromMilliseconds(50));
        var electedAt = clock.Elapsed;
        await ProcessUtil.WaitUntilAsync(
            () => load.FirstSuccessAfter(electedAt) is not null,
            maxRecovery,
            "a call served by the new primary",
            Token);
        var servedAt = load.FirstSuccessAfter(electedAt)!.Value;

        // Settled (FailoverLoad.WaitUntilSettledAsync): from then on, every call succeeds.
        var steadyFrom = await load.WaitUntilSettledAsync(servedAt, oldPrimaryPort, maxRecovery, Token);
        await load.StopAsync();

        var all = load.Calls.ToArray();
        Output.WriteLine($"[measure] sentinel failover: calls={all.Length} failed={all.Count(c => !c.Succeeded)}; kill to election {(electedAt - killedAt).TotalMilliseconds:F0} ms; election to first served call {(servedAt - electedAt).TotalMilliseconds:F0} ms; settled {(steadyFrom - servedAt).TotalMilliseconds:F0} ms after it");
        load.WriteFailures(Output, steadyFrom);

        Assert.Empty(load.Unexpected);
        Assert.InRange(servedAt - killedAt, TimeSpan.Zero, maxRecovery);
        var late = all.Where(c => c.Started >= steadyFrom).ToArray();
        Assert.NotEmpty(late);
        Assert.All(late, c => Assert.True(c.Succeeded, $"a call started at {c.Started} failed after the failover settled"));

        // Writes acknowledged once the new primary served are on it (asynchronous replication may lose only the last
        // writes the old primary acknowledged before it died: docs/reliability.md).
        var newPrimaryPort = await group.PrimaryPortAsync(Token);
        var newPrimary = group.ServerOn(newPrimaryPort);
        var admin = await newPrimary.GetAdminAsync();
        Assert.IsType<StackExchange.Redis.Role.Master>(await admin.GetServer(newPrimary.ConnectionString).RoleAsync());
        var onPrimary = admin.GetDatabase();
        var acknowledged = load.Acknowledged.Where(a => a.Value.At > servedAt).ToArray();
        Assert.NotEmpty(acknowledged);
        foreach (var (key, (value, at)) in acknowledged)
        {
            var stored = (string?)await onPrimary.StringGetAsync(host.RedisKey(key));
            Assert.True(JsonSerializer.Serialize(value) == stored, $"'{key}' acknowledged as {value} at {at} (served at {servedAt}, settled at {steadyFrom}) holds {stored ?? "nothing"} on the new primary");
        }

        // Through the coordinator too, once its client takes no replica for a primary (ClientView says why).
        await ClientView.WaitUntilNoReplicaTakenForPrimaryAsync(host, maxRecovery, Token);
        foreach (var (key, (value, at)) in acknowledged)
        {
            var read = await coordinator.GetAsync<int>(key, Token);
            Assert.True(read.Value == value, $"'{key}' acknowledged as {value} at {at} read back through the coordinator as {read.Value}");
        }
    }
}
