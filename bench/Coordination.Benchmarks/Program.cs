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
using var host = BuildHost(endpoint, settings.DisableTracing, settings.TraceRedisCommands, settings.KeyQuota);
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
static IHost BuildHost(string endpoint, bool disableTracing, bool traceRedisCommands, int? keyQuota)
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

    builder.AddCoordination();
    return builder.Build();
}
