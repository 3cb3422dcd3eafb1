using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;

namespace Coordination.Worker.Tests;

/// <summary>The <c>Worker</c> section as the real worker binds and validates it at start.</summary>
public sealed class WorkerOptionsTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Worker:HeartbeatInterval", "00:00:00.500", "Worker:HeartbeatInterval must be between 1 second and 1 hour.")]
    [InlineData("Worker:HeartbeatInterval", "01:00:01", "Worker:HeartbeatInterval must be between 1 second and 1 hour.")]
    [InlineData("Worker:InstanceName", "", "Worker:InstanceName must not be empty.")]
    [InlineData("Worker:InstanceName", "two words", "Worker:InstanceName must be 1..128 characters of letters, digits, '.', '_' or '-'.")]
    [InlineData("Worker:SessionMigrationInterval", "00:00:00.050", "Worker:SessionMigrationInterval must be between 100 ms and 1 day.")]
    public async Task Start_InvalidSetting_FailsNamingTheSettingAndWritesNoHeartbeat(string setting, string value, string message)
    {
        var prefixes = new List<string>();

        var error = await StartFailure.CaptureAsync(async () =>
        {
            await using var app = new WorkerApp(redis.Server.ConnectionString, [new(setting, value)]);
            prefixes.Add(app.KeyPrefix);
            await app.StartAsync();
        });

        var messages = Flatten(error).Select(e => e.Message).ToArray();
        Assert.Contains(messages, m => m.Contains(message, StringComparison.Ordinal));
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        foreach (var prefix in prefixes)
        {
            Assert.Empty(await ScanAsync(db, prefix));
        }
    }

    [Fact]
    public async Task InstanceName_NotConfigured_HeartbeatIsWrittenUnderTheMachineName()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString, [new("Worker:InstanceName", null)]);
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var key = $"{app.KeyPrefix}:default:kv:worker:heartbeat:{Environment.MachineName}";
        await app.StartAsync();

        await ProcessUtil.WaitUntilAsync(() => db.KeyExistsAsync(key), TimeSpan.FromSeconds(10), "the heartbeat under the machine name", Token);
        var heartbeat = await Heartbeats.ReadAsync(db, key);
        Assert.NotNull(heartbeat);
        Assert.Equal(Environment.MachineName, heartbeat.Machine);
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        yield return exception;
        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : (exception.InnerException is { } one ? [one] : []);
        foreach (var child in inner.SelectMany(Flatten))
        {
            yield return child;
        }
    }

    private static async Task<List<string>> ScanAsync(StackExchange.Redis.IDatabase db, string prefix)
    {
        var keys = new List<string>();
        await foreach (var key in db.Multiplexer.GetServers()[0].KeysAsync(db.Database, prefix + ":*"))
        {
            keys.Add(key!);
        }

        return keys;
    }
}
