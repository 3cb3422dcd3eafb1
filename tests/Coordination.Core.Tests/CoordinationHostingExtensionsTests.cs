using System.Diagnostics;
using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests;

public class CoordinationHostingExtensionsTests
{
    [Fact]
    public async Task StartAsync_MissingConnectionString_ThrowsNamingIt()
    {
        using var host = BuildHost([]);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ConnectionStrings:redis", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_CustomConnectionNameMissing_ThrowsNamingIt()
    {
        using var host = BuildHost([new("ConnectionStrings:redis", "localhost:6379")], connectionName: "cache");

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ConnectionStrings:cache", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Coordination:KeyPrefix", "a:b", "KeyPrefix")]
    [InlineData("Coordination:Tenant", "two words", "Tenant")]
    [InlineData("Coordination:Pool:MinConnections", "0", "MinConnections")]
    [InlineData("Coordination:Pool:ConnectTimeout", "00:20:00", "ConnectTimeout")]
    [InlineData("Coordination:Resilience:AttemptTimeout", "00:20:00", "AttemptTimeout")]
    [InlineData("Coordination:Resilience:FailureRatio", "1.5", "FailureRatio")]
    [InlineData("Coordination:Fallback:Schema", "Not-An-Identifier", "Schema")]
    [InlineData("Coordination:Health:DegradedLatency", "00:00:05", "ProbeTimeout")]
    [InlineData("Coordination:Pool:MaxConnections", "0", "MaxConnections")]
    public async Task StartAsync_BadOption_ThrowsNamingTheOptionBeforeAnyHostedServiceStarts(string key, string value, string named)
    {
        // The connection string points at a port nothing listens on: if anything tried to connect first, the
        // start would take the connect timeout (5 s) rather than fail at once.
        var sentinel = new SentinelHostedService();
        using var host = BuildHost(
            [new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}"), new(key, value)],
            services => services.AddSingleton<IHostedService>(sentinel));
        var started = Stopwatch.GetTimestamp();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(CoordinationOptions), ex.OptionsType);
        Assert.False(sentinel.Started, "Validation must run before the hosted services (and so before the pool connects).");
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(4), "Validation failure must not wait for a connection.");
    }

    [Fact]
    public async Task StartAsync_ConfigureDelegateBreaksOption_ThrowsNamingIt()
    {
        using var host = BuildHost(
            [new("ConnectionStrings:redis", "localhost:6379")],
            configure: o => o.Resilience.MinimumThroughput = 1);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("MinimumThroughput", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddCoordination_BlankConnectionName_Throws()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        Assert.Throws<ArgumentException>(() => builder.AddCoordination(connectionName: " "));
    }

    [Fact]
    public void AddCoordination_Registers_PublicServices()
    {
        using var host = BuildHost([new("ConnectionStrings:redis", "localhost:1")]);

        Assert.NotNull(host.Services.GetService<ICoordinationEvents>());
        Assert.IsType<SystemTextJsonCoordinationSerializer>(host.Services.GetService<ICoordinationSerializer>());
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => s is CoordinationLifetime);
    }

    [Fact]
    public void AddCoordination_CalledTwice_RegistersNothingTwice()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", "localhost:6379"), new("ConnectionStrings:coordinationdb", "Host=localhost")]);
        builder.AddCoordination().WithCaching();
        var once = builder.Services.Select(d => (d.ServiceType, d.ImplementationType, d.IsKeyedService ? d.ServiceKey : null)).ToList();
        var hostedOnce = builder.Services.Count(d => d.ServiceType == typeof(IHostedService));

        builder.AddCoordination(configure: o => o.Tenant = "second").WithCaching();

        Assert.Equal(once.Count, builder.Services.Count - 1); // the second call's configure action, and nothing else
        Assert.Equal(hostedOnce, builder.Services.Count(d => d.ServiceType == typeof(IHostedService)));
        using var host = builder.Build();
        Assert.Equal("second", host.Services.GetRequiredService<IOptions<CoordinationOptions>>().Value.Tenant);
        Assert.Single(host.Services.GetServices<IHostedService>().OfType<CoordinationLifetime>());
    }

    [Fact]
    public void AddCoordination_CalledAgainWithAnotherConnection_ThrowsNamingBoth()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.AddCoordination();

        var ex = Assert.Throws<InvalidOperationException>(() => builder.AddCoordination("other"));

        Assert.Contains("'redis'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'other'", ex.Message, StringComparison.Ordinal);
    }

    private static IHost BuildHost(
        KeyValuePair<string, string?>[] settings,
        Action<IServiceCollection>? before = null,
        string connectionName = "redis",
        Action<CoordinationOptions>? configure = null)
    {
        // No default sources: environment variables or appsettings of the machine must not change the outcome.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        before?.Invoke(builder.Services);
        builder.AddCoordination(connectionName, configure);
        return builder.Build();
    }

    private sealed class SentinelHostedService : IHostedService
    {
        public bool Started { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
