using Coordination;
using Coordination.Benchmarks;
using Coordination.Benchmarks.Locks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

if (BenchmarkConsole.ParseOrExplain(LockBenchSettings.Parse, LockBenchSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;

using var server = await RedisServerProcess.StartUnlessGivenAsync(settings.Redis, token);
var endpoint = settings.Redis ?? server!.Endpoint;

// The peers share one multiplexer with default settings; ours gets its pool from AddCoordination, as an application would.
await using var peers = await ConnectionMultiplexer.ConnectAsync(endpoint);

// INFO (the server's command and CPU counters) on a connection of its own, so the clients' connections keep their defaults.
await using var adminConnection = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
var admin = adminConnection.GetServers()[0];

List<IHost> hosts = [BuildHost(endpoint, "lockbench", tracing: true, deadlockDetection: true)];
if (settings.Diagnostics)
{
    hosts.Add(BuildHost(endpoint, "lockbench-notrace", tracing: false, deadlockDetection: true));
    hosts.Add(BuildHost(endpoint, "lockbench-nodeadlock", tracing: true, deadlockDetection: false));
}

try
{
    foreach (var host in hosts)
    {
        await host.StartAsync(token);
    }

    using var redLock = new RedLockClient(peers, settings.TimeToLive, settings.RedLockRetry);
    var raw = new RawLockClient(peers, settings.TimeToLive);
    var distributedLock = new DistributedLockClient(peers, settings.TimeToLive, busyWait: null);
    var tunedDistributedLock = new DistributedLockClient(peers, settings.TimeToLive, settings.TunedBusyWait);
    var manager = hosts[0].Services.GetRequiredService<IDistributedLockManager>();
    var ours = new CoordinationLockClient(manager, "ours", fair: false, CoordinationLockClient.Defaults);
    var oursFair = new CoordinationLockClient(manager, "ours, Fair = true", fair: true, "as above, waiting with `LockOptions { WaitTimeout = wait, Fair = true }` (FIFO queue in Redis).");

    var roles = new Roles(raw.Name, ours.Name, oursFair.Name, distributedLock.Name, [redLock.Name, distributedLock.Name], tunedDistributedLock.Name);
    var report = new Report(settings, endpoint, server is not null, RedisServerProcess.Describe(admin), roles);

    List<ILockClient> uncontendedClients = [raw, redLock, distributedLock, ours];
    List<ILockClient> variants = [redLock, distributedLock, tunedDistributedLock, ours, oursFair];
    if (settings.Diagnostics)
    {
        uncontendedClients.Add(new CoordinationLockClient(
            hosts[1].Services.GetRequiredService<IDistributedLockManager>(),
            "ours, tracing off (diagnostic)",
            fair: false,
            "ours from a host with `Aspire:StackExchange:Redis:DisableTracing=true` (no spans, no Redis instrumentation)."));
        if (LuaScriptsLockClient.TryCreate(peers, settings.TimeToLive) is { } scripts)
        {
            uncontendedClients.Add(scripts);
        }

        variants.Add(new CoordinationLockClient(
            hosts[2].Services.GetRequiredService<IDistributedLockManager>(),
            "ours, DeadlockDetection = false (diagnostic)",
            fair: false,
            "ours from a host with `Coordination:Locks:DeadlockDetection=false` (a refused waiter records no wait-for graph)."));
    }

    var uncontended = await new UncontendedScenario(settings, uncontendedClients, admin).RunAsync(token);
    report.SetUncontended(uncontendedClients, uncontended);

    var contended = await new ContendedScenario(settings, variants, admin).RunAsync(token);
    report.SetContended(variants, contended);

    await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-locks.md", token);
}
finally
{
    foreach (var host in hosts)
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }
}

return 0;

// Ours as an application gets it: AddCoordination on a host, default options (no PostgreSQL fallback).
static IHost BuildHost(string endpoint, string keyPrefix, bool tracing, bool deadlockDetection)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", keyPrefix),
        new("Coordination:Locks:DeadlockDetection", deadlockDetection ? "true" : "false"),
        new("Aspire:StackExchange:Redis:DisableTracing", tracing ? "false" : "true"),
    ]);
    builder.AddCoordination();
    return builder.Build();
}
