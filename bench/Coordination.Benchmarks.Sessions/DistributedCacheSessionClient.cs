using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;

namespace Coordination.Benchmarks.Sessions;

/// <summary>
/// Peer (b): what ASP.NET Core's distributed session does per request on <c>RedisCache</c>: it loads the session
/// with <see cref="IDistributedCache.GetAsync"/> and deserializes it, and at the end of a request that changed
/// nothing calls <see cref="IDistributedCache.RefreshAsync"/> to slide the expiry; a new session is one
/// <see cref="IDistributedCache.SetAsync"/> with a sliding expiration.
/// </summary>
internal sealed class DistributedCacheSessionClient(IDistributedCache cache, TimeSpan idleTimeout) : ISessionClient
{
    private readonly DistributedCacheEntryOptions _entryOptions = new() { SlidingExpiration = idleTimeout };

    public string Name => "RedisCache (b)";

    public string GetDescription => "`IDistributedCache.GetAsync`, `JsonSerializer.Deserialize<Dictionary<string, JsonElement>>`, then `RefreshAsync`, as ASP.NET Core's `DistributedSession` loads and commits an unchanged session";

    public string CreateDescription => "`IDistributedCache.SetAsync` of the data serialized with System.Text.Json, `SlidingExpiration` = the idle timeout (no user index: ASP.NET Core's session has none)";

    public async ValueTask<string> CreateAsync(string userId, SessionData data)
    {
        var id = SessionData.NewId();
        await cache.SetAsync(id, data.Json, _entryOptions);
        return id;
    }

    public async ValueTask GetAsync(string id)
    {
        var bytes = await cache.GetAsync(id) ?? throw new InvalidOperationException("Session not found.");
        _ = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(bytes);
        await cache.RefreshAsync(id);
    }
}
