using System.Diagnostics;
using Coordination.Benchmarks;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Chaos;

/// <summary>
/// The entry point. Not top-level statements: those would declare a second global <c>Program</c> next to the API's,
/// which this project hosts.
/// </summary>
internal static class ChaosProgram
{
    /// <summary>How long a scenario may wait for recovery after its length before it is reported as not recovered.</summary>
    public static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(30);

    public static async Task<int> Main(string[] args)
    {
        if (BenchmarkConsole.ParseOrExplain(ChaosSettings.Parse, ChaosSettings.Usage, args) is not { } settings)
        {
            return 2;
        }

        using var cancellation = BenchmarkConsole.CancelOnCtrlC();
        var token = cancellation.Token;
        var report = new ChaosReport(settings);
        var recorder = new Recorder();
        recorder.Begin(new ScenarioStats(Fault.All[0]));

        using var redisServer = await RedisServerProcess.StartAsync(token);
        var redis = new RedisControl(redisServer);
        await using var postgresServer = await PostgresServer.StartAsync(token);
        await using var postgres = await PostgresControl.AttachAsync(postgresServer.ConnectionString, token);
        // Restarted once before any load, with durable commits (the fixture starts it without).
        await postgres.KillAsync(token);
        await postgres.RestartAsync(token);
        report.RedisServer = RedisServerProcess.Describe(await redis.InfoServerAsync());
        report.Postgres = $"{await PostgresControl.VersionAsync(postgresServer.ConnectionString, token)} ({await PostgresControl.DurabilityAsync(postgresServer.ConnectionString, token)})";
        Console.WriteLine($"Redis: {report.RedisServer} on {redisServer.Endpoint}; {report.Postgres} on port {postgresServer.Port}");

        var nodes = new List<LibraryNode>();
        var warnings = new WarningCounter();
        await using var api = new ApiPool();
        try
        {
            nodes.Add(await LibraryNode.StartAsync("lib-1", redisServer.Endpoint, postgresServer.ConnectionString, warnings, token));
            nodes.Add(await LibraryNode.StartAsync("lib-2", redisServer.Endpoint, postgresServer.ConnectionString, warnings, token));
            ChaosApiHost StartReplica(string name) => ChaosApiHost.Start(name, redisServer.Endpoint, postgresServer.ConnectionString);
            _ = api.Add(StartReplica("api-1"));
            _ = api.Add(StartReplica("api-2"));
            Console.WriteLine($"Library nodes: {string.Join(", ", nodes.Select(n => n.Name))}; API replicas on Kestrel: api-1, api-2");

            var context = new ChaosContext(settings, redis, postgres, postgresServer.ConnectionString, nodes, api, StartReplica);
            var exitCode = await RunAsync(settings, context, recorder, report, warnings, token);
            await ReportAsync(settings, report, token);
            return exitCode;
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task<int> RunAsync(ChaosSettings settings, ChaosContext context, Recorder recorder, ChaosReport report, WarningCounter warnings, CancellationToken cancellationToken)
    {
        var fencing = new FencingChecker(recorder);
        var limits = new RateLimitChecker(recorder, ChaosConfiguration.PolicyLimit, Math.Max(1, ChaosConfiguration.PolicyLimit / ChaosConfiguration.NodeCount), ChaosConfiguration.PolicyPeriod);
        var sessions = new SessionWorkload(recorder, context.Nodes, new SessionDiagnosis(context.PostgresConnectionString, context.Redis));
        var cache = new CacheWorkload(recorder, context.Nodes);

        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] workers =
        [
            .. new LockWorkload(recorder, fencing, context.Nodes).Start(stopLoad.Token),
            .. new RateLimitWorkload(recorder, limits, context.Nodes, () => context.Redis.Life).Start(stopLoad.Token),
            .. sessions.Start(stopLoad.Token),
            .. cache.Start(stopLoad.Token),
            .. new ApiWorkload(recorder, context.Api).Start(stopLoad.Token),
        ];

        try
        {
            // Warm-up, unrecorded in any scenario: connections, scripts, the fallback schema.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            foreach (var fault in settings.Scenarios.Select(id => Fault.All.Single(f => f.Id == id)))
            {
                var stats = new ScenarioStats(fault);
                recorder.Begin(stats);
                _ = warnings.Drain();
                limits.CheckClosedWindows(all: false);
                Console.WriteLine($"{fault.Id}: {fault.Title} ...");

                await Task.Delay(settings.ScenarioLength * 0.25, cancellationToken);
                stats.MarkFaultStart();
                await fault.InjectAsync(context, cancellationToken);
                stats.MarkFaultEnd();
                var remaining = settings.ScenarioLength - Stopwatch.GetElapsedTime(stats.Started);
                if (remaining > TimeSpan.Zero)
                {
                    await Task.Delay(remaining, cancellationToken);
                }

                await WaitForRecoveryAsync(stats, fault.Probes(context), cancellationToken);
                await sessions.VerifyAsync(stats, cancellationToken);
                await cache.VerifyAsync(stats, cancellationToken);
                limits.CheckClosedWindows();
                stats.Warnings.AddRange(warnings.Drain());
                report.Add(stats);
                Console.WriteLine(
                    $"  calls {stats.Calls:N0}, errors {stats.Errors:N0} (outside the contract {stats.UnexpectedErrors.Values.Sum():N0}), " +
                    $"recovered {(stats.Recovery is { } recovery ? $"after {recovery.TotalMilliseconds:N0} ms" : stats.Recovered ? "(nothing to recover)" : "NOT")}, violations {stats.Violations.Values.Sum():N0}");
                foreach (var (key, count) in stats.ExpectedErrors.Concat(stats.UnexpectedErrors).OrderByDescending(e => e.Value))
                {
                    Console.WriteLine($"    {key}: {count:N0}");
                }

                foreach (var note in stats.Notes.Take(10))
                {
                    Console.WriteLine($"    note: {note}");
                }

                foreach (var warning in stats.Warnings)
                {
                    Console.WriteLine($"    log: {warning}");
                }
            }

            // The last windows, once they have ended.
            await Task.Delay(ChaosConfiguration.PolicyPeriod * 2, cancellationToken);
            limits.CheckClosedWindows(all: true);
        }
        finally
        {
            await stopLoad.CancelAsync();
            try
            {
                await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
            }
            catch (TimeoutException)
            {
                Console.WriteLine("Some workers did not stop within 30 s.");
            }
        }

        report.Finish();
        return report.Passed ? 0 : 1;
    }

    private static async Task WaitForRecoveryAsync(ScenarioStats stats, IReadOnlyList<string> probes, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(RecoveryLimit.TotalSeconds * Stopwatch.Frequency);
        while (probes.Any(p => stats.FirstServed(p) is null) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20, cancellationToken);
        }

        stats.Recovered = probes.All(p => stats.FirstServed(p) is not null);
        if (stats.Recovered && probes.Count > 0)
        {
            stats.Recovery = Stopwatch.GetElapsedTime(stats.FaultEnd, probes.Max(p => stats.FirstServed(p)!.Value));
        }
    }

    private static async Task ReportAsync(ChaosSettings settings, ChaosReport report, CancellationToken cancellationToken)
    {
        var section = report.ToMarkdown();
        Console.WriteLine();
        Console.WriteLine(section);
        if (!settings.Write)
        {
            return;
        }

        var path = settings.Output ?? Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), "docs", "reliability.md");
        var document = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken) : string.Empty;
        await File.WriteAllTextAsync(path, ChaosReport.ReplaceSection(document, section), cancellationToken);
        Console.WriteLine($"Written to {Path.GetFullPath(path)} (section \"{ChaosReport.Heading[3..]}\")");
    }

    private static string? FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Aspire.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
