using System.Diagnostics;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Nodes;

/// <summary>
/// Node reports against a real redis-server: every reporter is seen by every reader, one that stops is shown stale and
/// then dropped, the bound on nodes holds against many writers, and no tenant can name the keys.
/// </summary>
public sealed class NodeReporterTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task ReadAsync_TwoReporters_EachSeesBothWithItselfLive()
    {
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(prefix, "reporter-a", "api");
        await using var b = await StartAsync(prefix, "reporter-b", "worker");

        var fromA = await WaitForAsync(a, s => s.Nodes.Count == 2 && s.Nodes.All(n => n.ReportedAt is not null && !n.Stale), "A sees A and B reporting");
        var fromB = await WaitForAsync(b, s => s.Nodes.Count == 2 && s.Nodes.All(n => n.ReportedAt is not null && !n.Stale), "B sees A and B reporting");

        Assert.True(fromA.Complete);
        Assert.Equal(Reports(a).NodeName, fromA.Nodes[0].Name);
        Assert.True(fromA.Nodes[0].Self);
        Assert.False(fromA.Nodes[1].Self);
        Assert.StartsWith("reporter-a@", fromA.Nodes[0].Name, StringComparison.Ordinal);
        Assert.EndsWith(":" + Environment.ProcessId, fromA.Nodes[0].Name, StringComparison.Ordinal);
        Assert.Equal(["api", "worker"], fromA.Nodes.Select(n => n.Role));
        Assert.Equal(["worker", "api"], fromB.Nodes.Select(n => n.Role));
        var other = fromA.Nodes[1];
        Assert.StartsWith("reporter-b@", other.Name, StringComparison.Ordinal);
        Assert.True(other.Redis.Connected);
        Assert.True(other.Redis.LatencyMs >= 0);
        Assert.True(other.Redis.PoolSize >= 1);
        Assert.NotEmpty(other.Redis.Connections);
        Assert.Equal("closed", other.Circuit.State);
        Assert.False(other.Fallback.Configured);
        Assert.Equal(200, other.IntervalMs);
        Assert.False(string.IsNullOrEmpty(other.Version));
        Assert.InRange(other.StartedAt, DateTimeOffset.UtcNow.AddHours(-12), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Empty(fromA.Duties);
    }

    [Fact]
    public async Task ReadAsync_ANodeStopsReportingWithoutStopping_ShownStaleAfterItsIntervalsThenDropped()
    {
        var prefix = TestKeys.NewPrefix();
        // Interval 200 ms, stale after 3 intervals (600 ms), kept 3 s. The crashed node is one report written once
        // and never again, as a process killed with -9 leaves it.
        await using var a = await StartAsync(prefix, "survivor", "api", ("Expiry", "00:00:03"));
        var store = a.Services.GetRequiredService<NodeReportStore>();
        var last = JsonSerializer.Serialize(new NodeReport { Role = "api", Version = "crashed", IntervalMs = 200 }, NodeReportJson.Options);
        await store.WriteAsync("crashed@host:1", last, Token);
        var stopped = Stopwatch.StartNew();
        await WaitForAsync(a, s => s.Nodes.Any(n => n.Name == "crashed@host:1" && !n.Stale), "A sees the node reporting");

        var stale = await WaitForAsync(a, s => s.Nodes.Any(n => n.Name == "crashed@host:1" && n.Stale), "A shows the node stale");
        var staleAfter = stopped.Elapsed;
        var shown = stale.Nodes.Single(n => n.Name == "crashed@host:1");
        Assert.False(stale.Nodes[0].Stale);
        Assert.True(stale.Nodes[0].Self);
        Output.WriteLine($"The silent node shown stale {staleAfter.TotalMilliseconds:0} ms after its last report (threshold: 600 ms)");
        // Stale only once its last report is more than three intervals old (by Redis's clock), and soon after.
        Assert.True(stale.ReadAt - shown.ReportedAt!.Value > TimeSpan.FromMilliseconds(600), $"stale at {stale.ReadAt:O}, last report {shown.ReportedAt:O}");
        Assert.InRange(staleAfter, TimeSpan.Zero, TimeSpan.FromSeconds(3));

        await WaitForAsync(a, s => s.Nodes.Count == 1, "the silent node's report expired and dropped", TimeSpan.FromSeconds(10));
        Assert.True(stopped.Elapsed >= TimeSpan.FromSeconds(2), $"dropped after {stopped.Elapsed}, before its expiry");
    }

    [Fact]
    public async Task StopAsync_ANodeStoppedOnPurpose_WithdrawsItsReport_NeverShownStale()
    {
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(prefix, "survivor", "api", ("Expiry", "00:00:30"));
        var b = await StartAsync(prefix, "stopping", "api", ("Expiry", "00:00:30"));
        await using (b)
        {
            await WaitForAsync(a, s => s.Nodes.Any(n => n.Name.StartsWith("stopping@", StringComparison.Ordinal) && !n.Stale), "A sees B reporting");
            await b.StopAsync();
        }

        // Gone at A's next read, well before it could turn stale (600 ms) or expire (30 s).
        var after = await Reports(a).ReadAsync(Token);
        Assert.True(after.Complete);
        Assert.DoesNotContain(after.Nodes, n => n.Name.StartsWith("stopping@", StringComparison.Ordinal));
        Assert.Single(after.Nodes);
    }

    [Fact]
    public async Task Report_ManyFakeNodesWritingConcurrently_TheBoundHoldsAndTheRealNodeStays()
    {
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(prefix, "bounded", "api", ("MaxNodes", "8"));
        await WaitForAsync(a, s => s.Nodes[0].ReportedAt is not null, "A's first report");
        var store = a.Services.GetRequiredService<NodeReportStore>();
        var fake = JsonSerializer.Serialize(new NodeReport { Role = "api", Version = "fake", IntervalMs = 200 }, NodeReportJson.Options);

        // 200 fake nodes from 16 writers at once, while A keeps reporting.
        var maxSeen = 0L;
        await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (i, ct) =>
        {
            var (_, nodes, _) = await store.WriteAsync($"fake-{i}@host:{i}", fake, ct);
            InterlockedMax(ref maxSeen, nodes);
        });

        var db = (await redis.GetAdminAsync()).GetDatabase();
        var keys = store.Keys;
        Assert.InRange(await db.HashLengthAsync(keys.Reports), 1, 8);
        Assert.InRange(await db.SortedSetLengthAsync(keys.Seen), 1, 8);
        Assert.InRange(maxSeen, 1, 8);
        var snapshot = await WaitForAsync(a, s => s.Nodes.Any(n => n.Name == Reports(a).NodeName && n.Self), "A still listed");
        Assert.InRange(snapshot.Nodes.Count, 2, 8);

        // A's own next report keeps A: it drops the oldest fakes, never itself.
        await a.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<NodeReporter>().Single().ReportOnceAsync(Token);
        Assert.True(await db.HashExistsAsync(keys.Reports, Reports(a).NodeName), "A kept its own report");
        Assert.True(await db.KeyTimeToLiveAsync(keys.Reports) is { } ttl && ttl <= TimeSpan.FromMinutes(1), "the reports expire");
        Assert.Equal(await db.HashLengthAsync(keys.Reports), await db.SortedSetLengthAsync(keys.Seen));
    }

    [Fact]
    public async Task Keys_NoTenantCanNameTheNodeNamespace()
    {
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(prefix, "guarded", "api");
        await WaitForAsync(a, s => s.Nodes[0].ReportedAt is not null, "A's first report");
        var keys = a.Services.GetRequiredService<NodeReportStore>().Keys;
        Assert.Equal($"{prefix}:#nodes:{{{prefix}:#nodes}}:reports", (string?)keys.Reports);
        Assert.Equal($"{prefix}:#duties:{{{prefix}:#duties}}:state", (string?)keys.Duties);

        // A tenant cannot be named '#nodes' or '#duties' (or anything with '#' or ':').
        foreach (var tenant in new[] { "#nodes", "#duties", "#nodes:{" + prefix + ":#nodes}", "x:#nodes" })
        {
            Assert.Throws<ArgumentException>(() => a.Factory.ForTenant(tenant));
        }

        // Whatever key names tenants use, they land under their own tenant, never on the node keys.
        var hostile = new[] { (string)keys.Reports!, ":#nodes:{" + prefix + ":#nodes}:reports", "../#nodes", (string)keys.Seen!, (string)keys.Duties! };
        foreach (var name in hostile)
        {
            await a.Coordinator.SetAsync(name, "overwrite", cancellationToken: Token);
            await a.Factory.ForTenant("other").Cache.SetAsync(name, "overwrite", cancellationToken: Token);
            await using var held = await a.Coordinator.Locks.TryAcquireAsync(name, cancellationToken: Token);
            Assert.NotNull(held);
        }

        var db = (await redis.GetAdminAsync()).GetDatabase();
        Assert.Equal(RedisType.Hash, await db.KeyTypeAsync(keys.Reports));
        Assert.Equal(RedisType.SortedSet, await db.KeyTypeAsync(keys.Seen));
        Assert.Equal(RedisType.None, await db.KeyTypeAsync(keys.Duties));
        Assert.Equal([Reports(a).NodeName], (await db.HashKeysAsync(keys.Reports)).Select(k => (string)k!));
        Assert.Equal([Reports(a).NodeName], (await db.SortedSetRangeByRankAsync(keys.Seen)).Select(k => (string)k!));
        var snapshot = await Reports(a).ReadAsync(Token);
        Assert.Single(snapshot.Nodes);
    }

    [Fact]
    public async Task Report_LocksCacheAndSections_ReachTheOtherNodes()
    {
        var prefix = TestKeys.NewPrefix();
        KeyValuePair<string, string?>[] policy =
        [
            new("Coordination:RateLimiting:Policies:one:Algorithm", "FixedWindow"),
            new("Coordination:RateLimiting:Policies:one:Limit", "1"),
            new("Coordination:RateLimiting:Policies:one:Period", "00:01:00"),
        ];
        await using var a = await StartAsync(prefix, "busy", "api", services: s => s.AddSingleton<INodeReportSection>(new FixedSection()), extra: policy);
        await using var b = await StartAsync(prefix, "watcher", "api");

        // One admitted, two rejected; one session counted by a cleanup (the Worker's duty, here by hand).
        var limiter = a.Services.GetRequiredService<IRateLimitService>();
        Assert.True((await limiter.AcquireAsync("one", "client", cancellationToken: Token)).Allowed);
        Assert.False((await limiter.AcquireAsync("one", "client", cancellationToken: Token)).Allowed);
        Assert.False((await limiter.AcquireAsync("one", "client", cancellationToken: Token)).Allowed);
        await a.Services.GetRequiredService<ISessionManager>().CreateAsync("user-1", cancellationToken: Token);
        Assert.NotNull(await a.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token));

        await using var held = await a.Coordinator.Locks.AcquireAsync("report-lock", cancellationToken: Token);
        await a.Coordinator.Cache.SetAsync("report-cache", 42, cancellationToken: Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await a.Coordinator.Cache.GetAsync<int>("report-cache", Token)).HasValue);
        }

        Assert.False((await a.Coordinator.Cache.GetAsync<int>("report-absent", Token)).HasValue);

        var seen = await WaitForAsync(
            b,
            s => s.Nodes.FirstOrDefault(n => n.Name == Reports(a).NodeName) is { Locks.Held: >= 1, Cache.Memory.Hits: >= 3, ActiveSessions: not null },
            "B sees A's lock, cache hits and session count");
        var report = seen.Nodes.Single(n => n.Name == Reports(a).NodeName);
        Assert.True(report.Locks.OldestHeldMs >= 0);
        Assert.InRange(report.Cache.Memory.HitRatio!.Value, 0.01, 1);
        Assert.True(report.Cache.Redis.Misses >= 1, "the absent key missed in Redis too");
        Assert.Equal(1, report.RateLimits.Allowed);
        Assert.Equal(2, report.RateLimits.Rejected);
        Assert.Equal(1, report.ActiveSessions);
        var section = Assert.Contains("fixed", report.Sections);
        Assert.Equal(7, section.GetProperty("answer").GetInt32());

        var live = await Reports(a).ReadAsync(Token);
        Assert.True(live.Nodes[0].Locks.Held >= 1);
    }

    [Fact]
    public async Task ReadAsync_DutiesRecordedByTheWorker_AreShownAsRecorded()
    {
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(prefix, "duties", "api");
        Assert.Empty((await Reports(a).ReadAsync(Token)).Duties);

        var db = (await redis.GetAdminAsync()).GetDatabase();
        var key = a.Services.GetRequiredService<NodeReportStore>().Keys.Duties;
        await db.HashSetAsync(key, [
            new("session-cleanup", """{"name":"session-cleanup","node":"worker@h:1","lastRunStartedAt":"2026-12-07T10:00:00Z","lastRunEndedAt":"2026-12-07T10:00:01.5Z","result":"ok","error":null,"nextRunAt":"2026-12-07T10:05:00Z","runs":12,"failures":1}"""),
            new("alerts", """{"name":"alerts","node":"worker@h:1","lastRunStartedAt":"2026-12-07T10:00:00Z","lastRunEndedAt":"2026-12-07T10:00:00.2Z","result":"failed","error":"webhook answered 500","nextRunAt":"2026-12-07T10:00:10Z","runs":3,"failures":3}"""),
            new("broken", "not json"),
        ]);

        var duties = (await Reports(a).ReadAsync(Token)).Duties;
        Assert.Equal(["alerts", "session-cleanup"], duties.Select(d => d.Name));
        var cleanup = duties[1];
        Assert.Equal("worker@h:1", cleanup.Node);
        Assert.Equal("ok", cleanup.Result);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 1, 500, TimeSpan.Zero), cleanup.LastRunEndedAt);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 5, 0, TimeSpan.Zero), cleanup.NextRunAt);
        Assert.Equal(12, cleanup.Runs);
        Assert.Equal(1, cleanup.Failures);
        Assert.Equal("failed", duties[0].Result);
        Assert.Equal("webhook answered 500", duties[0].Error);
    }

    [Fact]
    public async Task Report_RedisPausedAndResumed_CircuitTransitionsAndStalenessShown()
    {
        await using var server = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        string[] resilience =
        [
            "Coordination:Resilience:AttemptTimeout=00:00:00.200", "Coordination:Resilience:MinimumThroughput=2",
            "Coordination:Resilience:SamplingDuration=00:00:02", "Coordination:Resilience:BreakDuration=00:00:00.500",
            "Coordination:Health:ProbeTimeout=00:00:00.200",
        ];
        var settings = resilience.Select(s => s.Split('=')).Select(p => new KeyValuePair<string, string?>(p[0], p[1])).ToArray();
        await using var a = await StartAsync(prefix, "paused-a", "api", server: server, extra: settings);
        await using var b = await StartAsync(prefix, "paused-b", "api", server: server, extra: settings);
        await WaitForAsync(a, s => s.Nodes.Count == 2 && s.Nodes.All(n => !n.Stale), "both reporting");

        await server.PauseAsync();
        try
        {
            // A's own calls fail while Redis hangs: its circuit opens; it still answers, live for itself.
            var paused = await WaitForAsync(
                a,
                s => !s.Complete && s.Nodes[0].Circuit.State is "open" or "half-open" && s.Nodes.Skip(1).All(n => n.Stale),
                "A shows its circuit open and B stale while Redis is paused",
                TimeSpan.FromSeconds(15),
                () => LoadAsync(a));
            Assert.False(paused.Nodes[0].Redis.Connected);
            Assert.Contains(paused.Nodes[0].Circuit.Transitions, t => t.State == "open");
        }
        finally
        {
            await server.ResumeAsync();
        }

        var recovered = await WaitForAsync(
            b,
            s => s.Complete && s.Nodes.Count == 2 && s.Nodes.All(n => !n.Stale && n.Circuit.State == "closed") && s.Nodes.Any(n => n.Name == Reports(a).NodeName && n.Circuit.Transitions.Any(t => t.State == "open")),
            "B sees A recovered, its circuit closed after having opened",
            TimeSpan.FromSeconds(15),
            () => LoadAsync(a));
        var transitions = recovered.Nodes.Single(n => n.Name == Reports(a).NodeName).Circuit.Transitions;
        Output.WriteLine(string.Join(", ", transitions.Select(t => $"{t.State} {t.At:HH:mm:ss.fff}")));
        Assert.Equal("closed", transitions[^1].State);
        Assert.True(transitions.Count <= 10);
    }

    [Theory]
    [InlineData("Interval", "00:00:00.010", "Interval")]
    [InlineData("MaxNodes", "0", "MaxNodes")]
    [InlineData("Expiry", "00:00:00.500", "Expiry")]
    [InlineData("ServiceName", "bad name!", "ServiceName")]
    public async Task Start_InvalidOptions_FailsNamingTheSetting(string option, string value, string named)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = TestKeys.NewPrefix(),
            ["Coordination:Nodes:" + option] = value,
        };
        var host = CoordinationTestHost.Build(configuration, services: s => NodeReportRegistration.Add(s, "api", null));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("API")]
    [InlineData("a b")]
    [InlineData("role-that-is-longer-than-thirty-two")]
    public void Register_InvalidRole_Throws(string role) =>
        Assert.Throws<ArgumentException>(() => NodeReportRegistration.Add(new ServiceCollection(), role, null));

    private static INodeReports Reports(CoordinationTestHost host) => host.Services.GetRequiredService<INodeReports>();

    private Task<CoordinationTestHost> StartAsync(
        string prefix,
        string service,
        string role,
        (string Option, string Value)? option = null,
        Action<IServiceCollection>? services = null,
        IRedisTarget? server = null,
        IEnumerable<KeyValuePair<string, string?>>? extra = null)
    {
        var settings = new List<KeyValuePair<string, string?>>
        {
            new("Coordination:Nodes:Interval", "00:00:00.200"),
            new("Coordination:Nodes:ServiceName", service),
        };
        if (option is { } o)
        {
            settings.Add(new("Coordination:Nodes:" + o.Option, o.Value));
        }

        settings.AddRange(extra ?? []);
        return CoordinationTestHost.StartAsync(
            (server ?? redis).ConnectionString,
            prefix,
            settings,
            hostName: service,
            services: s =>
            {
                NodeReportRegistration.Add(s, role, null);
                services?.Invoke(s);
            });
    }

    private static async Task<NodeReportsSnapshot> WaitForAsync(
        CoordinationTestHost host, Func<NodeReportsSnapshot, bool> condition, string what, TimeSpan? timeout = null, Func<Task>? between = null)
    {
        NodeReportsSnapshot? last = null;
        var reports = Reports(host);
        try
        {
            await ProcessUtil.WaitUntilAsync(
                async () =>
                {
                    if (between is not null)
                    {
                        await between();
                    }

                    last = await reports.ReadAsync(Token);
                    return condition(last);
                },
                timeout ?? TimeSpan.FromSeconds(10),
                what,
                Token,
                TimeSpan.FromMilliseconds(50));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message} Last read: {(last is null ? "none" : JsonSerializer.Serialize(last, NodeReportJson.Options))}");
        }

        return last!;
    }

    // Calls that make the node use Redis (and so its circuit notice the outage); their failures are the point.
    private static async Task LoadAsync(CoordinationTestHost host)
    {
        try
        {
            await host.Coordinator.SetAsync("k", 1, cancellationToken: Token);
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or TimeoutException or RedisException)
        {
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class FixedSection : INodeReportSection
    {
        public string Name => "fixed";

        public ValueTask<object?> CollectAsync(CancellationToken cancellationToken) => ValueTask.FromResult<object?>(new { Answer = 7 });
    }
}
