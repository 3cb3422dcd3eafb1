using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests;

/// <summary><c>AddCoordination</c> in a real host: invalid settings fail the start with a message naming the setting.</summary>
public sealed class CoordinationHostingExtensionsTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> InvalidSettings => new()
    {
        { "Coordination:Pool:MinConnections=4;Coordination:Pool:MaxConnections=2", "Coordination:Pool:MaxConnections" },
        { "Coordination:Resilience:AttemptTimeout=-00:00:01", "AttemptTimeout" },
        { "Coordination:Resilience:AttemptTimeout=00:00:00", "AttemptTimeout" },
        { "Coordination:Resilience:MinimumThroughput=1", "MinimumThroughput" },
        { "Coordination:Pool:ShrinkAfterIdle=00:00:00.500", "ShrinkAfterIdle" },
        { "Coordination:Pool:ReconnectBaseDelay=00:00:02;Coordination:Pool:ReconnectMaxDelay=00:00:01", "Coordination:Pool:ReconnectMaxDelay" },
        { "Coordination:Health:ProbeTimeout=00:00:00.050", "Coordination:Health:ProbeTimeout" },
        { "Coordination:KeyPrefix=has:colon", "Coordination:KeyPrefix" },
        { "Coordination:Tenant=", "Tenant" },
        { "Coordination:MaxValueBytes=0", "MaxValueBytes" },
        { "Coordination:Fallback:Schema=Bad-Schema", "Coordination:Fallback:Schema" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task StartAsync_InvalidOption_FailsWithOptionsValidationExceptionNamingIt(string settings, string expectedName)
    {
        var configuration = new Dictionary<string, string?> { ["ConnectionStrings:redis"] = redis.ConnectionString };
        foreach (var pair in settings.Split(';'))
        {
            var parts = pair.Split('=', 2);
            configuration[parts[0]] = parts[1];
        }

        var error = await StartExpectingFailureAsync(configuration);

        Assert.Equal(typeof(CoordinationOptions), error.OptionsType);
        Assert.Contains(expectedName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_MissingRedisConnectionString_FailsNamingIt()
    {
        var error = await StartExpectingFailureAsync(new Dictionary<string, string?> { ["Coordination:KeyPrefix"] = "x" });

        Assert.Contains("ConnectionStrings:redis", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ValidOptions_BindsThemFromConfiguration()
    {
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Tenant", "tenant-x"),
                new("Coordination:Resilience:AttemptTimeout", "00:00:00.250"),
                new("Coordination:Pool:MaxConnections", "3"),
            ]);

        Assert.Equal("tenant-x", host.Coordinator.Tenant);
        Assert.Equal(TimeSpan.FromMilliseconds(250), host.Options.Resilience.AttemptTimeout);
        Assert.Equal(3, (await host.Monitor.GetStatusAsync(Token)).Pool.MaxConnections);
        await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        Assert.True(await admin.KeyExistsAsync(host.RedisKey("k", tenant: "tenant-x")));
        Assert.Contains(
            host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations,
            r => r.Name == "coordination" && r.Tags.Contains("ready"));
    }

    private static async Task<OptionsValidationException> StartExpectingFailureAsync(Dictionary<string, string?> configuration)
    {
        var host = CoordinationTestHost.Build(configuration);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }
}
