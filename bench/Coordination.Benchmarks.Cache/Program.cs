using System.Text.Json;
using Coordination;
using Coordination.Benchmarks;
using Coordination.Benchmarks.Cache;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

if (BenchmarkConsole.ParseOrExplain(CacheBenchSettings.Parse, CacheBenchSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;

using var server = await RedisServerProcess.StartUnlessGivenAsync(settings.Redis, token);
var endpoint = settings.Redis ?? server!.Endpoint;

await using var raw = await ConnectionMultiplexer.ConnectAsync(endpoint);
var db = raw.GetDatabase();
var serverDescription = RedisServerProcess.Describe(raw.GetServers()[0]);
var ttl = TimeSpan.FromMinutes(10);

// Ours as an application gets it: AddCoordination on a host, with tracing off like the peers (none of them traces
// here). The second host shares prefix and tenant but has no memory level (Coordination:Cache:MemoryTimeToLive = 0),
// so each of its reads is a Redis read; the third is the second with tracing on, as AddCoordination sets it up.
using var oursHost = BuildHost(endpoint, memoryLevel: true, tracing: false);
using var oursL2Host = BuildHost(endpoint, memoryLevel: false, tracing: false);
using var oursL2TracedHost = BuildHost(endpoint, memoryLevel: false, tracing: true);
await oursHost.StartAsync(token);
await oursL2Host.StartAsync(token);
await oursL2TracedHost.StartAsync(token);
var ours = oursHost.Services.GetRequiredService<ICacheManager>();
var oursL2 = oursL2Host.Services.GetRequiredService<ICacheManager>();
var oursL2Traced = oursL2TracedHost.Services.GetRequiredService<ICacheManager>();
var oursEntry = new CacheEntryOptions { TimeToLive = ttl, MemoryTimeToLive = ttl };

// FusionCache: memory + Redis IDistributedCache (System.Text.Json) + Redis backplane, each on its own multiplexer.
using var fusionL2 = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = endpoint, InstanceName = "fusion:" }));
var fusionBackplane = new RedisBackplane(Options.Create(new RedisBackplaneOptions { Configuration = endpoint }));
using var fusion = new FusionCache(new FusionCacheOptions { CacheName = "bench", DefaultEntryOptions = new FusionCacheEntryOptions(ttl) });
fusion.SetupDistributedCache(fusionL2, new FusionCacheSystemTextJsonSerializer());
fusion.SetupBackplane(fusionBackplane);
var fusionDistributedOnly = new FusionCacheEntryOptions(ttl) { SkipMemoryCacheRead = true, SkipMemoryCacheWrite = true };

// HybridCache over the Redis IDistributedCache (Microsoft.Extensions.Caching.StackExchangeRedis).
var hybridServices = new ServiceCollection();
hybridServices.AddLogging();
hybridServices.AddStackExchangeRedisCache(o =>
{
    o.Configuration = endpoint;
    o.InstanceName = "hybrid:";
});
hybridServices.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = ttl, LocalCacheExpiration = ttl });
await using var hybridProvider = hybridServices.BuildServiceProvider();
var hybrid = hybridProvider.GetRequiredService<HybridCache>();
var hybridDistributedOnly = new HybridCacheEntryOptions { Expiration = ttl, Flags = HybridCacheEntryFlags.DisableLocalCache };
long hybridUnexpectedFactoryCalls = 0;
var l2HostsStopped = false;

try
{
    // Pre-warm the same key set in every cache (L2 and, where there is one, L1).
    var keys = Enumerable.Range(0, settings.Keys).Select(i => $"item-{i}").ToArray();
    var values = Enumerable.Range(0, settings.Keys).Select(Product.For).ToArray();
    var rawKeys = keys.Select(k => (RedisKey)("raw:" + k)).ToArray();
    var payloadBytes = JsonSerializer.SerializeToUtf8Bytes(values[0], new JsonSerializerOptions(JsonSerializerDefaults.Web)).Length;
    for (var i = 0; i < keys.Length; i++)
    {
        await db.StringSetAsync(rawKeys[i], JsonSerializer.SerializeToUtf8Bytes(values[i], new JsonSerializerOptions(JsonSerializerDefaults.Web)), ttl);
        await ours.SetAsync(keys[i], values[i], oursEntry, token);
        await fusion.SetAsync(keys[i], values[i], token: token);
        await hybrid.SetAsync(keys[i], values[i], cancellationToken: token);
    }

    string Key(int caller, long call) => keys[(int)(((caller * 7919L) + call) % keys.Length)];
    RedisKey RawKey(int caller, long call) => rawKeys[(int)(((caller * 7919L) + call) % keys.Length)];
    long unique = 0;
    string Unique(string prefix) => prefix + Interlocked.Increment(ref unique).ToString(System.Globalization.CultureInfo.InvariantCulture);

    var webJson = new JsonSerializerOptions(JsonSerializerDefaults.Web);
    var scenarios = new List<Scenario>
    {
        new(
            "L1 hit (memory)",
            "Every read hits the pre-warmed memory level; Redis is not touched.",
            "FusionCache",
            [
                new("ours", "`ICacheManager.GetAsync<Product>` (throws unless `Source == Memory`)", async (c, n) =>
                {
                    var r = await ours.GetAsync<Product>(Key(c, n), token);
                    if (r.Source != CacheSource.Memory) { throw new InvalidOperationException("not a memory hit"); }
                }),
                new("FusionCache", "`TryGetAsync<Product>` with default entry options", async (c, n) =>
                {
                    var r = await fusion.TryGetAsync<Product>(Key(c, n), token: token);
                    if (!r.HasValue) { throw new InvalidOperationException("miss"); }
                }),
                new("HybridCache", "`GetOrCreateAsync<Product>` (the factory never runs: counted below)", async (c, n) =>
                {
                    _ = await hybrid.GetOrCreateAsync(Key(c, n), ct => { Interlocked.Increment(ref hybridUnexpectedFactoryCalls); return ValueTask.FromResult<Product>(null!); }, cancellationToken: token);
                }),
            ]),
        new(
            "L2 hit (Redis, memory bypassed)",
            "Every read goes to Redis and deserializes the value.",
            "raw GET",
            [
                new("raw GET", "`IDatabase.StringGetAsync` of the same JSON bytes, not deserialized (the baseline)", async (c, n) =>
                {
                    var v = await db.StringGetAsync(RawKey(c, n));
                    if (v.IsNull) { throw new InvalidOperationException("miss"); }
                }),
                new("raw GET + STJ", "the same GET plus `JsonSerializer.Deserialize<Product>`", async (c, n) =>
                {
                    var v = await db.StringGetAsync(RawKey(c, n));
                    _ = JsonSerializer.Deserialize<Product>((byte[])v!, webJson) ?? throw new InvalidOperationException("miss");
                }),
                new("ours", "`GetAsync<Product>` on a second host with `Coordination:Cache:MemoryTimeToLive=0` (no memory level; throws unless `Source == Redis`)", async (c, n) =>
                {
                    var r = await oursL2.GetAsync<Product>(Key(c, n), token);
                    if (r.Source != CacheSource.Redis) { throw new InvalidOperationException("not a Redis hit"); }
                }),
                new("ours, tracing on", "the same on a host with tracing as `AddCoordination` sets it up (a span per call and the Redis instrumentation; no exporter)", async (c, n) =>
                {
                    var r = await oursL2Traced.GetAsync<Product>(Key(c, n), token);
                    if (r.Source != CacheSource.Redis) { throw new InvalidOperationException("not a Redis hit"); }
                }),
                new("FusionCache", "`TryGetAsync<Product>` with `SkipMemoryCacheRead = SkipMemoryCacheWrite = true`", async (c, n) =>
                {
                    var r = await fusion.TryGetAsync<Product>(Key(c, n), fusionDistributedOnly, token);
                    if (!r.HasValue) { throw new InvalidOperationException("miss"); }
                }),
                new("HybridCache", "`GetOrCreateAsync<Product>` with `Flags = DisableLocalCache` (read and write)", async (c, n) =>
                {
                    _ = await hybrid.GetOrCreateAsync(Key(c, n), ct => { Interlocked.Increment(ref hybridUnexpectedFactoryCalls); return ValueTask.FromResult<Product>(null!); }, hybridDistributedOnly, cancellationToken: token);
                }),
            ]),
        new(
            "Get-or-create miss (unique key per call, trivial factory)",
            "Each call uses a key never seen before: a memory miss, a Redis miss, the factory, a write to Redis and to memory.",
            "raw GET + SET",
            [
                new("raw GET + SET", "`StringGetAsync` (nil) then `StringSetAsync` with expiry, sequentially", async (c, n) =>
                {
                    var key = (RedisKey)Unique("raw:miss-");
                    var v = await db.StringGetAsync(key);
                    if (!v.IsNull) { throw new InvalidOperationException("hit"); }
                    await db.StringSetAsync(key, JsonSerializer.SerializeToUtf8Bytes(values[c % values.Length], webJson), ttl);
                }),
                new("ours", "`GetOrCreateAsync<Product>` with default options (single-flight in process)", async (c, n) =>
                {
                    _ = await ours.GetOrCreateAsync(Unique("miss-"), _ => ValueTask.FromResult(values[c % values.Length]), oursEntry, token);
                }),
                new("FusionCache", "`GetOrSetAsync<Product>` with default entry options", async (c, n) =>
                {
                    _ = await fusion.GetOrSetAsync<Product>(Unique("miss-"), _ => Task.FromResult(values[c % values.Length]), token: token);
                }),
                new("HybridCache", "`GetOrCreateAsync<Product>` with default options", async (c, n) =>
                {
                    _ = await hybrid.GetOrCreateAsync(Unique("miss-"), ct => ValueTask.FromResult(values[c % values.Length]), cancellationToken: token);
                }),
            ]),
    };

    string[] scenarioIds = ["l1", "l2", "miss"];
    if (settings.Only.Count > 0)
    {
        scenarios = [.. scenarios.Where((_, i) => settings.Only.Contains(scenarioIds[i]))];
    }

    var report = new CacheReport(settings, endpoint, server is not null, serverDescription, payloadBytes);
    foreach (var scenario in scenarios)
    {
        if (scenario.Name.StartsWith("Get-or-create", StringComparison.Ordinal))
        {
            // Only the L2 scenario reads through them; otherwise every write's invalidation reaches three nodes.
            await oursL2Host.StopAsync(token);
            await oursL2TracedHost.StopAsync(token);
            l2HostsStopped = true;
        }

        foreach (var callers in settings.Callers)
        {
            Console.WriteLine($"{scenario.Name}, {callers} caller(s)");
            var results = scenario.Clients.Select(_ => new LoadResult()).ToArray();
            foreach (var client in scenario.Clients)
            {
                _ = await LoadRunner.RunAsync(client.Operation, callers, settings.Warmup, token);
            }

            // Two halves, ABC.. then ..CBA, so that drift during the cell hits every client alike.
            var half = settings.Duration / 2;
            var order = Enumerable.Range(0, scenario.Clients.Count).ToArray();
            foreach (var i in order.Concat(order.Reverse()))
            {
                results[i].Add(await LoadRunner.RunAsync(scenario.Clients[i].Operation, callers, half, token));
            }

            for (var i = 0; i < results.Length; i++)
            {
                var (p50, p99) = results[i].Percentiles();
                Console.WriteLine($"  {scenario.Clients[i].Name,-16} {results[i].OperationsPerSecond,12:N0} ops/s  p50 {p50,8:N1} µs  p99 {p99,8:N1} µs  errors {results[i].Errors}");
                report.Add(new CacheRow(scenario, scenario.Clients[i], callers, results[i]));
            }
        }
    }

    report.HybridUnexpectedFactoryCalls = Interlocked.Read(ref hybridUnexpectedFactoryCalls);
    await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-cache.md", token);
}
finally
{
    await oursHost.StopAsync(CancellationToken.None);
    if (!l2HostsStopped)
    {
        await oursL2Host.StopAsync(CancellationToken.None);
        await oursL2TracedHost.StopAsync(CancellationToken.None);
    }
}

return 0;

static IHost BuildHost(string endpoint, bool memoryLevel, bool tracing)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", "cachebench"),
        new("Coordination:Cache:MemoryTimeToLive", memoryLevel ? "00:10:00" : "00:00:00"),
        new("Aspire:StackExchange:Redis:DisableTracing", tracing ? "false" : "true"),
    ]);
    builder.AddCoordination();
    return builder.Build();
}
