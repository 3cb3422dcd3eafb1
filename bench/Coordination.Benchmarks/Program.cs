using Coordination;
using System.Globalization;
using Coordination.Benchmarks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

if (BenchmarkConsole.ParseOrExplain(BenchmarkSettings.Parse, BenchmarkSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;

using var server = await RedisServerProcess.StartUnlessGivenAsync(settings.Redis, token);
var endpoint = settings.Redis ?? server!.Endpoint;

await using var raw = await ConnectionMultiplexer.ConnectAsync(endpoint);
using var host = BuildHost(endpoint, settings.DisableTracing, settings.TraceRedisCommands, settings.KeyQuota, settings.Durability);
await host.StartAsync(token);
if (settings.Durability is not null)
{
    try
    {
        return await RunDurabilityAsync(host, raw, settings, token);
    }
    finally
    {
        await host.StopAsync(CancellationToken.None);
    }
}

try
{
    var coordinator = host.Services.GetRequiredService<IRedisCoordinator>();
    var executor = host.Services.GetRequiredService<RedisExecutor>();
    var report = new Report(settings, endpoint, server is not null, raw.GetServers().FirstOrDefault() is { } first ? RedisServerProcess.Describe(first) : "unknown");

    await new ThroughputScenario(settings, raw, coordinator, executor).RunAsync(report, token);
    if (settings.Breakdown)
    {
        await new BreakdownScenario(settings, raw, coordinator, executor).RunAsync(report, token);
    }

    await new FailFastScenario(settings, coordinator, executor).RunAsync(report, token);
    if (server is not null && settings.ReconnectRuns > 0)
    {
        await new ReconnectScenario(settings, server, raw, coordinator, executor, host.Services.GetRequiredService<ICoordinationEvents>()).RunAsync(report, token);
    }

    await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks.md", token);
}
finally
{
    await host.StopAsync(CancellationToken.None);
}

return 0;

static async Task<int> RunDurabilityAsync(IHost host, IConnectionMultiplexer raw, BenchmarkSettings settings, CancellationToken token)
{
    var monitor = host.Services.GetRequiredService<ICoordinationMonitor>();
    for (var attempt = 0; !(await monitor.GetStatusAsync(token)).Fallback.Ready; attempt++)
    {
        if (attempt == 300)
        {
            throw new InvalidOperationException("The fallback store did not become ready within 30 s: check --durability's connection string.");
        }

        await Task.Delay(100, token);
    }

    var description = await DescribePostgresAsync(settings.Durability!, token);
    var scenario = new DurabilityScenario(settings, raw, host.Services.GetRequiredService<IRedisCoordinator>(), monitor, description);
    var endpoint = raw.GetEndPoints()[0].ToString()!;
    var markdown = await scenario.RunAsync(
        raw.GetServers().FirstOrDefault() is { } only ? RedisServerProcess.Describe(only) : "unknown",
        rate => BuildHost(endpoint, settings.DisableTracing, settings.TraceRedisCommands, settings.KeyQuota, settings.Durability, rate),
        token);
    await ReportFile.PublishAsync(markdown, settings.Write, settings.Output, "benchmarks-durability.md", token);
    return 0;
}

static async Task<string> DescribePostgresAsync(string connectionString, CancellationToken token)
{
    await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
    await using var command = dataSource.CreateCommand("SELECT version(), current_setting('fsync'), current_setting('synchronous_commit')");
    await using var reader = await command.ExecuteReaderAsync(token);
    await reader.ReadAsync(token);
    return $"{reader.GetString(0).Split(" on ")[0]} on loopback, fsync={reader.GetString(1)}, synchronous_commit={reader.GetString(2)}";
}

// The coordinator as an application gets it: AddCoordination on a host, default options, no PostgreSQL fallback
// (unless the durability benchmark runs, which gives it one).
static IHost BuildHost(string endpoint, bool disableTracing, bool traceRedisCommands, int? keyQuota, string? postgres, int? repairRowsPerSecond = null)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", "bench"),
        new("Aspire:StackExchange:Redis:DisableTracing", disableTracing ? "true" : "false"),
        new("Coordination:TraceRedisCommands", traceRedisCommands ? "true" : "false"),
    ]);
    if (keyQuota is { } quota)
    {
        builder.Configuration["Coordination:Quotas:MaxKeysPerTenant"] = quota.ToString(CultureInfo.InvariantCulture);
    }

    if (postgres is not null)
    {
        builder.Configuration["ConnectionStrings:coordinationdb"] = postgres;
        builder.Configuration["Coordination:Fallback:Schema"] = "bench_durability";
        if (repairRowsPerSecond is { } rate)
        {
            // A key prefix of its own: its own marker, reload lock and mirror rows, apart from the other cells'.
            builder.Configuration["Coordination:KeyPrefix"] = "bench-repair-" + rate.ToString(CultureInfo.InvariantCulture);
            builder.Configuration["Coordination:Fallback:RepairRowsPerSecond"] = rate.ToString(CultureInfo.InvariantCulture);
        }
    }

    builder.AddCoordination();
    return builder.Build();
}
