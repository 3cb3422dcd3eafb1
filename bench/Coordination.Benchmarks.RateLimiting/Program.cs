using System.Globalization;
using System.Threading.RateLimiting;
using Coordination;
using Coordination.Benchmarks;
using Coordination.Benchmarks.Locks;
using Coordination.Benchmarks.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RedisRateLimiting;
using PeerPartition = RedisRateLimiting.RedisRateLimitPartition;
using StackExchange.Redis;

if (BenchmarkConsole.ParseOrExplain(RateLimitBenchSettings.Parse, RateLimitBenchSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;

using var server = await RedisServerProcess.StartUnlessGivenAsync(settings.Redis, token);
var endpoint = settings.Redis ?? server!.Endpoint;

// The peer on its own multiplexer with default settings; INFO runs on a connection of its own.
await using var peerConnection = await ConnectionMultiplexer.ConnectAsync(endpoint);
await using var adminConnection = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
var admin = adminConnection.GetServers()[0];

// Ours as an application gets it: AddCoordination on a host, tracing off like the peer.
using var host = BuildHost(endpoint);
await host.StartAsync(token);
var policies = host.Services.GetRequiredService<IRateLimitPolicies>();
var limits = host.Services.GetRequiredService<IRedisCoordinator>().RateLimits;

var second = TimeSpan.FromSeconds(1);
var algorithms = new List<AlgorithmCell>
{
    new("fixed window", RateLimitAlgorithm.FixedWindow, limit => PeerPartition.GetFixedWindowRateLimiter<string>(string.Empty, _ => new RedisFixedWindowRateLimiterOptions { ConnectionMultiplexerFactory = () => peerConnection, PermitLimit = limit, Window = second })),
    new("sliding window", RateLimitAlgorithm.SlidingWindow, limit => PeerPartition.GetSlidingWindowRateLimiter<string>(string.Empty, _ => new RedisSlidingWindowRateLimiterOptions { ConnectionMultiplexerFactory = () => peerConnection, PermitLimit = limit, Window = second })),
    new("token bucket", RateLimitAlgorithm.TokenBucket, limit => PeerPartition.GetTokenBucketRateLimiter<string>(string.Empty, _ => new RedisTokenBucketRateLimiterOptions { ConnectionMultiplexerFactory = () => peerConnection, TokenLimit = limit, TokensPerPeriod = limit, ReplenishmentPeriod = second })),
    new("GCRA", RateLimitAlgorithm.Gcra, null),
    new("sliding log", RateLimitAlgorithm.SlidingLog, null),
};

var report = new RateLimitReport(settings, endpoint, server is not null, RedisServerProcess.Describe((await admin.InfoAsync("server")).SelectMany(g => g)));
var keys = Enumerable.Range(0, settings.Keys).Select(k => "key-" + k.ToString("D5", CultureInfo.InvariantCulture)).ToArray();
var run = 0;
foreach (var cell in algorithms)
{
    run++;
    var policy = $"bench-{run}";
    await policies.SetAsync(policy, new RateLimitPolicy { Algorithm = cell.Algorithm, Limit = settings.Limit, Period = second }, token);
    var clients = new List<IRateLimitClient>();
    if (cell.Peer is { } peer)
    {
        clients.Add(new RedisRateLimitingClient(PartitionedRateLimiter.Create<string, string>(key => Rekey(peer(settings.Limit), key))));
    }

    clients.Add(new CoordinationRateLimitClient(limits, policy));
    foreach (var callers in settings.Callers)
    {
        Console.WriteLine($"{cell.Name}, {callers} caller(s)");
        var allowed = new long[clients.Count];
        var operations = clients.Select((client, c) => (Func<int, long, ValueTask>)(async (caller, call) =>
        {
            if (await client.AcquireAsync(keys[(int)((call * 7919 + caller * 104_729) % keys.Length)]))
            {
                Interlocked.Increment(ref allowed[c]);
            }
        })).ToArray();
        foreach (var operation in operations)
        {
            _ = await LoadRunner.RunAsync(operation, callers, settings.Warmup, token);
        }

        Array.Clear(allowed);
        var (results, serverUse) = await RotatingRounds.RunAsync(operations, callers, settings.Duration, admin, token);

        for (var i = 0; i < clients.Count; i++)
        {
            var (p50, p99) = results[i].Percentiles();
            Console.WriteLine($"  {clients[i].Name,-18} {results[i].OperationsPerSecond,10:N0} decisions/s  p50 {p50,8:N1} µs  p99 {p99,8:N1} µs  errors {results[i].Errors}");
            report.Add(new ThroughputRow(cell.Name, clients[i].Name, callers, results[i], serverUse[i], allowed[i]));
        }
    }

    // Exactness: one fresh key limited to 100 per second, saturated by 64 callers.
    const int SaturatedLimit = 100;
    var saturatedPolicy = policy + "-saturated";
    await policies.SetAsync(saturatedPolicy, new RateLimitPolicy { Algorithm = cell.Algorithm, Limit = SaturatedLimit, Period = second }, token);
    var saturated = new List<IRateLimitClient>();
    if (cell.Peer is { } saturatedPeer)
    {
        saturated.Add(new RedisRateLimitingClient(PartitionedRateLimiter.Create<string, string>(key => Rekey(saturatedPeer(SaturatedLimit), key))));
    }

    saturated.Add(new CoordinationRateLimitClient(limits, saturatedPolicy));
    foreach (var client in saturated)
    {
        var key = $"saturated-{run}-{client.Name}";
        long admitted = 0;
        var result = await LoadRunner.RunAsync(
            async (_, _) =>
            {
                if (await client.AcquireAsync(key))
                {
                    Interlocked.Increment(ref admitted);
                }
            },
            64,
            settings.Saturation,
            token);
        Console.WriteLine($"  saturated {client.Name,-18} admitted {admitted} of {result.Operations} in {settings.Saturation.TotalSeconds:0.#} s");
        report.Add(new SaturationRow(cell.Name, client.Name, SaturatedLimit, admitted, result.Operations, result.Errors));
    }

    foreach (var client in clients.Concat(saturated).OfType<IDisposable>())
    {
        client.Dispose();
    }
}

await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-ratelimiting.md", token);
await host.StopAsync(CancellationToken.None);
return 0;

// RedisRateLimiting keys its Redis state by the partition key it is given: the same factory for every key.
static RateLimitPartition<string> Rekey(RateLimitPartition<string> template, string key) =>
    new(key, _ => template.Factory(key));

static IHost BuildHost(string endpoint)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", "rlbench"),
        new("Aspire:StackExchange:Redis:DisableTracing", "true"),
    ]);
    builder.AddCoordination();
    return builder.Build();
}

internal sealed record AlgorithmCell(string Name, RateLimitAlgorithm Algorithm, Func<int, RateLimitPartition<string>>? Peer);
