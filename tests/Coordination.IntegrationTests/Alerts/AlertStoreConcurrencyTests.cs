using System.Collections.Concurrent;
using Coordination.IntegrationTests.Infrastructure;
using Npgsql;

namespace Coordination.IntegrationTests.Alerts;

/// <summary>
/// The shared stores under concurrency: many nodes report the same rules at once, and every transition must be won by
/// exactly one of them (counted: a second firing or resolved of one incident is a violation).
/// </summary>
public sealed class AlertStoreConcurrencyTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private const int Nodes = 16;
    private const int Rounds = 20;

    private static readonly AlertsOptions Options = new() { RepeatInterval = TimeSpan.FromMinutes(10), NodeTimeout = TimeSpan.FromMinutes(1) };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReportAsync_PostgresSixteenNodesAtOnce_OneFiringAndOneResolvedPerRule()
    {
        var pg = await postgres.GetServerAsync();
        await using var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
        var schema = TestKeys.NewSchema();
        await AssertOneTransitionEachAsync(() => new PostgresAlertStore(dataSource, schema, Options));
    }

    [Fact]
    public async Task ReportAsync_RedisSixteenNodesAtOnce_OneFiringAndOneResolvedPerRule()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        await AssertOneTransitionEachAsync(() => new RedisAlertStore(host.Executor, host.KeyPrefix, Options));
    }

    private static async Task AssertOneTransitionEachAsync(Func<IAlertStore> store)
    {
        string[] rules = [AlertRules.CircuitOpen, AlertRules.FallbackEngaged, AlertRules.DutyFailing];
        var notifications = new ConcurrentQueue<AlertNotification>();

        // Each node its own store instance, as each process has its own.
        var stores = Enumerable.Range(0, Nodes).Select(_ => store()).ToArray();
        await RunAsync(active: true);
        var firing = notifications.ToArray();
        notifications.Clear();
        await RunAsync(active: false);
        var resolved = notifications.ToArray();

        foreach (var rule in rules)
        {
            var fired = Assert.Single(firing, n => n.Rule == rule);
            Assert.Equal((AlertNotification.Firing, false), (fired.State, fired.Repeat));
            var ended = Assert.Single(resolved, n => n.Rule == rule);
            Assert.Equal((AlertNotification.Resolved, fired.Incident), (ended.State, ended.Incident));
        }

        Assert.Equal(rules.Length, firing.Length);
        Assert.Equal(rules.Length, resolved.Length);

        async Task RunAsync(bool active)
        {
            using var start = new SemaphoreSlim(0, Nodes);
            var tasks = stores.Select((s, i) => Task.Run(
                async () =>
                {
                    await start.WaitAsync(Token);
                    for (var round = 0; round < Rounds; round++)
                    {
                        var conditions = rules.Select(rule => new AlertCondition(rule, active, active ? $"node-{i}" : null)).ToArray();
                        foreach (var notification in await s.ReportAsync($"node-{i}", conditions, Token))
                        {
                            notifications.Enqueue(notification);
                        }
                    }
                },
                Token)).ToArray();
            start.Release(Nodes);
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60), Token);
        }
    }
}
