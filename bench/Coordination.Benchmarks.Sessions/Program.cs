using System.Globalization;
using Coordination;
using Coordination.Benchmarks;
using Coordination.Benchmarks.Locks;
using Coordination.Benchmarks.Sessions;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

if (BenchmarkConsole.ParseOrExplain(SessionBenchSettings.Parse, SessionBenchSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;

using var server = await RedisServerProcess.StartUnlessGivenAsync(settings.Redis, token);
var endpoint = settings.Redis ?? server!.Endpoint;

// Each client has its own multiplexer(s) with default settings; INFO runs on a connection of its own.
await using var rawConnection = await ConnectionMultiplexer.ConnectAsync(endpoint);
await using var adminConnection = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
var admin = adminConnection.GetServers()[0];
using var redisCache = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = endpoint, InstanceName = "aspnet-session:" }));

// Ours as an application gets it: AddCoordination on a host, tracing off like the peers (neither traces here).
using var host = BuildHost(endpoint, settings.IdleTimeout);
await host.StartAsync(token);

var variants = Enumerable.Range(0, 64).Select(SessionData.For).ToArray();
List<ISessionClient> clients =
[
    new RawHashSessionClient(rawConnection.GetDatabase(), settings.IdleTimeout),
    new DistributedCacheSessionClient(redisCache, settings.IdleTimeout),
];
string? oursUnavailable = null;
try
{
    var ours = new CoordinationSessionClient(host.Services.GetRequiredService<IRedisCoordinator>().Sessions);
    _ = await ours.CreateAsync("probe-user", variants[0]);
    clients.Add(ours);
}
catch (NotSupportedException ex)
{
    // Until the session manager is implemented the contract throws: measure the baselines and say so.
    oursUnavailable = ex.Message;
    Console.WriteLine($"ours: not available ({ex.Message})");
}

try
{
    // The sessions read by the get cells: the same number per client, ten per user, created before any measurement.
    var ids = new string[clients.Count][];
    for (var c = 0; c < clients.Count; c++)
    {
        ids[c] = new string[settings.Sessions];
        for (var i = 0; i < settings.Sessions; i++)
        {
            ids[c][i] = await clients[c].CreateAsync(string.Create(CultureInfo.InvariantCulture, $"user-{i / 10:D5}"), variants[i % variants.Length]);
        }
    }

    // Each caller walks its own random order of the sessions (the same order for every client).
    var orders = Enumerable.Range(0, settings.Callers.Max()).Select(caller =>
    {
        var order = Enumerable.Range(0, settings.Sessions).ToArray();
        new Random(caller + 1).Shuffle(order);
        return order;
    }).ToArray();

    // New sessions go to a pool of users large enough that none reaches a per-user cap during a run.
    long created = 0;
    string NextCreateUser() => string.Create(CultureInfo.InvariantCulture, $"create-user-{Interlocked.Increment(ref created) % 10_000:D5}");

    var operations = new List<SessionOperation>
    {
        new(
            "get (sliding)",
            "Each call reads one pre-created session by id and slides its idle expiry; a session not found counts as an error.",
            c => c.GetDescription,
            c => { var clientIds = ids[clients.IndexOf(c)]; return (caller, call) => c.GetAsync(clientIds[orders[caller][call % settings.Sessions]]); }),
        new(
            "create",
            "Each call creates a new session of one of 10,000 users with the data of one of 64 variants.",
            c => c.CreateDescription,
            c => async (caller, call) => _ = await c.CreateAsync(NextCreateUser(), variants[(int)(call % variants.Length)])),
    };

    var report = new SessionReport(settings, endpoint, server is not null, RedisServerProcess.Describe(admin), variants[0], clients, oursUnavailable);
    foreach (var operation in operations)
    {
        foreach (var callers in settings.Callers)
        {
            Console.WriteLine($"{operation.Name}, {callers} caller(s)");
            var runs = clients.Select(operation.For).ToArray();
            foreach (var run in runs)
            {
                _ = await LoadRunner.RunAsync(run, callers, settings.Warmup, token);
            }

            var (results, serverUse) = await RotatingRounds.RunAsync(runs, callers, settings.Duration, admin, token);

            for (var i = 0; i < clients.Count; i++)
            {
                var (p50, p99) = results[i].Percentiles();
                Console.WriteLine($"  {clients[i].Name,-16} {results[i].OperationsPerSecond,10:N0} ops/s  p50 {p50,8:N1} µs  p99 {p99,8:N1} µs  errors {results[i].Errors}");
                report.Add(new SessionRow(operation, clients[i].Name, callers, results[i], serverUse[i]));
            }
        }
    }

    await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-sessions.md", token);
}
finally
{
    await host.StopAsync(CancellationToken.None);
}

return 0;

static IHost BuildHost(string endpoint, TimeSpan idleTimeout)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    var absoluteTimeout = idleTimeout > TimeSpan.FromDays(1) ? idleTimeout : TimeSpan.FromDays(1);
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", "sessbench"),
        new("Coordination:Sessions:DefaultIdleTimeout", idleTimeout.ToString("c", CultureInfo.InvariantCulture)),
        new("Coordination:Sessions:DefaultAbsoluteTimeout", absoluteTimeout.ToString("c", CultureInfo.InvariantCulture)),
        new("Aspire:StackExchange:Redis:DisableTracing", "true"),
    ]);
    builder.AddCoordination();
    return builder.Build();
}
