using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.RateLimiting;

public class RateLimitRuntimeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void AddCoordination_WithRateLimiting_ResolvesTheDefaultTenantsLimiterAndThePoliciesWithConfiguredOptions()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}"), new("Coordination:Tenant", "acme")]);
        builder.AddCoordination().WithRateLimiting(o =>
        {
            o.MaxPolicies = 7;
            o.Policies["api"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 10, Period = TimeSpan.FromSeconds(1) };
        });
        using var host = builder.Build();

        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        var policies = host.Services.GetRequiredService<IRateLimitPolicies>();

        Assert.Same(host.Services.GetRequiredService<IRedisCoordinator>().RateLimits, limiter);
        Assert.Equal("acme", Assert.IsType<RedisRateLimitService>(limiter).Tenant);
        Assert.Same(host.Services.GetRequiredService<RateLimitRuntime>().Policies, policies);
        Assert.Equal(7, host.Services.GetRequiredService<IOptions<CoordinationOptions>>().Value.RateLimiting.MaxPolicies);
        Assert.Equal(RateLimitAlgorithm.Gcra, host.Services.GetRequiredService<RateLimitRuntime>().Policies.Configured["api"].Algorithm);
        Assert.Throws<ArgumentNullException>(() => ((ICoordinationBuilder)null!).WithRateLimiting(_ => { }));
        Assert.Throws<ArgumentNullException>(() => builder.AddCoordination().WithRateLimiting(null!));
    }

    [Fact]
    public async Task AddCoordination_BadRateLimitingOptionInCode_FailsTheStartNamingIt()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}")]);
        builder.AddCoordination().WithRateLimiting(o => o.Policies["log"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 20_000, Period = TimeSpan.FromSeconds(1) });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains("Coordination:RateLimiting:Policies:log", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForTenant_OnePerTenant_ValidatesTheTenant_AndRedisUnreachableFailsUnavailable()
    {
        await using var redis = await UnreachableRedis.StartAsync(new ResilienceOptions { MaxRetryAttempts = 0 }, Token);
        var runtime = redis.NewRateLimitRuntime();

        Assert.Same(runtime.ForTenant("a"), runtime.ForTenant("a"));
        Assert.NotSame(runtime.ForTenant("a"), runtime.ForTenant("b"));
        Assert.Throws<ArgumentException>(() => runtime.ForTenant("a:b"));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await runtime.ForTenant("a").AcquireAsync("api", "k", cancellationToken: Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await runtime.Policies.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1, Period = TimeSpan.FromSeconds(1) }, Token));
    }
}
