using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.IntegrationTests.Diagnostics;

/// <summary>The registered "coordination" health check, run through <see cref="HealthCheckService"/> as ASP.NET Core would.</summary>
public sealed class CoordinationHealthCheckTests(PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CheckHealth_RedisUpKilledRestarted_HealthyUnhealthyHealthy()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);

        var up = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, up.Status);
        Assert.Equal(1, up.Data["connected"]);
        Assert.Equal("Closed", up.Data["circuit"]);

        // Redis answers, but slowly (every client paused for 300 ms, above DegradedLatency): Degraded.
        var admin = await redis.GetAdminAsync();
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "300", "ALL");
        var slow = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, slow.Status);
        Assert.InRange((double)slow.Data["latencyMs"], 100, 2000);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        // Redis answers, but calls are refused by an open circuit: Degraded.
        await host.Executor.CircuitControl.IsolateAsync(Token);
        var isolated = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, isolated.Status);
        Assert.Equal("Isolated", isolated.Data["circuit"]);
        await host.Executor.CircuitControl.CloseAsync(Token);

        await redis.KillAsync();
        var down = await CheckAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Equal(-1.0, down.Data["latencyMs"]);
        Assert.Equal(0, down.Data["connected"]);

        await redis.RestartAsync(Token);
        await ProcessUtil.WaitUntilAsync(
            async () => (await CheckAsync(host)).Status == HealthStatus.Healthy, TimeSpan.FromSeconds(10), "Healthy after the restart", Token, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task CheckHealth_FallbackServingWhileRedisDown_Degraded()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg);
        await ProcessUtil.WaitUntilAsync(
            async () => (await host.Monitor.GetStatusAsync(Token)).Fallback.Ready, TimeSpan.FromSeconds(20), "the fallback schema", Token);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        await redis.KillAsync();

        // Redis is down but no call needed it yet: nothing serves, so Unhealthy.
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(host)).Status);

        await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);
        Assert.True((await host.Coordinator.GetAsync<string>("k", Token)).FromFallback);
        var degraded = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Equal(true, degraded.Data["fallbackActive"]);

        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.FallbackRecovered += (_, _) => recovered.TrySetResult();
        await redis.RestartAsync(Token);
        await recovered.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
        await ProcessUtil.WaitUntilAsync(
            async () => (await CheckAsync(host)).Status == HealthStatus.Healthy, TimeSpan.FromSeconds(10), "Healthy after recovery", Token, TimeSpan.FromMilliseconds(100));
    }

    private static async Task<HealthReportEntry> CheckAsync(CoordinationTestHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "coordination", Token);
        return Assert.Single(report.Entries).Value;
    }
}
