using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coordination.Worker.Tests.Duties;

/// <summary>
/// The alerting duty of the real worker: real outages of the test's own redis-server (crash, hang) and the PostgreSQL
/// fallback taking over turn into the alert log events, and their resolution into the matching "resolved" events.
/// </summary>
public sealed class AlertingServiceTests(PostgresFixture postgres)
{
    private const int AlertConnectionLost = 1100;
    private const int AlertConnectionRestored = 1101;
    private const int AlertCircuitOpened = 1102;
    private const int AlertCircuitClosed = 1103;
    private const int AlertFallbackEngaged = 1104;
    private const int AlertFallbackRecovered = 1105;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConnectionEvents_RedisCrashesAndRestarts_AlertLostThenResolvedForTheSameConnection()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(server.ConnectionString);
        await app.StartAsync();

        await server.KillAsync();
        var lost = await app.WaitForEventAsync(AlertConnectionLost, TimeSpan.FromSeconds(10), "the connection-lost alert");
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.Matches(@"^Alert: Redis connection #\d+ lost \(\w+\)\.$", lost.Message);
        Assert.Empty(app.Events(AlertConnectionRestored));

        await server.RestartAsync(Token);
        var restored = await app.WaitForEventAsync(AlertConnectionRestored, TimeSpan.FromSeconds(15), "the connection-restored alert");
        Assert.Equal(LogLevel.Information, restored.Level);
        Assert.Matches(@"^Alert resolved: Redis connection #\d+ restored\.$", restored.Message);
        var lostIds = app.Events(AlertConnectionLost).Select(r => r.GetStructuredStateValue("ConnectionId")).ToHashSet();
        Assert.Contains(restored.GetStructuredStateValue("ConnectionId"), lostIds);
    }

    [Fact]
    public async Task CircuitEvents_RedisHangsThenResumes_AlertOpenedWithBreakDurationThenClosed()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(
            server.ConnectionString,
            [
                new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
                new("Coordination:Resilience:MinimumThroughput", "5"),
                new("Coordination:Resilience:BreakDuration", "00:00:01"),
                new("Coordination:Health:ProbeTimeout", "00:00:00.250"),
            ]);
        await app.StartAsync();
        var coordinator = app.Services.GetRequiredService<IRedisCoordinator>();

        // Calls while Redis hangs time out until the breaker has seen enough of them and opens.
        await server.PauseAsync();
        await CallUntilAsync(coordinator, () => app.Events(AlertCircuitOpened).Count > 0, TimeSpan.FromSeconds(15), "the circuit-opened alert");
        var opened = Assert.Single(app.Events(AlertCircuitOpened));
        Assert.Equal(LogLevel.Error, opened.Level);
        Assert.Equal("Alert: the circuit to Redis opened for 00:00:01; calls fail fast.", opened.Message);
        Assert.Empty(app.Events(AlertCircuitClosed));

        // After the break a trial call reaches Redis again and closes the circuit.
        await server.ResumeAsync();
        await CallUntilAsync(coordinator, () => app.Events(AlertCircuitClosed).Count > 0, TimeSpan.FromSeconds(15), "the circuit-closed alert");
        var closed = Assert.Single(app.Events(AlertCircuitClosed));
        Assert.Equal(LogLevel.Information, closed.Level);
        Assert.Equal("Alert resolved: the circuit to Redis closed.", closed.Message);
    }

    [Fact]
    public async Task FallbackEvents_RedisCrashesWithFallbackConfigured_AlertEngagedThenRecoveredWithReplayedHeartbeats()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(
            server.ConnectionString,
            [
                new("ConnectionStrings:coordinationdb", pg.ConnectionString),
                new("Coordination:Fallback:Schema", TestKeys.NewSchema()),
            ]);
        await app.StartAsync();
        var monitor = app.Services.GetRequiredService<ICoordinationMonitor>();
        await ProcessUtil.WaitUntilAsync(
            async () => (await monitor.GetStatusAsync(Token)).Fallback.Ready, TimeSpan.FromSeconds(20), "the fallback schema", Token);

        // Redis crashes: the next heartbeat is written to PostgreSQL instead, which engages the fallback.
        await server.KillAsync();
        var engaged = await app.WaitForEventAsync(AlertFallbackEngaged, TimeSpan.FromSeconds(10), "the fallback-engaged alert");
        Assert.Equal(LogLevel.Error, engaged.Level);
        Assert.Equal("Alert: key/value calls are served by the PostgreSQL fallback (first: kv.set).", engaged.Message);
        Assert.Empty(app.Events(AlertFallbackRecovered));

        // Redis is back (empty): the heartbeats written meanwhile are replayed to it, and the alert is resolved.
        await server.RestartAsync(Token);
        var recovered = await app.WaitForEventAsync(AlertFallbackRecovered, TimeSpan.FromSeconds(20), "the fallback-recovered alert");
        Assert.Equal(LogLevel.Information, recovered.Level);
        var replayed = int.Parse(recovered.GetStructuredStateValue("ReplayedWrites")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(replayed >= 1, $"{replayed} writes replayed");
        var db = (await server.GetAdminAsync()).GetDatabase();
        Assert.NotNull(await Heartbeats.ReadAsync(db, app.HeartbeatKey));
    }

    /// <summary>Makes coordinator calls (failures expected) until <paramref name="done"/>, bounded.</summary>
    private static async Task CallUntilAsync(IRedisCoordinator coordinator, Func<bool> done, TimeSpan timeout, string what)
    {
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await coordinator.GetAsync<string>("probe", Token);
                }
                catch (CoordinationUnavailableException)
                {
                    // Expected while Redis hangs or the circuit is open.
                }

                return done();
            },
            timeout,
            what,
            Token,
            TimeSpan.FromMilliseconds(10));
    }
}
