using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>A host on the shared server with its own key prefix, and what the session tests read around the API.</summary>
internal sealed class SessionHost(CoordinationTestHost host, IRedisTarget server) : IAsyncDisposable
{
    public CoordinationTestHost Host => host;

    public ISessionManager Sessions => host.Coordinator.Sessions;

    public ISessionManager ForTenant(string tenant) => host.Factory.ForTenant(tenant).Sessions;

    public static async Task<SessionHost> StartAsync(IRedisTarget server, params (string Key, string Value)[] settings) =>
        new(await CoordinationTestHost.StartAsync(server.ConnectionString, settings: settings.Select(s => new KeyValuePair<string, string?>("Coordination:Sessions:" + s.Key, s.Value))), server);

    public static JsonElement Json<T>(T value) => JsonSerializer.SerializeToElement(value);

    public string IndexKey(string userId, string tenant = "default") =>
        $"{host.KeyPrefix}:{tenant}:session-user:{{{SessionId.TagOf(host.KeyPrefix, tenant, userId)}}}:{userId}";

    public string SessionKey(string id, string tenant = "default") => SessionKeyOf(host.KeyPrefix, id, tenant);

    /// <summary>The Redis key of session <paramref name="id"/> of <paramref name="tenant"/> under <paramref name="keyPrefix"/>.</summary>
    public static string SessionKeyOf(string keyPrefix, string id, string tenant = "default") =>
        SessionId.TryParse(id, out var random, out var tag) ? $"{keyPrefix}:{tenant}:session:{{{tag}}}:{random}" : throw new ArgumentException("Not a session id.", nameof(id));

    /// <summary>Session calls are answered by the durable copy while Redis is down; a lock fails closed, so it tells when Redis serves.</summary>
    public static Task WaitUntilRedisServesAsync(CoordinationTestHost host, CancellationToken cancellationToken) =>
        ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await using var probe = await host.Coordinator.Locks.TryAcquireAsync("redis-serves", cancellationToken: cancellationToken);
                    return probe is not null;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(20),
            "Redis to serve again after the restart",
            cancellationToken);

    /// <summary>The rows of the sessions' durable copy in <paramref name="schema"/> that match <paramref name="where"/> (SQL).</summary>
    public static async Task<long> CountCopyRowsAsync(PostgresServer pg, string schema, string where = "true")
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(pg.ConnectionString);
#pragma warning disable CA2100 // The schema is a generated identifier of the test; the condition is the test's own.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {schema}.sessions WHERE {where}");
#pragma warning restore CA2100
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public async Task<IDatabase> AdminAsync() => (await server.GetAdminAsync()).GetDatabase();

    /// <summary>Every key of this host's prefix (SCAN over every primary, which skips expired keys).</summary>
    public Task<List<string>> KeysAsync(string pattern = "*") => server.KeysAsync(host.KeyPrefix + ":" + pattern);

    public ValueTask DisposeAsync() => host.DisposeAsync();
}
