using System.Diagnostics;
using System.Globalization;
using Coordination;
using Coordination.Benchmarks;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Soak;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

if (BenchmarkConsole.ParseOrExplain(SoakSettings.Parse, SoakSettings.Usage, args) is not { } settings)
{
    return 2;
}

using var cancellation = BenchmarkConsole.CancelOnCtrlC();
var token = cancellation.Token;
var started = DateTimeOffset.UtcNow;
var loadAtStart = MachineInfo.LoadAverage();

using var redis = await RedisServerProcess.StartUnlessGivenAsync(givenEndpoint: null, token);
await using var postgres = settings.Postgres ? await PostgresServer.StartAsync(token) : null;
Console.WriteLine(postgres is null ? "PostgreSQL: not run (--no-postgres)" : $"PostgreSQL: 127.0.0.1:{postgres.Port} started by the run");

// The run's own observers, apart from the library's connections: INFO is an admin command, and pg_stat_activity is read
// on one connection of its own (counted by the query, the same in every sample).
await using var admin = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redis!.Endpoint }, AllowAdmin = true });
var server = admin.GetServer(redis.Endpoint);
var redisDescription = RedisServerProcess.Describe((await server.InfoAsync("server")).SelectMany(group => group));
await using var postgresObserver = postgres is null ? null : new NpgsqlConnection(postgres.ConnectionString + ";Pooling=false");
string? postgresDescription = null;
if (postgresObserver is not null)
{
    await postgresObserver.OpenAsync(token);
    await using var version = new NpgsqlCommand("SHOW server_version", postgresObserver);
    postgresDescription = $"PostgreSQL {await version.ExecuteScalarAsync(token)}";
}

// The library as an application gets it: a host with AddCoordination, default options, the fallback when PostgreSQL runs.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
var configuration = new Dictionary<string, string?>
{
    ["ConnectionStrings:redis"] = redis.Endpoint,
    ["Coordination:KeyPrefix"] = "soak",
};
if (postgres is not null)
{
    configuration["ConnectionStrings:coordinationdb"] = postgres.ConnectionString;
}

builder.Configuration.AddInMemoryCollection(configuration);
builder.Logging.ClearProviders();
builder.AddCoordination();
using var host = builder.Build();
await host.StartAsync(token);

var workload = new SoakWorkload(
    host.Services.GetRequiredService<ICoordinatorFactory>().ForTenant("soak"),
    host.Services.GetRequiredService<IRateLimitPolicies>(),
    settings.Callers);
await workload.PrepareAsync(token);
await using var sampler = new SoakSampler(server, postgresObserver);

Console.WriteLine($"Soak: {settings.Duration.TotalMinutes:0.##} min, {settings.Callers} callers, a sample every {settings.SampleInterval.TotalSeconds:0.#} s (warm-up {settings.Warmup.TotalSeconds:0} s, not judged)");
Console.WriteLine("elapsed   ops/s  errors  working set   GC heap  old gen  gen0/1/2  threads  pool  redis clients  redis mem  pg conns");

var samples = new List<Sample>();
using var run = CancellationTokenSource.CreateLinkedTokenSource(token);
var clock = Stopwatch.StartNew();
var load = workload.RunAsync(run.Token);
try
{
    using var timer = new PeriodicTimer(settings.SampleInterval);
    var previousOperations = 0L;
    var previousErrors = 0L;
    var previousElapsed = TimeSpan.Zero;
    while (clock.Elapsed + settings.SampleInterval <= settings.Duration + (settings.SampleInterval / 2) && await timer.WaitForNextTickAsync(token))
    {
        var elapsed = clock.Elapsed;
        var operations = workload.Operations;
        var errors = workload.Errors;
        var sample = await sampler.TakeAsync(elapsed, (operations - previousOperations) / (elapsed - previousElapsed).TotalSeconds, errors - previousErrors, token);
        (previousOperations, previousErrors, previousElapsed) = (operations, errors, elapsed);
        samples.Add(sample);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{elapsed:mm\\:ss}  {sample.OperationsPerSecond,7:0}  {sample.Errors,6}  {sample.WorkingSetBytes / 1048576.0,8:0.0} MiB  {sample.GcHeapBytes / 1048576.0,6:0.0} MiB  {sample.OldGenerationBytes / 1048576.0,6:0.0} MiB  {sample.Gen0}/{sample.Gen1}/{sample.Gen2}  {sample.Threads,7}  {sample.PoolConnections?.ToString(CultureInfo.InvariantCulture) ?? "n/a",4}  {sample.RedisClients,13}  {sample.RedisUsedMemoryBytes / 1048576.0,5:0.0} MiB  {sample.PostgresConnections?.ToString(CultureInfo.InvariantCulture) ?? "n/a",8}"));
    }
}
finally
{
    await run.CancelAsync();
    await load;
}

await workload.CleanUpAsync(token);
await host.StopAsync(token);

var verdict = SoakVerdict.Judge(samples, settings);
var report = new SoakReport
{
    Settings = settings,
    Started = started,
    LoadAtStart = loadAtStart,
    LoadAtEnd = MachineInfo.LoadAverage(),
    RedisServer = redisDescription,
    PostgresServer = postgresDescription,
    Samples = samples,
    Verdict = verdict,
    ErrorKinds = workload.ErrorKinds,
    Operations = workload.Operations,
    FactoryCalls = workload.FactoryCalls,
};
await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "soak.md", token);
Console.WriteLine(verdict.Flat ? "Verdict: flat" : "Verdict: NOT flat");
return verdict.Flat ? 0 : 1;
