using System.Net;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.Caching;

/// <summary>The <see cref="IDistributedCache"/> adapter, and ASP.NET Core sessions and HybridCache running on it.</summary>
public sealed class DistributedCacheTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SessionMiddleware_KeepsStateAcrossRequestsInRedis()
    {
        var prefix = TestKeys.NewPrefix();
        await using var app = await StartWebAppAsync(prefix);
        var address = app.Urls.First();
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(address) };

        var counts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            counts.Add(await client.GetStringAsync(new Uri("/count", UriKind.Relative), Token));
        }

        Assert.Equal(["1", "2", "3"], counts);
        var keys = await redis.KeysAsync($"{prefix}:default:cache:*");
        Assert.Single(keys);
        Assert.True(await (await redis.GetAdminAsync()).GetDatabase().KeyTimeToLiveAsync(keys[0]) <= TimeSpan.FromMinutes(20));
    }

    [Fact]
    public async Task HybridCache_OnTwoNodes_SharesValuesThroughOurDistributedCache()
    {
        var prefix = TestKeys.NewPrefix();
        await using var first = await StartWebAppAsync(prefix);
        await using var second = await StartWebAppAsync(prefix);
        var calls = 0;
        ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult("hybrid-value");
        }

        var a = await first.Services.GetRequiredService<HybridCache>().GetOrCreateAsync("h", Factory, cancellationToken: Token);
        // HybridCache may write its distributed level after returning.
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await ProcessUtil.WaitUntilAsync(() => admin.KeyExistsAsync($"{prefix}:default:cache:h"), TimeSpan.FromSeconds(5), "HybridCache to write through our IDistributedCache", Token);
        var b = await second.Services.GetRequiredService<HybridCache>().GetOrCreateAsync("h", Factory, cancellationToken: Token);

        Assert.Equal(("hybrid-value", "hybrid-value", 1), (a, b, calls));
        Assert.IsType<CoordinationDistributedCache>(first.Services.GetRequiredService<IDistributedCache>());
    }

    [Fact]
    public async Task DistributedCache_SetGetRefreshRemove_WithExpirations()
    {
        var prefix = TestKeys.NewPrefix();
        await using var app = await StartWebAppAsync(prefix);
        var cache = app.Services.GetRequiredService<IDistributedCache>();
        var admin = (await redis.GetAdminAsync()).GetDatabase();

        cache.Set("sync", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddMinutes(2), AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        Assert.Equal([1, 2, 3], cache.Get("sync"));
        var ttl = await admin.KeyTimeToLiveAsync($"{prefix}:default:cache:sync");
        Assert.InRange(ttl!.Value.TotalSeconds, 100, 121);

        await cache.SetAsync("sliding", [9], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(30) }, Token);
        await admin.KeyExpireAsync($"{prefix}:default:cache:sliding", TimeSpan.FromSeconds(5));
        cache.Refresh("sliding");
        Assert.True((await admin.KeyTimeToLiveAsync($"{prefix}:default:cache:sliding"))!.Value > TimeSpan.FromSeconds(20));
        Assert.Equal([9], await cache.GetAsync("sliding", Token));

        cache.Remove("sync");
        await cache.RemoveAsync("sliding", Token);
        Assert.Null(await cache.GetAsync("sync", Token));
        Assert.Null(cache.Get("sliding"));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("past", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddMinutes(-1) }));
    }

    private async Task<WebApplication> StartWebAppAsync(string prefix)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = prefix,
        });
        builder.AddCoordination().WithCaching(cache => cache.MemoryTimeToLive = TimeSpan.FromSeconds(30));
        builder.Services.AddSession(options => options.IdleTimeout = TimeSpan.FromMinutes(20));
        builder.Services.AddHybridCache();
        var app = builder.Build();
        app.UseSession();
        app.MapGet("/count", async (HttpContext context) =>
        {
            await context.Session.LoadAsync();
            var count = (context.Session.GetInt32("count") ?? 0) + 1;
            context.Session.SetInt32("count", count);
            return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        await app.StartAsync(Token);
        return app;
    }
}
