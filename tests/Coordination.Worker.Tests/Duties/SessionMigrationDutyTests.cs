using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.Worker.Tests.Duties;

/// <summary>The session migration duty of the real worker, moving sessions from a second real redis-server or another key prefix.</summary>
public sealed class SessionMigrationDutyTests(SharedRedisFixture redis)
{
    private const int SessionMigrationStarted = 1300;
    private const int SessionMigrationPass = 1301;
    private const int SessionMigrationDrained = 1302;
    private const int SessionMigrationDrainedKeepPrefix = 1303;
    private const int DutyFailed = 1862;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MigrateFromAnotherServer_DrainsIt_ThenSaysTheSettingCanBeRemoved()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        var ids = await CreateSessionsAsync(source.ConnectionString, prefix, 40);

        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Coordination:KeyPrefix", prefix), new("Coordination:Sessions:MigrateFrom:ConnectionString", source.ConnectionString), new("Worker:SessionMigrationInterval", "00:00:00.200")]);
        await app.StartAsync();

        await app.WaitForEventAsync(SessionMigrationDrained, TimeSpan.FromSeconds(20), "the source to be drained");
        Assert.Single(app.Events(SessionMigrationStarted));
        Assert.Contains("40 sessions moved", Assert.Single(app.Events(SessionMigrationPass)).Message, StringComparison.Ordinal);
        Assert.Empty(app.Events(SessionMigrationDrainedKeepPrefix));
        var admin = await source.GetAdminAsync();
        Assert.Empty(await admin.GetServer(admin.GetEndPoints()[0]).KeysAsync(pattern: prefix + ":*").ToListAsync(Token));
        var sessions = app.Services.GetRequiredService<IRedisCoordinator>().Sessions;
        foreach (var id in ids)
        {
            Assert.NotNull(await sessions.GetAsync(id, Token));
        }
    }

    [Fact]
    public async Task MigrateFromAnotherPrefix_SaysToKeepThePrefixSetting()
    {
        var oldPrefix = TestKeys.NewPrefix();
        await CreateSessionsAsync(redis.Server.ConnectionString, oldPrefix, 3);

        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Coordination:Sessions:MigrateFrom:KeyPrefix", oldPrefix), new("Worker:SessionMigrationInterval", "00:00:00.200")]);
        await app.StartAsync();

        var drained = await app.WaitForEventAsync(SessionMigrationDrainedKeepPrefix, TimeSpan.FromSeconds(20), "the old prefix to be drained");
        Assert.Contains("MigrateFrom:KeyPrefix", drained.Message, StringComparison.Ordinal);
        Assert.Empty(app.Events(SessionMigrationDrained));
    }

    [Fact]
    public async Task SourceDown_PassesAreRetried_UntilItIsBack()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        await CreateSessionsAsync(source.ConnectionString, prefix, 5);
        await source.KillAsync();

        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Coordination:KeyPrefix", prefix), new("Coordination:Sessions:MigrateFrom:ConnectionString", source.ConnectionString + ",connectTimeout=500"), new("Worker:SessionMigrationInterval", "00:00:00.200")]);
        await app.StartAsync();

        var unavailable = await app.WaitForDutyEventAsync(DutyFailed, TimeSpan.FromSeconds(20), "a pass failing while the source is down");
        Assert.Contains("session-migration failed (CoordinationUnavailableException", unavailable.Message, StringComparison.Ordinal);
        Assert.Contains("runs again on schedule", unavailable.Message, StringComparison.Ordinal);
        await source.RestartAsync(Token);
        await app.WaitForEventAsync(SessionMigrationDrained, TimeSpan.FromSeconds(30), "the (now empty) source to be found drained");
    }

    [Fact]
    public async Task WithoutMigrateFrom_TheDutyDoesNothing()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString, [new("Worker:SessionCleanupInterval", "00:00:00.100")]);
        await app.StartAsync();

        // Once another duty has run a round, this one would have started too.
        await app.WaitForEventAsync(1201, TimeSpan.FromSeconds(10), "a session cleanup round");
        Assert.Empty(app.Events(SessionMigrationStarted));
        Assert.False(app.Services.GetRequiredService<ISessionMigration>().IsConfigured);
    }

    [Fact]
    public async Task AnotherNodeMigrating_ThenAnUnexpectedFailure_AreWaitedOutAndLogged_AndTheDutyKeepsRunning()
    {
        var migration = new ScriptedMigration();
        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Worker:SessionMigrationInterval", "00:00:00.100")],
            services => services.AddSingleton<ISessionMigration>(migration));
        await app.StartAsync();

        var failed = await app.WaitForDutyEventAsync(DutyFailed, TimeSpan.FromSeconds(10), "the failure to be logged");
        Assert.IsType<InvalidOperationException>(failed.Exception);
        Assert.Contains("session-migration failed (InvalidOperationException)", failed.Message, StringComparison.Ordinal);
        await app.WaitForEventAsync(SessionMigrationDrained, TimeSpan.FromSeconds(10), "the pass after the failure");
        Assert.Equal(3, migration.Calls);
        Assert.Empty(app.Events(SessionMigrationPass));
    }

    /// <summary>A migration whose lock another node holds at first, then fails with a bug's exception, then finds the source empty.</summary>
    private sealed class ScriptedMigration : ISessionMigration
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public bool IsConfigured => true;

        public Task<SessionMigrationResult> MigrateAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SessionMigrationResult?> TryMigrateAsync(CancellationToken cancellationToken = default) => Interlocked.Increment(ref _calls) switch
        {
            1 => Task.FromResult<SessionMigrationResult?>(null),
            2 => throw new InvalidOperationException("A bug."),
            _ => Task.FromResult<SessionMigrationResult?>(new SessionMigrationResult(0, 0, 0, 0)),
        };
    }

    /// <summary>Creates sessions through a plain coordination host on <paramref name="connectionString"/> under <paramref name="prefix"/>.</summary>
    private static async Task<List<string>> CreateSessionsAsync(string connectionString, string prefix, int count)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", connectionString), new("Coordination:KeyPrefix", prefix)]);
        builder.AddCoordination();
        using var host = builder.Build();
        await host.StartAsync(Token);
        var sessions = host.Services.GetRequiredService<ISessionManager>();
        var ids = new List<string>();
        for (var n = 0; n < count; n++)
        {
            ids.Add((await sessions.CreateAsync("user-" + (n % 7), cancellationToken: Token)).Id);
        }

        await host.StopAsync(Token);
        return ids;
    }
}
