using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// Tenant B: a well-behaved client sending a fixed-rate mix, open loop. Its schedule does not wait for answers (a
/// slow answer does not delay the next send), and each operation's latency is measured from the moment the schedule
/// meant to start it. The mix cycles through key/value GET and PUT, cache GET and PUT, and a lock acquisition
/// followed by its release (one operation, two requests), over its own 256 keys and lock names. Anything but the
/// expected status, or an exception, is an error.
/// </summary>
internal sealed class VictimTenant(Uri baseAddress, int rate)
{
    private const int KeyCount = 256;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The mix's operations, in the order it sends them.</summary>
    public static IReadOnlyList<string> Operations { get; } = ["kv GET", "kv PUT", "cache GET", "cache PUT", "lock"];

    private readonly HttpClient _client = CreateClient(baseAddress);
    private long _sequence;

    public static string Mix => "key/value GET (200) and PUT (204), cache GET (200) and PUT (204), lock acquire with waitMs 0 (200) + release (204), in turn";

    /// <summary>Writes the keys and cache entries the mix reads, so a read that misses is an error.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < KeyCount; i++)
        {
            await ExpectAsync(await _client.PutAsJsonAsync(KvPath(i), new { value = Value(i), ttlMs = 3_600_000 }, cancellationToken), HttpStatusCode.NoContent);
            await ExpectAsync(await _client.PutAsJsonAsync(CachePath(i), new { value = Value(i), ttlMs = 3_600_000 }, cancellationToken), HttpStatusCode.NoContent);
        }
    }

    /// <summary>Runs the schedule for <paramref name="duration"/> and returns once every operation it started has ended.</summary>
    public async Task<VictimResult> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var result = new VictimResult(duration);
        var operations = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var count = (int)(duration.TotalSeconds * rate);

        // The schedule runs on its own thread so a busy thread pool delays the requests, not the clock that times them.
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
            {
                var intended = start + (long)(i * (double)Stopwatch.Frequency / rate);
                WaitUntil(intended);
                operations.Add(RunOperationAsync(intended, result, cancellationToken));
            }

            scheduled.SetResult();
        })
        { IsBackground = true, Name = "tenant B schedule" };
        scheduler.Start();
        await scheduled.Task;
        result.Scheduled = count;
        await Task.WhenAll(operations);
        return result;
    }

    private async Task RunOperationAsync(long intended, VictimResult result, CancellationToken cancellationToken)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var key = (int)(sequence % KeyCount);
        var kind = (int)(sequence % Operations.Count);
        var what = Operations[kind];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            var failure = kind switch
            {
                0 => await StatusAsync(_client.GetAsync(KvPath(key), timeout.Token), HttpStatusCode.OK, timeout.Token),
                1 => await StatusAsync(_client.PutAsJsonAsync(KvPath(key), new { value = Value(key), ttlMs = 3_600_000 }, timeout.Token), HttpStatusCode.NoContent, timeout.Token),
                2 => await StatusAsync(_client.GetAsync(CachePath(key), timeout.Token), HttpStatusCode.OK, timeout.Token),
                3 => await StatusAsync(_client.PutAsJsonAsync(CachePath(key), new { value = Value(key), ttlMs = 3_600_000 }, timeout.Token), HttpStatusCode.NoContent, timeout.Token),
                _ => await LockAndReleaseAsync(key, timeout.Token),
            };
            if (failure is not null)
            {
                result.Errors.Record($"{what} {failure}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or JsonException)
        {
            result.Errors.Record($"{what} {ex.GetType().Name}");
        }

        result.Add(what, Stopwatch.GetTimestamp() - intended);
    }

    private async Task<string?> LockAndReleaseAsync(int key, CancellationToken cancellationToken)
    {
        var name = $"b-lock-{key}";
        using var acquired = await _client.PostAsJsonAsync($"v1/locks/{name}", new { ttlMs = 10_000, waitMs = 0 }, cancellationToken);
        if (acquired.StatusCode != HttpStatusCode.OK)
        {
            return ((int)acquired.StatusCode).ToString(CultureInfo.InvariantCulture);
        }

        using var body = await JsonDocument.ParseAsync(await acquired.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var token = body.RootElement.GetProperty("token").GetString();
        using var released = await _client.DeleteAsync($"v1/locks/{name}?token={Uri.EscapeDataString(token!)}", cancellationToken);
        return released.StatusCode == HttpStatusCode.NoContent ? null : "release " + ((int)released.StatusCode).ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<string?> StatusAsync(Task<HttpResponseMessage> request, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        using var response = await request;

        // Read the body as a real client would, so a slow body counts.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response.StatusCode == expected ? null : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException($"Tenant B's preparation got {(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    private static void WaitUntil(long timestamp)
    {
        while (true)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            if (remaining * 1000 / Stopwatch.Frequency >= 2)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    private static string KvPath(int key) => $"v1/kv/b-kv-{key}";

    private static string CachePath(int key) => $"v1/cache/b-cache-{key}";

    private static object Value(int key) => new { id = key, name = $"item {key}", price = key * 1.5, tags = new[] { "b", "bench" } };

    private static HttpClient CreateClient(Uri baseAddress)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = int.MaxValue };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Add("X-Api-Key", NoisyApiHost.VictimKey);
        return client;
    }
}
