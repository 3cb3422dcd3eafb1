using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>The platform's policies: configuration's defaults, changes at run time reaching every node in time, overrides, bounds.</summary>
public sealed class RateLimitPolicyTests(SharedRedisFixture redis)
{
    private static readonly RateLimitPolicy Thousand = new() { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1_000, Period = TimeSpan.FromMinutes(1) };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task SetOverrideAsync_OnHostA_AppliedByHostBWithinTheRefreshInterval_AndByAAtOnce()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("PolicyRefreshInterval", "00:00:00.500"));
        await hosts.PoliciesA.SetAsync("api", Thousand, Token);
        // Both read the policy now, so what follows measures how long their snapshots keep the old one.
        Assert.Equal(1_000, (await hosts.LimiterB.AcquireAsync("api", "client-1", cancellationToken: Token)).Limit);
        Assert.Equal(1_000, (await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token)).Limit);

        var changed = Stopwatch.StartNew();
        await hosts.PoliciesA.SetOverrideAsync("api", "default", Thousand with { Limit = 7 }, Token);
        var onA = await hosts.LimiterA.AcquireAsync("api", "client-2", cancellationToken: Token);
        TimeSpan? seenByB = null;
        while (changed.Elapsed < TimeSpan.FromSeconds(3))
        {
            if ((await hosts.LimiterB.AcquireAsync("api", "client-3", cancellationToken: Token)).Limit == 7)
            {
                seenByB = changed.Elapsed;
                break;
            }

            await Task.Delay(5, Token);
        }

        Output.WriteLine($"Host B applied the override {seenByB?.TotalMilliseconds} ms after host A set it (interval 500 ms)");
        Assert.Equal(7, onA.Limit);
        Assert.NotNull(seenByB);
        Assert.InRange(seenByB.Value, TimeSpan.Zero, TimeSpan.FromMilliseconds(650));
        Assert.Equal(Thousand with { Limit = 7 }, await hosts.PoliciesB.GetAsync("api", "default", Token));
        Assert.Equal(Thousand, await hosts.PoliciesB.GetAsync("api", cancellationToken: Token));
        Assert.Equal(Thousand, await hosts.PoliciesB.GetAsync("api", "other-tenant", Token));
        Assert.Equal(1_000, (await hosts.B.Factory.ForTenant("other-tenant").RateLimits.AcquireAsync("api", "client-3", cancellationToken: Token)).Limit);
    }

    [Fact]
    public async Task SetAsync_OnHostA_AppliedByHostBWithinTheRefreshInterval()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("PolicyRefreshInterval", "00:00:00.300"));
        await hosts.PoliciesA.SetAsync("api", Thousand, Token);
        Assert.Equal(Thousand, await hosts.LimiterB.GetPolicyAsync("api", Token));

        var changed = Stopwatch.StartNew();
        await hosts.PoliciesA.SetAsync("api", Thousand with { Algorithm = RateLimitAlgorithm.TokenBucket, Burst = 50 }, Token);
        await ProcessUtil.WaitUntilAsync(
            async () => (await hosts.LimiterB.GetPolicyAsync("api", Token))?.Algorithm == RateLimitAlgorithm.TokenBucket,
            TimeSpan.FromSeconds(3),
            "host B to apply the new policy",
            Token,
            TimeSpan.FromMilliseconds(5));

        Output.WriteLine($"Host B applied the policy {changed.ElapsedMilliseconds} ms after host A set it (interval 300 ms)");
        Assert.InRange(changed.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(450));
        Assert.Equal(50, (await hosts.LimiterB.AcquireAsync("api", "client-1", cancellationToken: Token)).Limit);
    }

    [Fact]
    public async Task Policies_FromConfiguration_ApplyUntilReplacedAtRunTime()
    {
        await using var hosts = await RateLimitHosts.StartAsync(
            redis,
            ("Policies:login:Algorithm", "SlidingLog"),
            ("Policies:login:Limit", "5"),
            ("Policies:login:Period", "00:01:00"),
            ("Policies:bulk:Algorithm", "TokenBucket"),
            ("Policies:bulk:Limit", "100"),
            ("Policies:bulk:Period", "00:00:10"),
            ("Policies:bulk:Burst", "300"));

        Assert.Equal(new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 5, Period = TimeSpan.FromMinutes(1) }, await hosts.PoliciesB.GetAsync("login", cancellationToken: Token));
        var bulk = await hosts.LimiterA.AcquireAsync("bulk", "client-1", permits: 300, cancellationToken: Token);
        Assert.Equal((true, 300L, 0L), (bulk.Allowed, bulk.Limit, bulk.Remaining));

        // An override of a policy that only configuration defines is kept, and so is a replacement.
        await hosts.PoliciesA.SetOverrideAsync("login", "default", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 2, Period = TimeSpan.FromMinutes(1) }, Token);
        await hosts.PoliciesA.SetAsync("login", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 9, Period = TimeSpan.FromMinutes(1) }, Token);
        Assert.Equal(2, (await hosts.LimiterA.AcquireAsync("login", "user-1", cancellationToken: Token)).Limit);
        Assert.Equal(9, (await hosts.A.Factory.ForTenant("t2").RateLimits.AcquireAsync("login", "user-1", cancellationToken: Token)).Limit);
    }

    [Theory]
    [InlineData("Policies:api:Limit", "0", "Policies:api")]
    [InlineData("Policies:api:Period", "00:00:00", "Policies:api")]
    [InlineData("Policies:api:Burst", "0", "burst")]
    [InlineData("Policies:bad name:Limit", "5", "policy name")]
    [InlineData("PolicyRefreshInterval", "00:00:00", "PolicyRefreshInterval")]
    [InlineData("MaxPolicies", "0", "MaxPolicies")]
    [InlineData("CriticalReserve", "0.95", "CriticalReserve")]
    public async Task StartAsync_InvalidRateLimitingOptions_FailsNamingThem(string option, string value, string named)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = TestKeys.NewPrefix(),
            ["Coordination:RateLimiting:Policies:api:Algorithm"] = "FixedWindow",
            ["Coordination:RateLimiting:Policies:api:Limit"] = "10",
            ["Coordination:RateLimiting:Policies:api:Period"] = "00:00:01",
            ["Coordination:RateLimiting:" + option] = value,
        };
        if (option.StartsWith("Policies:bad", StringComparison.Ordinal))
        {
            configuration["Coordination:RateLimiting:Policies:bad name:Algorithm"] = "FixedWindow";
            configuration["Coordination:RateLimiting:Policies:bad name:Period"] = "00:00:01";
        }

        var host = CoordinationTestHost.Build(configuration);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    [Fact]
    public async Task SetAsync_BeyondMaxPolicies_RefusedWithAQuotaError_ReplacingStillWorks()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("MaxPolicies", "3"), ("MaxOverridesPerPolicy", "2"));
        for (var i = 0; i < 3; i++)
        {
            await hosts.PoliciesA.SetAsync($"p{i}", Thousand, Token);
        }

        var policies = await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await hosts.PoliciesB.SetAsync("p3", Thousand, Token));
        await hosts.PoliciesB.SetAsync("p2", Thousand with { Limit = 5 }, Token);
        await hosts.PoliciesA.SetOverrideAsync("p0", "t1", Thousand, Token);
        await hosts.PoliciesA.SetOverrideAsync("p0", "t2", Thousand, Token);
        var overrides = await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await hosts.PoliciesA.SetOverrideAsync("p0", "t3", Thousand, Token));
        await hosts.PoliciesA.SetOverrideAsync("p0", "t2", Thousand with { Limit = 4 }, Token);
        await hosts.PoliciesA.SetOverrideAsync("p1", "t3", Thousand, Token);

        Assert.Equal(("ratelimit-policies", 3L), (policies.Quota, policies.Limit));
        Assert.Contains("MaxPolicies", policies.Message, StringComparison.Ordinal);
        Assert.Equal(("ratelimit-overrides", 2L), (overrides.Quota, overrides.Limit));
        Assert.Contains("MaxOverridesPerPolicy", overrides.Message, StringComparison.Ordinal);
        Assert.Null(await hosts.PoliciesA.GetAsync("p3", cancellationToken: Token));
        Assert.Equal(5, (await hosts.PoliciesA.GetAsync("p2", cancellationToken: Token))!.Limit);
        Assert.Equal(4, (await hosts.PoliciesB.GetAsync("p0", "t2", Token))!.Limit);
        Assert.Equal(1_000, (await hosts.PoliciesB.GetAsync("p0", "t3", Token))!.Limit);
    }

    [Fact]
    public async Task SetOverrideAsync_PolicyThatDoesNotExist_ThrowsNotFound()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);

        var missing = await Assert.ThrowsAsync<RateLimitPolicyNotFoundException>(async () => await hosts.PoliciesA.SetOverrideAsync("nope", "t1", Thousand, Token));

        Assert.Equal("nope", missing.Policy);
        Assert.Null(await hosts.PoliciesA.GetAsync("nope", "t1", Token));
    }

    public static readonly TheoryData<RateLimitPolicy, string> InvalidDefinitions = new()
    {
        { Thousand with { Limit = 0 }, "limit" },
        { Thousand with { Period = TimeSpan.Zero }, "period" },
        { Thousand with { Period = TimeSpan.FromDays(31) }, "period" },
        { Thousand with { Period = TimeSpan.FromTicks(15_000) }, "whole number of milliseconds" },
        { Thousand with { Burst = 0 }, "burst" },
        { Thousand with { Algorithm = (RateLimitAlgorithm)42 }, "algorithm" },
        { Thousand with { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 10_001 }, "10000" },
        { Thousand with { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 10_001 }, "10000" },
        { Thousand with { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 1_000_000_000, Period = TimeSpan.FromDays(1) }, "exactly" },
    };

    [Theory]
    [MemberData(nameof(InvalidDefinitions))]
    public async Task SetAsync_InvalidDefinition_ThrowsArgumentExceptionAndStoresNothing(RateLimitPolicy definition, string named)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await hosts.PoliciesA.SetAsync("api", definition, Token));
        await hosts.PoliciesA.SetAsync("other", Thousand, Token);
        var overrideError = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await hosts.PoliciesA.SetOverrideAsync("other", "t1", definition, Token));

        Assert.Contains(named, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("definition", overrideError.ParamName);
        Assert.Null(await hosts.PoliciesA.GetAsync("api", cancellationToken: Token));
        Assert.Equal(Thousand, await hosts.PoliciesA.GetAsync("other", "t1", Token));
    }

    [Fact]
    public async Task SetAsync_InvalidNames_ThrowArgumentException()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        var policies = hosts.PoliciesA;

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.SetAsync("a:b", Thousand, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.SetAsync("", Thousand, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.SetAsync(new string('p', 65), Thousand, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.SetAsync("api", null!, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.SetOverrideAsync("api", "a:b", Thousand, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.GetAsync("api", "#platform", Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await policies.GetAsync("{api}", cancellationToken: Token));
    }

    [Fact]
    public async Task Policies_UnreadableEntryInRedis_IsIgnoredAndTheRestApply()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", Thousand, Token);
        await hosts.PoliciesA.SetOverrideAsync("api", "t1", Thousand with { Limit = 3 }, Token);
        var admin = await hosts.AdminAsync();
        var root = $"{hosts.A.KeyPrefix}:#ratelimit:{{{hosts.A.KeyPrefix}:#ratelimit}}";
        await admin.HashSetAsync(root + ":policies", [new("broken", "v9|what"), new("#version", 100)]);
        await admin.HashSetAsync(root + ":overrides:api", "t2", "v1|FixedWindow|x|1|");

        // A fresh node reads everything from Redis.
        await using var fresh = await CoordinationTestHost.StartAsync(redis.ConnectionString, hosts.A.KeyPrefix);
        var policies = fresh.Services.GetRequiredService<IRateLimitPolicies>();

        Assert.Equal(Thousand, await policies.GetAsync("api", cancellationToken: Token));
        Assert.Null(await policies.GetAsync("broken", cancellationToken: Token));
        Assert.Equal(3, (await policies.GetAsync("api", "t1", Token))!.Limit);
        Assert.Equal(Thousand, await policies.GetAsync("api", "t2", Token));
    }
}
