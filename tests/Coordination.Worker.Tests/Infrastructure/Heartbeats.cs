using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Duties;
using StackExchange.Redis;

namespace Coordination.Worker.Tests.Infrastructure;

/// <summary>Reads a worker's heartbeat straight from Redis, as anyone watching the workers would.</summary>
public static class Heartbeats
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>The heartbeat stored under <paramref name="key"/>, or null when there is none.</summary>
    public static async Task<WorkerHeartbeat?> ReadAsync(IDatabase db, string key)
    {
        var stored = await db.StringGetAsync(key);
        return stored.IsNull ? null : JsonSerializer.Deserialize<WorkerHeartbeat>((byte[])stored!, Web);
    }

    /// <summary>Waits (at most 10 s) until a first heartbeat is stored under <paramref name="key"/>.</summary>
    public static Task WaitForFirstAsync(IDatabase db, string key) =>
        ProcessUtil.WaitUntilAsync(() => db.KeyExistsAsync(key), TimeSpan.FromSeconds(10), "the first heartbeat", TestContext.Current.CancellationToken);
}
