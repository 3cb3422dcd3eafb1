using Coordination;
using Coordination.Benchmarks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

BenchmarkSettings settings;
try
{
    settings = BenchmarkSettings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchmarkSettings.Usage);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
var token = cancellation.Token;

using var server = settings.Redis is null ? await RedisServerProcess.StartAsync(token) : null;
var endpoint = settings.Redis ?? server!.Endpoint;
Console.WriteLine($"Redis: {endpoint} ({(server is null ? "external" : "redis-server started by the benchmark")})");

await using var raw = await ConnectionMultiplexer.ConnectAsync(endpoint);
using var host = BuildHost(endpoint, settings.DisableTracing, settings.TraceRedisCommands);
await host.StartAsync(token);
try
{
    var coordinator = host.Services.GetRequiredService<IRedisCoordinator>();
    var executor = host.Services.GetRequiredService<RedisExecutor>();
    var report = new Report(settings, endpoint, server is not null, raw.GetServers().FirstOrDefault()?.Version.ToString() ?? "unknown");

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

// The coordinator as an application gets it: AddCoordination on a host, default options, no PostgreSQL fallback.
static IHost BuildHost(string endpoint, bool disableTracing, bool traceRedisCommands)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
    builder.Configuration.AddInMemoryCollection(
    [
        new("ConnectionStrings:redis", endpoint),
        new("Coordination:KeyPrefix", "bench"),
        new("Aspire:StackExchange:Redis:DisableTracing", disableTracing ? "true" : "false"),
        new("Coordination:TraceRedisCommands", traceRedisCommands ? "true" : "false"),
    ]);
    builder.AddCoordination();
    return builder.Build();
}
