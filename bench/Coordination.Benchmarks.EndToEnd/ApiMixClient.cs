using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// The mix over HTTP against the API's replicas, one operation to each in turn (the caller's call count decides which):
/// a member key of tenant <see cref="ApiReplica.Tenant"/>; each answer's body is read, as a real client would. The
/// request bodies are serialized once, before the run, so the load generator's own work per request stays small.
/// </summary>
internal sealed class ApiMixClient : IMixClient, IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] LockBody = """{"ttlMs":10000,"waitMs":0}"""u8.ToArray();
    private static readonly byte[] Allowed = "\"allowed\":true"u8.ToArray();

    private readonly HttpClient[] _replicas;
    private readonly HttpClient _admin;
    private readonly byte[][] _putBodies;
    private readonly byte[][] _acquireBodies;
    private string[] _sessions = [];

    public ApiMixClient(IReadOnlyList<Uri> replicas)
    {
        _replicas = [.. replicas.Select(r => HttpClients.Create(r, ApiReplica.MemberKey))];
        _admin = HttpClients.Create(replicas[0], ApiReplica.AdminKey);
        _putBodies = [.. Enumerable.Range(0, Mix.CacheKeys).Select(i => JsonSerializer.SerializeToUtf8Bytes(new { value = Mix.Value(i), ttlMs = (long)Mix.EntryTimeToLive.TotalMilliseconds }, JsonSerializerOptions.Web))];
        _acquireBodies = [.. Enumerable.Range(0, Mix.RateLimitKeys).Select(i => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"key":"client-{{i}}"}""")))];
    }

    public string Name => "API (2 replicas)";

    public string Description =>
        "HTTP/1.1 over loopback to the two API replicas in turn (member key; the API authenticates, checks the tenant's bulkhead and its request rate in Redis, validates, calls the library, writes JSON); latency from sending the request to having read the whole answer";

    public bool RunsMix => true;

    public int RequestsPer(OperationKind kind) => kind == OperationKind.Lock ? 2 : 1;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var policy = new
        {
            algorithm = "token-bucket",
            limit = Mix.PolicyDefinition.Limit,
            periodMs = (long)Mix.PolicyDefinition.Period.TotalMilliseconds,
            burst = Mix.PolicyDefinition.Burst,
        };
        await ExpectAsync(await _admin.PutAsJsonAsync($"v1/ratelimit/policies/{Mix.Policy}", policy, cancellationToken), HttpStatusCode.NoContent);
        for (var i = 0; i < Mix.CacheKeys; i++)
        {
            await ExpectAsync(await _replicas[i % _replicas.Length].PutAsync($"v1/cache/{Mix.CacheKey(i)}", Body(_putBodies[i]), cancellationToken), HttpStatusCode.NoContent);
        }

        var sessions = new string[Mix.Sessions];
        for (var i = 0; i < Mix.Sessions; i++)
        {
            using var created = await _replicas[i % _replicas.Length].PostAsJsonAsync(
                "v1/sessions", new { userId = Mix.SessionUser(i), data = new { cart = i % 7, theme = "dark" } }, cancellationToken);
            if (created.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Creating a session answered {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync(cancellationToken)}");
            }

            using var body = await JsonDocument.ParseAsync(await created.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            sessions[i] = body.RootElement.GetProperty("id").GetString()!;
        }

        _sessions = sessions;
    }

    public async ValueTask<string?> RunAsync(OperationKind kind, int caller, long call, Random random, CancellationToken cancellationToken)
    {
        var client = _replicas[(int)((caller + call) % _replicas.Length)];
        switch (kind)
        {
            case OperationKind.CacheGet:
            {
                var (written, key) = Mix.CacheReadKey(random);
                using var response = await client.GetAsync("v1/cache/" + key, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                return Status(response, written ? HttpStatusCode.OK : HttpStatusCode.NotFound);
            }

            case OperationKind.CachePut:
            {
                var index = random.Next(Mix.CacheKeys);
                using var response = await client.PutAsync("v1/cache/" + Mix.CacheKey(index), Body(_putBodies[index]), cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                return Status(response, HttpStatusCode.NoContent);
            }

            case OperationKind.Lock:
            {
                var name = Mix.LockName(caller, random);
                using var acquired = await client.PostAsync("v1/locks/" + name, Body(LockBody), cancellationToken);
                var body = await acquired.Content.ReadAsByteArrayAsync(cancellationToken);
                if (Status(acquired, HttpStatusCode.OK) is { } failure)
                {
                    return "acquire " + failure;
                }

                using var document = JsonDocument.Parse(body);
                var token = document.RootElement.GetProperty("token").GetString()!;
                using var released = await client.DeleteAsync($"v1/locks/{name}?token={Uri.EscapeDataString(token)}", cancellationToken);
                await released.Content.LoadIntoBufferAsync(cancellationToken);
                return Status(released, HttpStatusCode.NoContent) is { } releaseFailure ? "release " + releaseFailure : null;
            }

            case OperationKind.SessionGet:
            {
                using var response = await client.GetAsync("v1/sessions/" + _sessions[random.Next(_sessions.Length)], cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                return Status(response, HttpStatusCode.OK);
            }

            case OperationKind.RateLimit:
            {
                using var response = await client.PostAsync($"v1/ratelimit/{Mix.Policy}/acquire", Body(_acquireBodies[random.Next(Mix.RateLimitKeys)]), cancellationToken);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return Status(response, HttpStatusCode.OK) ?? (body.AsSpan().IndexOf(Allowed) >= 0 ? null : "refused");
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>The API's version, from its status (admin key).</summary>
    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        using var status = await JsonDocument.ParseAsync(await _admin.GetStreamAsync("v1/status", cancellationToken), cancellationToken: cancellationToken);
        return status.RootElement.TryGetProperty("version", out var version) ? version.ToString() : "unknown";
    }

    public void Dispose()
    {
        foreach (var client in _replicas)
        {
            client.Dispose();
        }

        _admin.Dispose();
    }

    private static ByteArrayContent Body(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = Json;
        return content;
    }

    private static string? Status(HttpResponseMessage response, HttpStatusCode expected) =>
        response.StatusCode == expected ? null : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException($"Preparing the run got {(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
