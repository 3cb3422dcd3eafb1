using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>How <c>AddCoordination</c> wires the sessions: the default tenant's manager in DI, options checked at start.</summary>
public sealed class SessionRegistrationTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddCoordination_RegistersTheDefaultTenantsManager_AndOnePerTenantOnTheCoordinators()
    {
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings: [new("Coordination:Sessions:DefaultIdleTimeout", "00:02:00"), new("Coordination:Sessions:MaxSessionsPerUser", "7")]);
        var fromContainer = host.Services.GetRequiredService<ISessionManager>();

        Assert.Same(host.Coordinator.Sessions, fromContainer);
        Assert.Same(host.Factory.ForTenant("other").Sessions, host.Factory.ForTenant("other").Sessions);
        Assert.NotSame(fromContainer, host.Factory.ForTenant("other").Sessions);
        Assert.Equal((TimeSpan.FromMinutes(2), 7), (host.Options.Sessions.DefaultIdleTimeout, host.Options.Sessions.MaxSessionsPerUser));
        var session = await fromContainer.CreateAsync("user-1", cancellationToken: Token);
        Assert.Equal(session.CreatedAt + TimeSpan.FromMinutes(2), session.ExpiresAt);
    }

    [Theory]
    [InlineData("DefaultIdleTimeout", "02:00:00", "DefaultAbsoluteTimeout")]
    [InlineData("MaxSessionsPerUser", "0", "MaxSessionsPerUser")]
    [InlineData("MaxDataBytes", "-1", "MaxDataBytes")]
    public async Task StartAsync_InvalidSessionOptions_FailsNamingThem(string option, string value, string named)
    {
        var host = CoordinationTestHost.Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = TestKeys.NewPrefix(),
            ["Coordination:Sessions:DefaultAbsoluteTimeout"] = "01:00:00",
            ["Coordination:Sessions:" + option] = value,
        });
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
}
