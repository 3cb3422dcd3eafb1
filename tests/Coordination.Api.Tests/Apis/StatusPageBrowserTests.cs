using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// <c>/status</c> in a real browser (Debian's chromium driven by Playwright), served by the API against its own
/// redis-server and PostgreSQL (the fallback), with a second replica beside it: the page renders every node live;
/// after Redis is paused (SIGSTOP) it shows this node's circuit open, the fallback engaged and the other replica stale
/// within a few seconds; after SIGCONT, recovery.
/// </summary>
public sealed class StatusPageBrowserTests : IAsyncLifetime
{
    /// <summary>Where Debian's <c>chromium</c> package puts the browser (the /usr/bin wrapper prints a shell warning).</summary>
    public const string ChromiumPath = "/usr/lib/chromium/chromium";

    private static readonly TimeSpan FewSeconds = TimeSpan.FromSeconds(10);
    private RedisServer? _redis;
    private PostgresServer? _postgres;
    private ApiFactory? _api;
    private ApiFactory? _replica;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(Cancellation);
        _postgres = await PostgresServer.StartAsync(Cancellation);
        var prefix = "status-page-" + Guid.NewGuid().ToString("N")[..12];
        var schema = "status_page_" + Guid.NewGuid().ToString("N")[..12];
        _api = await StatusTestApis.StartAsync(_redis.ConnectionString, Settings(prefix, schema, _postgres.ConnectionString, "api-replica-1"));
        _replica = await StatusTestApis.StartAsync(_redis.ConnectionString, Settings(prefix, schema, _postgres.ConnectionString, "api-replica-2"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            // A failed test may leave it paused: the APIs' shutdown must not wait on it.
            await _redis.ResumeAsync();
        }

        foreach (var api in new[] { _replica, _api })
        {
            if (api is null)
            {
                continue;
            }

            // Bounded: a stop of the API after an outage with the fallback was seen to hang now and then, in the
            // fallback's loss-check loop (KeyValueRepair.StopAsync awaiting CheckEveryIntervalAsync, parked in
            // SemaphoreSlim.WaitAsync though its token was cancelled). Reported; it must not hang this test's run.
            try
            {
                await api.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                TestContext.Current.TestOutputHelper?.WriteLine("An API replica did not stop within 30 s (KeyValueRepair.StopAsync); left behind.");
            }
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task StatusPage_RedisPausedAndResumed_ShowsCircuitOpenFallbackEngagedThenRecovery()
    {
        Assert.True(
            File.Exists(ChromiumPath),
            $"This test drives Debian's chromium at {ChromiumPath}, which is not installed. Install it with: apt-get install -y chromium (as root; eng/test.sh does it in its set-up).");

        using var admin = _api!.CreateApiClient(ApiFactory.AdminKey);
        await WaitUntilAsync(async () => await FallbackReadyAsync(admin), "the PostgreSQL fallback ready", TimeSpan.FromSeconds(30));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            // The page reloads itself (meta refresh); every reload carries the admin key.
            ExtraHTTPHeaders = new Dictionary<string, string> { ["X-Api-Key"] = ApiFactory.AdminKey },
            ViewportSize = new ViewportSize { Width = 1800, Height = 900 },
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Address(_api), "/status").ToString());

        // Live state of both replicas, this one first.
        var self = page.Locator("#nodes tr[data-self='true']");
        var other = page.Locator("#nodes tr[data-self='false']");
        var wait = new LocatorAssertionsToHaveTextOptions { Timeout = (float)FewSeconds.TotalMilliseconds };
        await Expect(page.Locator(".badge")).ToHaveTextAsync("Healthy", wait);
        await Expect(self.Locator("td[data-field='name']")).ToHaveTextAsync(new Regex("^api-replica-1@"), wait);
        await Expect(self.Locator("td[data-field='circuit']")).ToHaveTextAsync("closed", wait);
        await Expect(self.Locator("td[data-field='redis']")).ToHaveTextAsync(new Regex("^connected, "), wait);
        await Expect(self.Locator("td[data-field='fallback']")).ToHaveTextAsync(new Regex("^ready"), wait);
        await Expect(other.Locator("td[data-field='name']")).ToHaveTextAsync(new Regex("^api-replica-2@"), wait);
        await Expect(other.Locator("td[data-field='state']")).ToHaveTextAsync("reporting", wait);

        // Callers keep using the API while Redis hangs: their calls open the circuit and engage the fallback.
        using var traffic = new CancellationTokenSource();
        using var member = _api.CreateApiClient(ApiFactory.MemberKey);
        var load = SendTrafficAsync(member, traffic.Token);
        try
        {
            await _redis!.PauseAsync();
            var paused = Stopwatch.StartNew();
            try
            {
                await Expect(self.Locator("td[data-field='circuit']")).ToHaveTextAsync(new Regex("^(open|half-open)$"), wait);
                await Expect(self.Locator("td[data-field='fallback']")).ToHaveTextAsync(new Regex("^engaged \\(serving\\)"), wait);
                var shownAfter = paused.Elapsed;
                await Expect(self.Locator("td[data-field='redis']")).ToHaveTextAsync("not connected", wait);
                await Expect(page.Locator(".badge")).ToHaveTextAsync("Degraded: served by the fallback", wait);
                await Expect(other.Locator("td[data-field='state']")).ToHaveTextAsync("stale: stopped reporting", wait);
                await Expect(self.Locator("td[data-field='transitions']")).ToContainTextAsync("open", new LocatorAssertionsToContainTextOptions { Timeout = wait.Timeout });
                await Expect(page.Locator("[data-field='nodes-incomplete']")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = wait.Timeout });
                TestContext.Current.TestOutputHelper!.WriteLine($"Circuit open and fallback engaged on the page {shownAfter.TotalMilliseconds:0} ms after Redis was paused (page refresh 1 s).");
                Assert.True(shownAfter < FewSeconds, $"shown after {shownAfter}");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "status-page.png"), FullPage = true });
            }
            finally
            {
                await _redis.ResumeAsync();
            }

            var resumed = Stopwatch.StartNew();
            var recovery = new LocatorAssertionsToHaveTextOptions { Timeout = 30_000 };
            await Expect(self.Locator("td[data-field='circuit']")).ToHaveTextAsync("closed", recovery);
            await Expect(self.Locator("td[data-field='redis']")).ToHaveTextAsync(new Regex("^connected, "), recovery);
            await Expect(other.Locator("td[data-field='state']")).ToHaveTextAsync("reporting", recovery);
            await Expect(self.Locator("td[data-field='transitions']")).ToContainTextAsync(new Regex("open .*closed"), new LocatorAssertionsToContainTextOptions { Timeout = recovery.Timeout });
            traffic.Cancel();
            await load;
            await Expect(self.Locator("td[data-field='fallback']")).ToHaveTextAsync(new Regex("^ready"), recovery);
            await Expect(page.Locator(".badge")).ToHaveTextAsync("Healthy", recovery);
            TestContext.Current.TestOutputHelper!.WriteLine($"Recovered on the page {resumed.Elapsed.TotalMilliseconds:0} ms after Redis was resumed.");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "status-page-recovered.png"), FullPage = true });
        }
        finally
        {
            await traffic.CancelAsync();
            await load;
        }
    }

    private static Dictionary<string, string?> Settings(string prefix, string schema, string postgres, string service) => new()
    {
        ["Coordination:KeyPrefix"] = prefix,
        ["ConnectionStrings:coordinationdb"] = postgres,
        ["Coordination:Fallback:Schema"] = schema,
        ["Coordination:Nodes:ServiceName"] = service,
        ["Coordination:Nodes:Interval"] = "00:00:00.500",
        ["Coordination:Status:CacheDuration"] = "00:00:00.250",
        ["Coordination:Status:PageRefresh"] = "00:00:01",
        ["Coordination:Resilience:AttemptTimeout"] = "00:00:00.300",
        ["Coordination:Resilience:MinimumThroughput"] = "2",
        ["Coordination:Resilience:SamplingDuration"] = "00:00:02",
        ["Coordination:Resilience:BreakDuration"] = "00:00:02",
        ["Coordination:Health:ProbeTimeout"] = "00:00:00.300",
    };

    private static Uri Address(ApiFactory api) =>
        new(api.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    private static async Task<bool> FallbackReadyAsync(HttpClient admin)
    {
        var status = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/status", Cancellation);
        return status.GetProperty("fallback").GetProperty("ready").GetBoolean();
    }

    private static async Task SendTrafficAsync(HttpClient client, CancellationToken stop)
    {
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var body = JsonContent.Create(new { value = i });
                using var response = await client.PutAsync(new Uri($"/v1/kv/browser-{i++ % 16}", UriKind.Relative), body, stop);
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                // Any answer is fine: the load is there to make the node call Redis.
            }
        }
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout) =>
        ProcessUtil.WaitUntilAsync(condition, timeout, what, Cancellation, TimeSpan.FromMilliseconds(100));
}
