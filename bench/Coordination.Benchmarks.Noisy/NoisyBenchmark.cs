using System.Diagnostics;
using Coordination.Benchmarks;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// The entry point. Not top-level statements: those would declare a second global <c>Program</c> next to the API's,
/// which this project hosts.
/// </summary>
internal static class NoisyBenchmark
{
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    // The attack starts this long before B's measured phase, so B is measured against an attack in full flow.
    public static readonly TimeSpan AttackRampUp = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);

    public static async Task<int> Main(string[] args)
    {
        if (BenchmarkConsole.ParseOrExplain(NoisySettings.Parse, NoisySettings.Usage, args) is not { } settings)
        {
            return 2;
        }

        using var cancellation = BenchmarkConsole.CancelOnCtrlC();
        var token = cancellation.Token;
        var report = new NoisyReport(settings);

        using var redis = await RedisServerProcess.StartAsync(token);
        Console.WriteLine($"Redis: redis-server started by the benchmark on {redis.Endpoint}");
        await using var postgres = settings.Postgres ? await PostgresServer.StartAsync(token) : null;
        Console.WriteLine(postgres is null ? "PostgreSQL: none (--no-postgres)" : $"PostgreSQL: started by the benchmark on port {postgres.Port}");

        await using var api = NoisyApiHost.Start(redis.Endpoint, postgres?.ConnectionString);
        var baseAddress = api.BaseAddress;
        Console.WriteLine($"API: {baseAddress} (Kestrel in this process)");
        using var operatorClient = new HttpClient { BaseAddress = baseAddress };
        operatorClient.DefaultRequestHeaders.Add("X-Api-Key", NoisyApiHost.OperatorKey);

        var victim = new VictimTenant(baseAddress, settings.Rate);
        await victim.PrepareAsync(token);
        var warmUp = await victim.RunAsync(WarmUp, token);
        Console.WriteLine($"Warm-up: tenant B {warmUp.Completed} operations, p99 {warmUp.Percentile(0.99):0.0} ms, errors: {warmUp.Errors.Describe()}");
        report.ServerVersion = (await ServerSnapshot.TakeAsync(operatorClient, token)).Version;
        report.RedisServer = await RedisServerAsync(redis.Endpoint);

        foreach (var attack in settings.Attacks.Select(id => Attack.All.Single(a => a.Id == id)))
        {
            Console.WriteLine($"{attack.Title}: tenant B alone for {settings.Duration.TotalSeconds:0.#} s ...");
            var alone = await victim.RunAsync(settings.Duration, token);
            var before = await ServerSnapshot.TakeAsync(operatorClient, token);

            Console.WriteLine($"{attack.Title}: tenant B under attack for {settings.Duration.TotalSeconds:0.#} s ...");
            using var context = new AttackContext(baseAddress, settings);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            var attackStarted = Stopwatch.GetTimestamp();
            var attackRun = Task.Run(() => attack.RunAsync(context, stop.Token), token);
            await Task.Delay(AttackRampUp, token);
            var underAttack = await victim.RunAsync(settings.Duration, token);
            var after = await ServerSnapshot.TakeAsync(operatorClient, token);
            await stop.CancelAsync();
            var attackFailure = await EndAsync(attackRun);
            var attackElapsed = Stopwatch.GetElapsedTime(attackStarted);

            var result = new PhaseResult(attack, alone, underAttack, context.Outcomes, context.Sent, attackElapsed, attackFailure, before, after);
            report.Add(result);
            Console.WriteLine(
                $"  B alone p99 {alone.Percentile(0.99):0.0} ms, errors {alone.ErrorCount}; under attack p99 {underAttack.Percentile(0.99):0.0} ms ({result.P99Ratio:0.00}x), " +
                $"errors {underAttack.ErrorCount} ({underAttack.Errors.Describe()}); A {result.AttackerRequestsPerSecond:N0} req/s sent ({context.Outcomes.Describe()}, unanswered at stop: {result.AttackerUnanswered:N0}){(attackFailure is null ? string.Empty : "; attack failed: " + attackFailure)}");

            // Whatever the attack left behind (an open circuit, queued mirror writes) passes here, unmeasured, so the
            // next attack's baseline does not inherit it.
            await Task.Delay(settings.Settle, token);
            var settled = await SettleAsync(operatorClient, token);
            report.AddSettled(settled);
            Console.WriteLine($"  settled after {settings.Settle.TotalSeconds + settled.Waited.TotalSeconds:0.#} s{(settled.Healthy ? string.Empty : " (not healthy: " + settled.Snapshot.Circuit + ", mirror backlog " + settled.Snapshot.MirrorBacklog + ")")}");
        }

        report.Finish();
        await ReportFile.PublishAsync(report.ToMarkdown(), settings.Write, settings.Output, "benchmarks-noisy.md", token);
        return 0;
    }

    /// <summary>Waits until the API reports a closed circuit and an empty mirror backlog, at most <see cref="SettleLimit"/>.</summary>
    private static async Task<Settled> SettleAsync(HttpClient operatorClient, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var snapshot = await ServerSnapshot.TakeAsync(operatorClient, cancellationToken);
            var healthy = snapshot.Circuit == "closed" && snapshot.MirrorBacklog is null or 0;
            if (healthy || Stopwatch.GetElapsedTime(started) >= SettleLimit)
            {
                return new Settled(healthy, Stopwatch.GetElapsedTime(started), snapshot);
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>Waits for the stopped attack (bounded: a request the server never answers must not hang the run) and says why it failed, if it did.</summary>
    private static async Task<string?> EndAsync(Task attackRun)
    {
        try
        {
            await attackRun.WaitAsync(TimeSpan.FromSeconds(60));
            return null;
        }
        catch (TimeoutException)
        {
            return "it did not stop within 60 s of being cancelled";
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    private static async Task<string> RedisServerAsync(string endpoint)
    {
        try
        {
            var output = await ProcessUtil.RunAsync("redis-cli", ["-u", $"redis://{endpoint}", "INFO", "server"], TimeSpan.FromSeconds(10));
            return RedisServerProcess.Describe(output.Split('\n')
                .Select(line => line.Trim().Split(':', 2))
                .Where(field => field.Length == 2)
                .Select(field => KeyValuePair.Create(field[0], field[1])));
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return "unknown";
        }
    }
}
