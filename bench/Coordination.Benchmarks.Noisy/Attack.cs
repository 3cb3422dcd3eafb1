using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Coordination.Api.Apis;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// One of issue 12's attacks, sent by tenant A through the HTTP API at full speed (a fixed number of requests in
/// flight, each sent as soon as the previous one of its loop was answered). Written against today's contract: where
/// a fix answers 400 or 429 instead, the attack goes on sending and its status counts say so.
/// </summary>
internal sealed record Attack(string Id, string Title, string What, Func<AttackContext, CancellationToken, Task> RunAsync)
{
    // As many tags as one call may carry (the API's cap, 32 today): a lower cap after a fix lowers the attack with it.
    private const int TagsPerCall = CacheApi.MaxTags;
    private const int TagLength = 500;

    // A JSON array of zeros just under the 1 MiB value limit: about 1 MiB in memory, a few KiB once compressed.
    private static readonly byte[] ZerosBody = BuildZerosBody(524_000);

    public static IReadOnlyList<Attack> All { get; } =
    [
        new("control", "0. Control: plain reads",
            "`GET /v1/kv/{one key of A's}` (written first), nothing hostile: the cost of any full-speed tenant on the shared cores, to compare the attacks with",
            RunControlAsync),
        new("stamps", "1. Tag and prefix stamp flood",
            $"`POST /v1/cache/invalidate` in turn with {TagsPerCall} fresh {TagLength}-character tags and with a fresh prefix",
            RunStampFloodAsync),
        new("lock-waiters", "2. Lock waiter flood",
            "8 locks held by A; `--lock-waiters` acquisitions of them in flight, `waitMs` 30000, each with a fresh `owner`",
            RunLockWaiterFloodAsync),
        new("memory", "3. Memory-level flood",
            "`PUT /v1/cache/{fresh key}` of a 1 MiB JSON array of zeros (compresses to a few KiB), then `GET` of it",
            RunMemoryFloodAsync),
        new("mirror", "4. Mirror flood",
            "`PUT /v1/kv/{fresh key}` of a 100-character string with `ttlMs` 600000 (each write queued for the PostgreSQL mirror)",
            RunMirrorFloodAsync),
        new("minting", "5. Key and lock-name minting",
            "in turn `PUT /v1/kv/{fresh key}` without TTL, and `POST /v1/locks/{fresh name}` (`waitMs` 0) + `DELETE` of it",
            RunMintingAsync),
        new("invalidation-log", "6. Invalidation-log flood",
            "`DELETE /v1/cache/{key}`: one in three of a key just written (`PUT` first), two in three of a fresh absent key",
            RunInvalidationLogFloodAsync),
        new("status-auth", "7. Status polling and failed authentication",
            "in turn anonymous `GET /v1/status` and `GET /v1/kv/x` with a fresh wrong `X-Api-Key`",
            RunStatusAndAuthFloodAsync),
    ];

    private static async Task RunControlAsync(AttackContext context, CancellationToken stop)
    {
        await context.SendAndForgetAsync(context.Client, Put("v1/kv/a-plain", new { value = "plain" }), stop);
        await context.FloodAsync(context.Settings.Concurrency, (_, ct) =>
            context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Get, "v1/kv/a-plain"), ct), stop);
    }

    private static Task RunStampFloodAsync(AttackContext context, CancellationToken stop) =>
        context.FloodAsync(context.Settings.Concurrency, async (n, ct) =>
        {
            object body = n % 2 == 0
                ? new { tags = Enumerable.Range(0, TagsPerCall).Select(i => FreshTag(n, i)).ToArray() }
                : new { prefix = $"a-prefix-{n}-" };
            await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Post, "v1/cache/invalidate") { Content = JsonContent.Create(body) }, ct);
        }, stop);

    private static async Task RunLockWaiterFloodAsync(AttackContext context, CancellationToken stop)
    {
        const int heldLocks = 8;
        var holdFor = (long)(context.Settings.Duration.TotalMilliseconds + 120_000);
        var tokens = new string?[heldLocks];
        for (var i = 0; i < heldLocks; i++)
        {
            using var response = await context.SendAsync(context.Client, Post($"v1/locks/a-held-{i}", new { ttlMs = holdFor, waitMs = 0, owner = "a-holder" }), stop);
            tokens[i] = response.StatusCode == HttpStatusCode.OK ? await TokenAsync(response) : null;
        }

        try
        {
            await context.FloodAsync(context.Settings.LockWaiters, (n, ct) =>
                context.SendAndForgetAsync(context.Client, Post($"v1/locks/a-held-{n % heldLocks}", new { ttlMs = 30_000, waitMs = 30_000, owner = $"a-waiter-{n}" }), ct), stop);
        }
        finally
        {
            for (var i = 0; i < heldLocks; i++)
            {
                if (tokens[i] is { } token)
                {
                    await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Delete, $"v1/locks/a-held-{i}?token={Uri.EscapeDataString(token)}"), CancellationToken.None);
                }
            }
        }
    }

    private static Task RunMemoryFloodAsync(AttackContext context, CancellationToken stop) =>
        context.FloodAsync(context.Settings.Concurrency, async (n, ct) =>
        {
            var content = new ByteArrayContent(ZerosBody);
            content.Headers.ContentType = new("application/json");
            await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Put, $"v1/cache/a-mem-{n}") { Content = content }, ct);
            await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Get, $"v1/cache/a-mem-{n}"), ct);
        }, stop);

    private static Task RunMirrorFloodAsync(AttackContext context, CancellationToken stop)
    {
        var value = new string('m', 100);
        return context.FloodAsync(context.Settings.Concurrency, (n, ct) =>
            context.SendAndForgetAsync(context.Client, Put($"v1/kv/a-mirror-{n}", new { value, ttlMs = 600_000 }), ct), stop);
    }

    private static Task RunMintingAsync(AttackContext context, CancellationToken stop) =>
        context.FloodAsync(context.Settings.Concurrency, async (n, ct) =>
        {
            if (n % 2 == 0)
            {
                await context.SendAndForgetAsync(context.Client, Put($"v1/kv/a-mint-{n}", new { value = n }), ct);
                return;
            }

            using var acquired = await context.SendAsync(context.Client, Post($"v1/locks/a-mint-{n}", new { ttlMs = 10_000, waitMs = 0 }), ct);
            if (acquired.StatusCode == HttpStatusCode.OK)
            {
                await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Delete, $"v1/locks/a-mint-{n}?token={Uri.EscapeDataString(await TokenAsync(acquired))}"), ct);
            }
        }, stop);

    private static Task RunInvalidationLogFloodAsync(AttackContext context, CancellationToken stop) =>
        context.FloodAsync(context.Settings.Concurrency, async (n, ct) =>
        {
            if (n % 3 == 0)
            {
                await context.SendAndForgetAsync(context.Client, Put($"v1/cache/a-inv-{n}", new { value = n, ttlMs = 600_000 }), ct);
                await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Delete, $"v1/cache/a-inv-{n}"), ct);
                return;
            }

            await context.SendAndForgetAsync(context.Client, new HttpRequestMessage(HttpMethod.Delete, $"v1/cache/a-absent-{n}"), ct);
        }, stop);

    private static Task RunStatusAndAuthFloodAsync(AttackContext context, CancellationToken stop) =>
        context.FloodAsync(context.Settings.Concurrency, (n, ct) =>
        {
            if (n % 2 == 0)
            {
                return context.SendAndForgetAsync(context.Anonymous, new HttpRequestMessage(HttpMethod.Get, "v1/status"), ct);
            }

            var request = new HttpRequestMessage(HttpMethod.Get, "v1/kv/x");
            request.Headers.Add("X-Api-Key", string.Create(CultureInfo.InvariantCulture, $"wrong-key-{n:D20}-0123456789abcdef"));
            return context.SendAndForgetAsync(context.Anonymous, request, ct);
        }, stop);

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };

    private static HttpRequestMessage Put(string path, object body) => new(HttpMethod.Put, path) { Content = JsonContent.Create(body) };

    private static async Task<string> TokenAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("token").GetString()!;
    }

    private static string FreshTag(long n, int i)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"a-tag-{n}-{i}-");
        return head + new string('t', TagLength - head.Length);
    }

    private static byte[] BuildZerosBody(int zeros)
    {
        var json = new StringBuilder(zeros * 2 + 32).Append("{\"ttlMs\":600000,\"value\":[");
        for (var i = 0; i < zeros; i++)
        {
            json.Append(i == 0 ? "0" : ",0");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }
}
