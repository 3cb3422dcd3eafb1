using System.Globalization;
using Coordination.Benchmarks;
using StackExchange.Redis;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// The entry point. Not top-level statements: those would declare a second global <c>Program</c> next to the API's,
/// which this project hosts.
/// </summary>
internal static class EndToEndBenchmark
{
    public static async Task<int> Main(string[] args)
    {
        if (BenchmarkConsole.ParseOrExplain(EndToEndSettings.Parse, EndToEndSettings.Usage, args) is not { } settings)
        {
            return 2;
        }

        using var cancellation = BenchmarkConsole.CancelOnCtrlC();
        var token = cancellation.Token;
        var report = new EndToEndReport(settings);

        using var redis = await RedisServerProcess.StartAsync(token);
        Console.WriteLine($"Redis: redis-server started by the benchmark on {redis.Endpoint}");
        await using var adminConnection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",allowAdmin=true");
        var admin = adminConnection.GetServers()[0];
        report.RedisServer = RedisServerProcess.Describe(admin);

        await using var replicaA = ApiReplica.Start(redis.Endpoint);
        await using var replicaB = ApiReplica.Start(redis.Endpoint);
        await using var trivial = await TrivialEndpoint.StartAsync(token);
        await using var library = await LibraryMixClient.StartAsync(redis.Endpoint, token);
        Console.WriteLine($"API replicas: {replicaA.BaseAddress}, {replicaB.BaseAddress}; trivial endpoint: {trivial.BaseAddress} (Kestrel in this process)");

        using var api = new ApiMixClient([replicaA.BaseAddress, replicaB.BaseAddress]);
        using var trivialClient = new TrivialClient(trivial.BaseAddress);
        IMixClient[] clients = [api, library, trivialClient];
        foreach (var client in clients)
        {
            await client.PrepareAsync(token);
        }

        report.ServerVersion = await api.ServerVersionAsync(token);
        report.Clients = clients;
        Console.WriteLine($"Prepared: {Mix.CacheKeys:N0} cache entries, {Mix.Sessions:N0} sessions and the policy '{Mix.Policy}' per tenant; Coordination.Api {report.ServerVersion}, {report.RedisServer}");

        foreach (var callers in settings.Callers)
        {
            Console.WriteLine($"{callers} caller(s): warm-up {settings.Warmup.TotalSeconds:0.#} s per client, then {settings.Duration.TotalSeconds:0.#} s per client in rotating rounds");
            if (settings.Warmup > TimeSpan.Zero)
            {
                foreach (var client in clients)
                {
                    await MixRunner.RunAsync(client, callers, settings.Warmup, new MixResult(), admin, token);
                }
            }

            var results = await MixRunner.RunRotatingAsync(clients, callers, settings.Duration, admin, token);
            for (var i = 0; i < clients.Length; i++)
            {
                var r = results[i];
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {clients[i].Name,-18} {r.OperationsPerSecond,10:N0} ops/s  p50 {r.Percentile(0.5),9:N0} µs  p99 {r.Percentile(0.99),9:N0} µs  p99.9 {r.Percentile(0.999),9:N0} µs  errors {r.Errors:N0}"));
            }

            report.Add(callers, results);
        }

        report.Finish();
        await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-endtoend.md", token);
        return 0;
    }
}
