using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.Api.Tests.Shutdown;

/// <summary>
/// The API as a real process (its own build output, <c>dotnet Coordination.Api.dll</c>) against real redis-server and
/// PostgreSQL, sent SIGTERM while 16 clients write and 4 requests wait on a lock: every request sent before the stop
/// gets an HTTP answer (none is cut off), the process exits 0 within a bound, and every write it acknowledged is in
/// Redis and in the PostgreSQL mirror (the mirror's queue was flushed on the way out).
/// </summary>
public sealed class SigtermTests
{
    private const string ApiKey = "member-key-sigterm-0123456789abcdef0123";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task Sigterm_UnderLoad_AnswersInFlightRequests_ExitsZero_KeepsEveryAcknowledgedWriteInRedisAndTheMirror()
    {
        var maxExit = TimeSpan.FromSeconds(20);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var postgres = await PostgresServer.StartAsync(Token);
        var prefix = "sigterm-" + Guid.NewGuid().ToString("N")[..10];
        var schema = "sig_" + Guid.NewGuid().ToString("N")[..10];
        using var api = await StartApiAsync(redis, postgres, prefix, schema);
        var address = api.Address;

        using var holder = Client(address);
        using var held = await holder.PostAsJsonAsync("/v1/locks/held", new { ttlMs = 60_000 }, Token);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);

        var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var refused = 0;
        var cutOff = new ConcurrentQueue<string>();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(Token);
        stopLoad.CancelAfter(TimeSpan.FromSeconds(60));

        async Task WriterAsync(int writer)
        {
            using var client = Client(address);
            for (var i = 0; !stopLoad.IsCancellationRequested; i++)
            {
                var key = $"w{writer}-{i % 50}";
                try
                {
                    using var response = await client.PutAsJsonAsync($"/v1/kv/{key}", new { value = i }, CancellationToken.None);
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        acknowledged[key] = i;
                    }
                }
                catch (HttpRequestException ex) when (NeverTaken(ex))
                {
                    // Sent after the server stopped listening: never in flight.
                    Interlocked.Increment(ref refused);
                    await Task.Delay(20, CancellationToken.None);
                }
                catch (HttpRequestException ex)
                {
                    cutOff.Enqueue($"PUT {key}: {ex.HttpRequestError}: {ex.Message} ({ex.InnerException?.GetType().Name}: {ex.InnerException?.Message})");
                }
            }
        }

        async Task<HttpStatusCode?> WaiterAsync()
        {
            using var client = Client(address);
            try
            {
                using var response = await client.PostAsJsonAsync("/v1/locks/held", new { ttlMs = 1_000, waitMs = 3_000 }, CancellationToken.None);
                return response.StatusCode;
            }
            catch (HttpRequestException ex)
            {
                cutOff.Enqueue($"lock wait: {ex.HttpRequestError}: {ex.Message} ({ex.InnerException?.GetType().Name}: {ex.InnerException?.Message})");
                return null;
            }
        }

        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(() => WriterAsync(w), CancellationToken.None)).ToArray();
        await ProcessUtil.WaitUntilAsync(() => acknowledged.Count >= 200, TimeSpan.FromSeconds(30), "200 acknowledged writes", Token);
        var waiters = Enumerable.Range(0, 4).Select(_ => WaiterAsync()).ToArray();
        await Task.Delay(500, Token);

        var stopping = Stopwatch.StartNew();
        await ProcessUtil.SignalAsync(api.Process.Id, "TERM");
        await api.Process.WaitForExitAsync(Token).WaitAsync(maxExit, Token);
        var exitedAfter = stopping.Elapsed;
        await stopLoad.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(20), Token);
        var waited = await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(20), Token);

        Output.WriteLine($"[measure] SIGTERM: exited {exitedAfter.TotalMilliseconds:F0} ms after the signal with {api.Process.ExitCode}; {acknowledged.Count} keys acknowledged, {refused} requests refused after the stop, waiters answered {string.Join(", ", waited)}");
        Assert.Equal(0, api.Process.ExitCode);
        Assert.True(cutOff.IsEmpty, "requests cut off without an answer: " + string.Join("; ", cutOff.Take(5)));
        Assert.All(waited, status => Assert.True(status is HttpStatusCode.Conflict or HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"waiter answered {status}"));

        var db = (await redis.GetAdminAsync()).GetDatabase();
        var mirror = await FallbackTable.ReadAsync(postgres, schema, prefix, Token);
        var missing = new List<string>();
        foreach (var (key, value) in acknowledged)
        {
            var fullKey = $"{prefix}:tenant-a:kv:{key}";
            var stored = await db.StringGetAsync(fullKey);
            if (stored.IsNull || JsonSerializer.Deserialize<int>((string)stored!) < value)
            {
                missing.Add($"Redis {key}: expected at least {value}, found {(stored.IsNull ? "nothing" : (string)stored!)}");
            }

            if (!mirror.TryGetValue(fullKey, out var row) || row.Value is null || JsonSerializer.Deserialize<int>(row.Value) < value)
            {
                missing.Add($"mirror {key}: expected at least {value}");
            }
        }

        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged writes lost: " + string.Join("; ", missing.Take(10)));
        Assert.InRange(exitedAfter, TimeSpan.Zero, maxExit);
    }

    // Refused at connect, or reset while its connection still waited in the listen backlog when the server closed its
    // listener (the request was never accepted, so never in flight). A request the server took and then dropped would
    // end its response early instead (HttpRequestError.ResponseEnded) or fail after the connection was accepted.
    private static bool NeverTaken(HttpRequestException ex) =>
        ex.HttpRequestError == HttpRequestError.ConnectionError
        || (ex.InnerException is IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown } }
            && ex.HttpRequestError != HttpRequestError.ResponseEnded);

    private static HttpClient Client(Uri address)
    {
        // A connection per request: a request is then either refused (never sent) or answered, with no idle
        // keep-alive connection for the shutdown to close under a request about to be sent.
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        client.DefaultRequestHeaders.ConnectionClose = true;
        return client;
    }

    private static async Task<ApiProcess> StartApiAsync(RedisServer redis, PostgresServer postgres, string prefix, string schema)
    {
        // The API's own build output (its appsettings.json beside it), run as production runs it.
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Aspire.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("Aspire.sln not found above the test's folder.");
        }

        var output = Path.Combine(root, "Coordination.Api", "bin", "Release", "net10.0");
        var port = ProcessUtil.GetFreePort();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = output, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(output, "Coordination.Api.dll"));
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["ConnectionStrings__coordinationdb"] = postgres.ConnectionString,
            ["Coordination__KeyPrefix"] = prefix,
            ["Coordination__Fallback__Schema"] = schema,
            ["Coordination__ApiKeys__0__Key"] = ApiKey,
            ["Coordination__ApiKeys__0__Tenant"] = "tenant-a",
            ["Coordination__ApiKeys__0__Role"] = "member",
            ["Coordination__RateLimiting__Policies__api-requests__Limit"] = "1000000",
            ["Coordination__RateLimiting__Policies__api-requests__Burst"] = "1000000",
            ["Logging__LogLevel__Default"] = "Warning",
        })
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The API did not start.");
        ChildProcesses.Track(process);
        var log = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var api = new ApiProcess(process, new Uri($"http://127.0.0.1:{port}"), log);
        using var probe = new HttpClient { BaseAddress = api.Address, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            await ProcessUtil.WaitUntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"The API exited with {process.ExitCode}: {string.Join('\n', log.TakeLast(20))}");
                    }

                    try
                    {
                        using var health = await probe.GetAsync("/health", Token);
                        return health.IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                    catch (TaskCanceledException) when (!Token.IsCancellationRequested)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(60),
                "the API process to answer /health",
                Token,
                TimeSpan.FromMilliseconds(200));
        }
        catch
        {
            api.Dispose();
            throw;
        }

        return api;
    }

    private sealed class ApiProcess(Process process, Uri address, ConcurrentQueue<string> log) : IDisposable
    {
        public Process Process { get; } = process;

        public Uri Address { get; } = address;

        public IEnumerable<string> Log => log;

        public void Dispose()
        {
            ProcessUtil.TryKill(Process);
            ChildProcesses.Untrack(Process);
            Process.Dispose();
        }
    }
}
