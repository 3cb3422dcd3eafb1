using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Coordination.Worker.Tests.Duties;

/// <summary>The duty scheduler of Coordination.Core as the worker runs it: two real worker hosts on one real redis-server.</summary>
public sealed class DutySchedulerTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoWorkers_OneDuty_RunsOnOneNodeAtATimeAndOncePerInterval()
    {
        var probe = new Probe(TimeSpan.FromMilliseconds(60));
        var prefix = TestKeys.NewPrefix();
        await using var first = NewWorker(prefix, "node-a", probe, interval: "00:00:00.200");
        await using var second = NewWorker(prefix, "node-b", probe, interval: "00:00:00.200");
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(first.StartAsync(), second.StartAsync());

        await ProcessUtil.WaitUntilAsync(() => probe.Starts.Count >= 25, TimeSpan.FromSeconds(30), "25 runs", Token);
        var elapsed = watch.Elapsed;

        // Never two runs at once, over both nodes.
        Assert.Equal(0, probe.Overlaps);
        Assert.Equal(1, probe.MaxConcurrent);

        // The schedule is shared: one run per interval over both nodes, not one per node. Starts are at least an
        // interval apart by Redis's clock; measured here when each run began on its host, so less a margin for scheduling ...
        var starts = probe.Starts.Select(s => s.At).Order().ToArray();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"[measure] duties: {probe.Starts.Count} runs on 2 workers in {elapsed.TotalMilliseconds:F0} ms (interval 200 ms, run 60 ms): overlaps {probe.Overlaps}, gap between starts min {gaps.Min().TotalMilliseconds:F0} ms, mean {gaps.Average(g => g.TotalMilliseconds):F0} ms, max {gaps.Max().TotalMilliseconds:F0} ms; by node {string.Join(", ", probe.Starts.GroupBy(s => s.Node).Select(g => $"{g.Key} {g.Count()}"))}");
        Assert.All(gaps, gap => Assert.True(gap >= TimeSpan.FromMilliseconds(140), $"Two runs started {gap.TotalMilliseconds:F0} ms apart."));
        // ... and the duty keeps its pace (the loop does not fall asleep either).
        Assert.True(gaps.Average(g => g.TotalMilliseconds) < 600, $"Runs started {gaps.Average(g => g.TotalMilliseconds):F0} ms apart on average.");
        Assert.True(probe.Starts.Count <= (elapsed.TotalMilliseconds / 200) + 2, $"{probe.Starts.Count} runs in {elapsed.TotalMilliseconds:F0} ms.");

        // The state hash has exactly the agreed JSON.
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var json = (string?)await db.HashGetAsync($"{prefix}:#duties:{{{prefix}:#duties}}:state", "probe");
        Assert.NotNull(json);
        using var state = JsonDocument.Parse(json);
        Assert.Equal(
            ["name", "node", "lastRunStartedAt", "lastRunEndedAt", "result", "error", "nextRunAt", "runs", "failures"],
            state.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("probe", state.RootElement.GetProperty("name").GetString());
        Assert.Contains(state.RootElement.GetProperty("node").GetString(), new[] { "node-a", "node-b" });
        Assert.Equal("ok", state.RootElement.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, state.RootElement.GetProperty("error").ValueKind);
        Assert.True(state.RootElement.GetProperty("runs").GetInt64() >= 24); // the 25th may still be running
        Assert.Equal(0, state.RootElement.GetProperty("failures").GetInt64());
        var startedAt = Iso(state.RootElement.GetProperty("lastRunStartedAt"));
        var endedAt = Iso(state.RootElement.GetProperty("lastRunEndedAt"));
        var nextRunAt = Iso(state.RootElement.GetProperty("nextRunAt"));
        Assert.InRange(endedAt - startedAt, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5));
        Assert.Equal(startedAt + TimeSpan.FromMilliseconds(200), nextRunAt);
        Assert.InRange(startedAt, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1));

        // The lock is a platform lock: a tenant's lock of that name is another key.
        Assert.False(await db.KeyExistsAsync($"{prefix}:default:lock:{{duty:probe}}"));
    }

    [Fact]
    public async Task FailingDuty_RecordedFailedCountedAndObserved_WorkerKeepsRunning()
    {
        var probe = new Probe(TimeSpan.Zero) { Fail = true };
        var observer = new RecordingObserver();
        var prefix = TestKeys.NewPrefix();
        await using var app = NewWorker(prefix, "node-f", probe, interval: "00:00:00.100", observer: observer);
        await app.StartAsync();
        using var runs = new MetricCollector<long>(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CoordinationDiagnostics.MeterName, "coordination.duty.runs");
        using var failures = new MetricCollector<long>(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CoordinationDiagnostics.MeterName, "coordination.duty.failures");
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var stateKey = $"{prefix}:#duties:{{{prefix}:#duties}}:state";

        await ProcessUtil.WaitUntilAsync(
            async () => await db.HashGetAsync(stateKey, "probe") is { HasValue: true } v && JsonDocument.Parse((string)v!).RootElement.GetProperty("failures").GetInt64() >= 3,
            TimeSpan.FromSeconds(15),
            "three recorded failures",
            Token);

        using var state = JsonDocument.Parse((string)(await db.HashGetAsync(stateKey, "probe"))!);
        Assert.Equal("failed", state.RootElement.GetProperty("result").GetString());
        // The exception's type only: its message (which names a tenant's key here) stays out of Redis.
        Assert.Equal("InvalidOperationException", state.RootElement.GetProperty("error").GetString());
        Assert.DoesNotContain("tenant-secret", state.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(state.RootElement.GetProperty("runs").GetInt64(), state.RootElement.GetProperty("failures").GetInt64());

        // Retried on its schedule, counted, logged, and the observer is told each time.
        await ProcessUtil.WaitUntilAsync(() => failures.GetMeasurementSnapshot().Count >= 2, TimeSpan.FromSeconds(10), "failures counted", Token);
        Assert.All(failures.GetMeasurementSnapshot(), m => Assert.Equal("probe", m.Tags["coordination.duty.name"]));
        Assert.Contains(runs.GetMeasurementSnapshot(), m => (string?)m.Tags["coordination.duty.result"] == "failed");
        Assert.NotEmpty(app.DutyEvents(1862));
        Assert.True(observer.Failed.Count >= 3);
        Assert.All(observer.Failed, r => Assert.Equal("InvalidOperationException", r.Error));
        Assert.Empty(observer.Succeeded);

        // The worker itself is fine.
        using var client = app.CreateClient();
        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        // Fixed: the next run on schedule succeeds and the state says so.
        probe.Fail = false;
        await ProcessUtil.WaitUntilAsync(
            async () => JsonDocument.Parse((string)(await db.HashGetAsync(stateKey, "probe"))!).RootElement.GetProperty("result").GetString() == "ok",
            TimeSpan.FromSeconds(10),
            "a successful run after the fix",
            Token);
        Assert.NotEmpty(observer.Succeeded);
    }

    [Fact]
    public async Task DutyThatCannotBeBuilt_IsLogged_TheOthersRun()
    {
        var probe = new Probe(TimeSpan.Zero);
        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Coordination:Worker:Duties:probe:Interval", "00:00:00.050"), new("Coordination:Worker:Duties:broken:Interval", "00:00:00.050")],
            services => new ServicesOnly(services)
                .WithDuty("broken", TimeSpan.FromMinutes(1), _ => throw new InvalidOperationException("no such dependency"))
                .WithDuty("probe", TimeSpan.FromMinutes(1), _ => probe));
        await app.StartAsync();

        var failed = await app.WaitForDutyEventAsync(1869, TimeSpan.FromSeconds(10), "the broken duty to be logged");
        Assert.Contains("broken", failed.Message, StringComparison.Ordinal);
        await ProcessUtil.WaitUntilAsync(() => probe.Starts.Count >= 3, TimeSpan.FromSeconds(10), "the other duty to keep running", Token);
        using var client = app.CreateClient();
        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task DisabledDuty_NeverRuns()
    {
        var probe = new Probe(TimeSpan.Zero);
        await using var app = NewWorker(TestKeys.NewPrefix(), "node-d", probe, interval: "00:00:00.050", enabled: false);
        await app.StartAsync();

        await app.WaitForDutyEventAsync(1861, TimeSpan.FromSeconds(10), "the duty to be reported disabled");
        await Task.Delay(300, Token); // A window in which an enabled duty would have run several times.
        Assert.Empty(probe.Starts);
    }

    [Theory]
    [InlineData("Coordination:Worker:Duties:probe:Interval", "00:00:00")]
    [InlineData("Coordination:Worker:Duties:probe:Timeout", "2.00:00:00")]
    [InlineData("Coordination:Worker:NodeName", "no spaces allowed")]
    public async Task InvalidOptions_FailTheStart(string key, string value)
    {
        // StartFailure retries the factory's own start race (an ObjectDisposedException that says nothing about the app).
        var failure = await StartFailure.CaptureAsync(async () =>
        {
            await using var app = NewWorker(TestKeys.NewPrefix(), "node-x", new Probe(TimeSpan.Zero), interval: "00:00:01", extra: [new(key, value)]);
            await app.StartAsync();
        });
        Assert.True(failure.ToString().Contains(key.Split(':')[^1] + " must", StringComparison.Ordinal), failure.ToString());
    }

    [Fact]
    public void WithDuty_InvalidName_Throws()
    {
        var builder = new ServicesOnly(new ServiceCollection());
        Assert.Throws<ArgumentException>(() => builder.WithDuty("Has Spaces", TimeSpan.FromSeconds(1), _ => new Probe(TimeSpan.Zero)));
        Assert.Throws<ArgumentException>(() => builder.WithDuty("#duties", TimeSpan.FromSeconds(1), _ => new Probe(TimeSpan.Zero)));
    }

    private static DateTimeOffset Iso(JsonElement element)
    {
        var text = element.GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", text);
        return DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private WorkerApp NewWorker(
        string prefix, string node, Probe probe, string interval, bool enabled = true, RecordingObserver? observer = null, KeyValuePair<string, string?>[]? extra = null) =>
        new(
            redis.Server.ConnectionString,
            [
                new("Coordination:KeyPrefix", prefix),
                new("Worker:InstanceName", node),
                new("Coordination:Worker:RetryInterval", "00:00:00.050"),
                new("Coordination:Worker:Duties:probe:Interval", interval),
                new("Coordination:Worker:Duties:probe:Enabled", enabled ? "true" : "false"),
                new("Coordination:Worker:Duties:probe:LockTimeToLive", "00:00:05"),
                .. extra ?? [],
            ],
            services =>
            {
                new ServicesOnly(services).WithDuty("probe", TimeSpan.FromMinutes(1), _ => new NodeProbe(probe, node));
                if (observer is not null)
                {
                    services.AddSingleton<IDutyObserver>(observer);
                }
            });

    /// <summary>A duty that notes when it runs and how many runs overlap, over every host it is registered in.</summary>
    private sealed class Probe(TimeSpan work) : IDuty
    {
        private int _running;
        private int _overlaps;
        private int _max;

        public ConcurrentQueue<(DateTime At, string Node)> Starts { get; } = new();

        public volatile bool Fail;



        public int Overlaps => Volatile.Read(ref _overlaps);

        public int MaxConcurrent => Volatile.Read(ref _max);

        public Task RunAsync(CancellationToken cancellationToken) => RunOnAsync("?", cancellationToken);

        public async Task RunOnAsync(string node, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _running);
            try
            {
                Starts.Enqueue((DateTime.UtcNow, node));
                if (now > 1)
                {
                    Interlocked.Increment(ref _overlaps);
                }

                int max;
                while (now > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, max) != max)
                {
                }

                if (Fail)
                {
                    throw new InvalidOperationException("The key tenant-secret:orders:42 broke it.");
                }

                if (work > TimeSpan.Zero)
                {
                    await Task.Delay(work, cancellationToken);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }

    /// <summary>The probe as one host's duty: notes which node ran.</summary>
    private sealed class NodeProbe(Probe probe, string node) : IDuty
    {
        public Task RunAsync(CancellationToken cancellationToken) => probe.RunOnAsync(node, cancellationToken);
    }

    private sealed class RecordingObserver : IDutyObserver
    {
        public ConcurrentQueue<DutyRun> Failed { get; } = new();

        public ConcurrentQueue<DutyRun> Succeeded { get; } = new();

        // Only the probe: the worker's own duties report here too.
        public void OnDutyFailed(DutyRun run)
        {
            if (run.Name == "probe")
            {
                Failed.Enqueue(run);
            }
        }

        public void OnDutySucceeded(DutyRun run)
        {
            if (run.Name == "probe")
            {
                Succeeded.Enqueue(run);
            }
        }
    }

    /// <summary>Registers a duty on a service collection without a host builder (WithDuty needs only the services).</summary>
    private sealed class ServicesOnly(IServiceCollection services) : ICoordinationBuilder
    {
        public IHostApplicationBuilder HostBuilder => throw new NotSupportedException();

        public IServiceCollection Services => services;

        public string ConnectionName => "redis";
    }
}
