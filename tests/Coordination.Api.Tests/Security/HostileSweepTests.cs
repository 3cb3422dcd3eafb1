using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Security;

/// <summary>
/// The hostile sweep (issue 12): every key/value, lock and cache endpoint gets broken authentication, broken names,
/// broken TTLs, oversized or deep values, wrong tokens and another tenant's names. Each must answer a 4xx (never a
/// 2xx where refused, never a 5xx), and a read-back shows nothing stored or changed. Violations are collected per case
/// and reported together; any violation fails the case.
/// </summary>
public sealed class HostileSweepTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const int MaxValueBytes = 1024 * 1024;

    public static readonly string[] Endpoints =
    [
        "kv-put", "kv-get", "kv-delete",
        "lock-acquire", "lock-extend", "lock-release", "lock-get",
        "cache-put", "cache-get", "cache-delete", "cache-invalidate",
    ];

    public static TheoryData<string, string> AuthCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var auth in new[] { "none", "empty", "two-headers", "two-headers-two-tenants", "two-values-one-line", "query-apiKey", "query-X-Api-Key" })
            {
                data.Add(endpoint, auth);
            }
        }

        return data;
    }

    /// <summary>Existing state of tenant A: a value, a cache entry (tagged) and a held lock, all to be left untouched.</summary>
    private sealed record State(string Key, string CacheKey, string Tag, string LockName, string Token, long FencingToken);

    private static async Task<State> ArrangeAsync(HttpClient member)
    {
        var state0 = (Key: NewName("kv"), CacheKey: NewName("cache"), Tag: NewName("tag"), LockName: NewName("lock"));
        await SendExpectingAsync(member, HttpMethod.Put, Kv(state0.Key), """{"value":"original","ttlMs":600000}""");
        await SendExpectingAsync(member, HttpMethod.Put, Cache(state0.CacheKey), $$"""{"value":"original","ttlMs":600000,"tags":["{{state0.Tag}}"]}""");
        using var acquire = await SendAsync(member, HttpMethod.Post, Lock(state0.LockName), """{"ttlMs":600000}""");
        await AssertStatusAsync(acquire, HttpStatusCode.OK);
        var lease = await ReadJsonAsync(acquire);
        return new State(state0.Key, state0.CacheKey, state0.Tag, state0.LockName, lease.GetProperty("token").GetString()!, lease.GetProperty("fencingToken").GetInt64());
    }

    /// <summary>The hostile request for <paramref name="endpoint"/>, aimed at tenant A's existing state.</summary>
    private static HttpRequestMessage RequestFor(string endpoint, State state, string query = "") => endpoint switch
    {
        "kv-put" => new(HttpMethod.Put, With(Kv(state.Key), query)) { Content = Json("""{"value":"overwritten"}""") },
        "kv-get" => new(HttpMethod.Get, With(Kv(state.Key), query)),
        "kv-delete" => new(HttpMethod.Delete, With(Kv(state.Key), query)),
        "lock-acquire" => new(HttpMethod.Post, With(Lock(state.LockName), query)) { Content = Json("""{"ttlMs":1000}""") },
        "lock-extend" => new(HttpMethod.Post, With(Extend(state.LockName), query)) { Content = Json($$"""{"token":"{{state.Token}}","ttlMs":1000}""") },
        "lock-release" => new(HttpMethod.Delete, With(Lock(state.LockName, state.Token), query.Replace('?', '&'))),
        "lock-get" => new(HttpMethod.Get, With(Lock(state.LockName), query)),
        "cache-put" => new(HttpMethod.Put, With(Cache(state.CacheKey), query)) { Content = Json("""{"value":"overwritten"}""") },
        "cache-get" => new(HttpMethod.Get, With(Cache(state.CacheKey), query)),
        "cache-delete" => new(HttpMethod.Delete, With(Cache(state.CacheKey), query)),
        "cache-invalidate" => new(HttpMethod.Post, With(Invalidate, query)) { Content = Json($$"""{"tags":["{{state.Tag}}"],"prefix":"{{state.CacheKey}}"}""") },
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };

    internal static Uri With(Uri uri, string query) => new(uri.OriginalString + query, UriKind.Relative);

    [Theory]
    [MemberData(nameof(AuthCases))]
    public async Task BrokenAuthentication_Answers401_AndChangesNothing(string endpoint, string auth)
    {
        using var member = Client();
        using var anonymous = Client(apiKey: null);
        var state = await ArrangeAsync(member);
        var query = auth switch
        {
            "query-apiKey" => "?apiKey=" + ApiFactory.MemberKey,
            "query-X-Api-Key" => "?X-Api-Key=" + ApiFactory.MemberKey,
            _ => "",
        };
        using var request = RequestFor(endpoint, state, query);
        var violations = new List<string>();
        if (auth is "two-headers" or "two-headers-two-tenants")
        {
            // Two header lines, exactly as sent (HttpClient would fold them into one): raw HTTP/1.1.
            var second = auth == "two-headers" ? ApiFactory.MemberKey : ApiFactory.OtherTenantKey;
            var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(Cancellation);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            var status = await SendRawAsync(request.Method, request.RequestUri!.OriginalString, $"X-Api-Key: {ApiFactory.MemberKey}\r\nX-Api-Key: {second}\r\n", body, timeout.Token);
            if (status != 401)
            {
                violations.Add($"{request.Method} {request.RequestUri} ({auth}): expected 401, got {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer"}");
            }
        }
        else
        {
            switch (auth)
            {
                case "empty":
                    request.Headers.TryAddWithoutValidation("X-Api-Key", "");
                    break;
                case "two-values-one-line":
                    request.Headers.TryAddWithoutValidation("X-Api-Key", $"{ApiFactory.MemberKey}, {ApiFactory.MemberKey}");
                    break;
            }

            using var response = await anonymous.SendAsync(request, Cancellation);
            await IsAsExpectedAsync(response, HttpStatusCode.Unauthorized, $"{request.Method} {request.RequestUri} ({auth})", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        AssertNoViolations(violations);
    }

    public static TheoryData<string, string> BadNames()
    {
        var data = new TheoryData<string, string>();
        var names = new Dictionary<string, string>
        {
            ["control-char"] = "bad\u0001name",
            ["newline"] = "bad\nname",
            ["del"] = "bad\u007fname",
            ["513-bytes"] = new string('a', 513),
            ["171-three-byte-chars"] = new string('\u20ac', 171),
        };
        foreach (var endpoint in new[] { "kv-put", "kv-get", "kv-delete", "lock-acquire", "lock-extend", "lock-release", "lock-get", "cache-put", "cache-get", "cache-delete" })
        {
            foreach (var (label, _) in names)
            {
                data.Add(endpoint, label);
            }
        }

        return data;
    }

    /// <summary>The hostile name a label stands for (shared with <see cref="HostileSweepSessionsAndRateLimitsTests"/>).</summary>
    internal static string BadName(string label) => label switch
    {
        "control-char" => "bad\u0001name",
        "newline" => "bad\nname",
        "del" => "bad\u007fname",
        "513-bytes" => new string('a', 513),
        "171-three-byte-chars" => new string('\u20ac', 171),
        _ => throw new ArgumentOutOfRangeException(nameof(label)),
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task BrokenName_Answers4xx_AndStoresNothing(string endpoint, string label)
    {
        using var member = Client();
        var name = BadName(label);
        var state = new State(name, name, NewName("tag"), name, "some-token", 0);
        using var request = RequestFor(endpoint, state);
        var violations = new List<string>();
        using (var response = await member.SendAsync(request, Cancellation))
        {
            await IsAsExpectedAsync(response, IsClientError, "4xx", $"{request.Method} {request.RequestUri} ({label})", violations);
        }

        // Nothing readable under that name afterwards.
        foreach (var uri in new[] { Kv(name), Cache(name), Lock(name) })
        {
            using var get = await member.GetAsync(uri, Cancellation);
            await IsAsExpectedAsync(get, IsClientError, "4xx", $"GET {uri} after {endpoint} ({label})", violations);
        }

        AssertNoViolations(violations);
    }

    public static TheoryData<string> OddNames() => ["brace}", "{brace}", "a}b{c", "slash/inside", "x}/y{"];

    [Theory]
    [MemberData(nameof(OddNames))]
    public async Task NamesWithBracesAndSlashes_AreValidAndIsolated_OrRefused(string suffix)
    {
        using var member = Client();
        using var other = Client(ApiFactory.OtherTenantKey);
        var violations = new List<string>();
        var name = NewName("odd") + suffix;
        var neighbour = name[..name.IndexOfAny(['}', '/', '{'])];

        // Key/value and cache take slashes (catch-all routes): the name is one key, isolated from its neighbour and from tenant B.
        foreach (var (uri, neighbourUri, otherUri) in new[] { (Kv(name), Kv(neighbour), Kv(name)), (Cache(name), Cache(neighbour), Cache(name)) })
        {
            using (var put = await SendAsync(member, HttpMethod.Put, uri, """{"value":"odd"}"""))
            {
                if (!await IsAsExpectedAsync(put, HttpStatusCode.NoContent, $"PUT {uri}", violations))
                {
                    continue;
                }
            }

            using (var get = await member.GetAsync(uri, Cancellation))
            {
                var text = await get.Content.ReadAsStringAsync(Cancellation);
                if (get.StatusCode != HttpStatusCode.OK || JsonDocument.Parse(text).RootElement.GetProperty("key").GetString() != name)
                {
                    violations.Add($"GET {uri}: expected 200 with key '{name}', got {(int)get.StatusCode}: {text}");
                }
            }

            await ExpectStatusAsync(member, HttpMethod.Get, neighbourUri, HttpStatusCode.NotFound, violations, "neighbour");
            await ExpectStatusAsync(other, HttpMethod.Get, otherUri, HttpStatusCode.NotFound, violations, "tenant B");
        }

        // Locks: a single route segment; an escaped slash either names one lock or is refused, never 5xx.
        using (var acquire = await SendAsync(member, HttpMethod.Post, Lock(name), """{"ttlMs":60000}"""))
        {
            var text = await acquire.Content.ReadAsStringAsync(Cancellation);
            if (acquire.StatusCode == HttpStatusCode.OK)
            {
                var lease = JsonDocument.Parse(text).RootElement;
                if (lease.GetProperty("name").GetString() != name)
                {
                    violations.Add($"POST {Lock(name)}: name echoed as {lease.GetProperty("name")}, expected '{name}'");
                }

                using var info = await member.GetAsync(Lock(name), Cancellation);
                if (info.StatusCode != HttpStatusCode.OK)
                {
                    violations.Add($"GET {Lock(name)} after acquiring: expected 200, got {(int)info.StatusCode}");
                }

                await ExpectStatusAsync(member, HttpMethod.Get, Lock(neighbour), HttpStatusCode.NotFound, violations, "neighbour");
                await ExpectStatusAsync(other, HttpMethod.Get, Lock(name), HttpStatusCode.NotFound, violations, "tenant B");
            }
            else if ((int)acquire.StatusCode is < 400 or >= 500)
            {
                violations.Add($"POST {Lock(name)}: expected 200 or 4xx, got {(int)acquire.StatusCode}: {text}");
            }
        }

        AssertNoViolations(violations);
    }

    public static TheoryData<string, string> BadDurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var field in new[] { "kv-put:ttlMs", "cache-put:ttlMs", "lock-acquire:ttlMs", "lock-acquire:waitMs", "lock-extend:ttlMs" })
        {
            foreach (var value in new[] { "0", "-1", "1.5", "\"1000\"", "9223372036854775808", "2592000001", "true", "1e3", "null" })
            {
                // null for an optional field means "none" and is legal; only the required ones refuse it.
                // waitMs 0 is the contract's default (try once): legal too.
                if ((value == "null" && field is not ("lock-acquire:ttlMs" or "lock-extend:ttlMs")) || (value == "0" && field == "lock-acquire:waitMs"))
                {
                    continue;
                }

                data.Add(field, value);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadDurations))]
    public async Task BrokenDuration_Answers400_AndChangesNothing(string target, string raw)
    {
        using var member = Client();
        var violations = new List<string>();
        var state = await ArrangeAsync(member);
        var fresh = NewName("fresh");
        var (method, uri, json) = target switch
        {
            "kv-put:ttlMs" => (HttpMethod.Put, Kv(fresh), $$"""{"value":1,"ttlMs":{{raw}}}"""),
            "cache-put:ttlMs" => (HttpMethod.Put, Cache(fresh), $$"""{"value":1,"ttlMs":{{raw}}}"""),
            "lock-acquire:ttlMs" => (HttpMethod.Post, Lock(fresh), $$"""{"ttlMs":{{raw}}}"""),
            "lock-acquire:waitMs" => (HttpMethod.Post, Lock(fresh), $$"""{"ttlMs":60000,"waitMs":{{raw}}}"""),
            _ => (HttpMethod.Post, Extend(state.LockName), $$"""{"token":"{{state.Token}}","ttlMs":{{raw}}}"""),
        };
        using (var response = await SendAsync(member, method, uri, json))
        {
            await IsAsExpectedAsync(response, HttpStatusCode.BadRequest, $"{method} {uri} {json}", violations);
        }

        await ExpectStatusAsync(member, HttpMethod.Get, Kv(fresh), HttpStatusCode.NotFound, violations, "after " + target);
        await ExpectStatusAsync(member, HttpMethod.Get, Cache(fresh), HttpStatusCode.NotFound, violations, "after " + target);
        await ExpectStatusAsync(member, HttpMethod.Get, Lock(fresh), HttpStatusCode.NotFound, violations, "after " + target);
        await ReadBackUnchangedAsync(member, state, violations);
        AssertNoViolations(violations);
    }

    public static TheoryData<string> ValueTargets() => ["kv", "cache"];

    [Theory]
    [MemberData(nameof(ValueTargets))]
    public async Task OversizedOrTooDeepValue_Answers400_AndKeepsThePreviousValue(string target)
    {
        using var member = Client();
        var violations = new List<string>();
        var state = await ArrangeAsync(member);
        var uri = target == "kv" ? Kv(state.Key) : Cache(state.CacheKey);

        // One byte over 1 MiB, measured on the compact serialization: the quotes count.
        var oversized = $$"""{"value":"{{new string('x', MaxValueBytes - 1)}}"}""";
        var tooDeep = $$"""{"value":{{new string('[', 65)}}{{new string(']', 65)}}}""";
        foreach (var (label, json) in new[] { ("1 MiB + 1 byte", oversized), ("65 levels", tooDeep) })
        {
            using var response = await SendAsync(member, HttpMethod.Put, uri, json);
            await IsAsExpectedAsync(response, HttpStatusCode.BadRequest, $"PUT {uri} ({label})", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        AssertNoViolations(violations);
    }

    [Theory]
    [MemberData(nameof(ValueTargets))]
    public async Task SixtyThreeLevelValue_IsStoredAndReadBack(string target)
    {
        using var member = Client();
        var name = NewName("deep");
        var uri = target == "kv" ? Kv(name) : Cache(name);
        var value = new string('[', 62) + "1" + new string(']', 62);
        value = "{\"a\":" + value + "}";

        using (var put = await SendAsync(member, HttpMethod.Put, uri, $$"""{"value":{{value}}}"""))
        {
            await AssertStatusAsync(put, HttpStatusCode.NoContent);
        }

        var body = await GetOkAsync(member, uri);
        Assert.Equal(value, body.GetProperty("value").GetRawText());
    }

    public static TheoryData<string, string> OversizedBodies()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in new[] { "kv-put", "cache-put", "lock-acquire", "lock-extend", "cache-invalidate" })
        {
            data.Add(endpoint, "declared-5MB");
            data.Add(endpoint, "chunked-5MB");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OversizedBodies))]
    public async Task FiveMegabyteBody_DeclaredOrChunked_Answers4xxWithoutHanging(string endpoint, string how)
    {
        using var member = Client();
        var violations = new List<string>();
        var state = await ArrangeAsync(member);
        using var template = RequestFor(endpoint, state);
        var path = template.RequestUri!.OriginalString;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));

        var status = how == "declared-5MB"
            ? await SendDeclaredButShortAsync(template.Method, path, timeout.Token)
            : await SendChunkedAsync(template.Method, path, timeout.Token);
        if (status is null)
        {
            violations.Add($"{template.Method} {path} ({how}): no answer within 20 s");
        }
        else if (status is < 400 or >= 500)
        {
            violations.Add($"{template.Method} {path} ({how}): expected 400 or 413, got {status}");
        }

        await ReadBackUnchangedAsync(member, state, violations);
        AssertNoViolations(violations);
    }

    /// <summary>A plain TCP connection to the test API, for requests HttpClient would not send as written.</summary>
    private async Task<RawConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        Uri address;
        using (var client = Fixture.Api.CreateApiClient(null))
        {
            address = client.BaseAddress!;
        }

        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(address.Host, address.Port, cancellationToken);
            return new RawConnection(tcp, address);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    private sealed class RawConnection(TcpClient tcp, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        public NetworkStream Stream { get; } = tcp.GetStream();

        public async ValueTask DisposeAsync()
        {
            await Stream.DisposeAsync();
            tcp.Dispose();
        }
    }

    /// <summary>Declares 5 MB and sends 100 bytes, then waits for the status line (Kestrel may answer before the body).</summary>
    private async Task<int?> SendDeclaredButShortAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var (address, stream) = (connection.Address, connection.Stream);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Api-Key: {ApiFactory.MemberKey}\r\n"
            + "Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{\"value\":\"" + new string('x', 88) + "\"}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        return await ReadStatusAsync(stream, cancellationToken);
    }

    /// <summary>One HTTP/1.1 request with <paramref name="headers"/> as given (CRLF-terminated lines); returns the status, or null.</summary>
    private async Task<int?> SendRawAsync(HttpMethod method, string path, string headers, byte[]? body, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var (address, stream) = (connection.Address, connection.Stream);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\n{headers}"
            + (body is null ? "" : $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n") + "Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        if (body is not null)
        {
            await stream.WriteAsync(body, cancellationToken);
        }

        return await ReadStatusAsync(stream, cancellationToken);
    }

    /// <summary>A 5 MB chunked body (no Content-Length); stops sending as soon as the server answers.</summary>
    private async Task<int?> SendChunkedAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var (address, stream) = (connection.Address, connection.Stream);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Api-Key: {ApiFactory.MemberKey}\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        var reading = ReadStatusAsync(stream, cancellationToken);
        var chunk = Encoding.ASCII.GetBytes("{\"value\":\"" + new string('x', 64 * 1024 - 10));
        var filler = new byte[64 * 1024];
        Array.Fill(filler, (byte)'x');
        try
        {
            for (var sent = 0; sent < 5_000_000 && !reading.IsCompleted; sent += 64 * 1024)
            {
                var data = sent == 0 ? chunk : filler;
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), cancellationToken);
                await stream.WriteAsync(data, cancellationToken);
                await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            }

            if (!reading.IsCompleted)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("2\r\n\"}\r\n0\r\n\r\n"), cancellationToken);
            }
        }
        catch (IOException)
        {
            // The server answered and closed while the body was still being sent: the answer is read below.
        }

        return await reading;
    }

    private static async Task<int?> ReadStatusAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        var received = new StringBuilder();
        try
        {
            while (!received.ToString().Contains("\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (IOException) when (received.Length == 0)
        {
            return null;
        }

        var line = received.ToString();
        return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && line.Length >= 12 ? int.Parse(line.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    public static TheoryData<string> TokenCases() =>
        ["extend-wrong", "extend-absent", "extend-empty", "extend-null", "extend-number", "release-wrong", "release-absent", "release-empty", "release-prefix"];

    [Theory]
    [MemberData(nameof(TokenCases))]
    public async Task WrongOrAbsentToken_Answers4xx_AndTheLockIsStillHeldWithTheSameFencingToken(string tokenCase)
    {
        using var member = Client();
        var violations = new List<string>();
        var state = await ArrangeAsync(member);
        var (method, uri, json) = tokenCase switch
        {
            "extend-wrong" => (HttpMethod.Post, Extend(state.LockName), """{"token":"not-the-token","ttlMs":1000}"""),
            "extend-absent" => (HttpMethod.Post, Extend(state.LockName), """{"ttlMs":1000}"""),
            "extend-empty" => (HttpMethod.Post, Extend(state.LockName), """{"token":"","ttlMs":1000}"""),
            "extend-null" => (HttpMethod.Post, Extend(state.LockName), """{"token":null,"ttlMs":1000}"""),
            "extend-number" => (HttpMethod.Post, Extend(state.LockName), """{"token":12345,"ttlMs":1000}"""),
            "release-wrong" => (HttpMethod.Delete, Lock(state.LockName, "not-the-token"), (string?)null),
            "release-absent" => (HttpMethod.Delete, Lock(state.LockName), null),
            "release-empty" => (HttpMethod.Delete, Lock(state.LockName, ""), null),
            _ => (HttpMethod.Delete, Lock(state.LockName, state.Token[..^1]), null),
        };
        using (var response = await SendAsync(member, method, uri, json))
        {
            await IsAsExpectedAsync(response, static status => status is 400 or 409, "400 or 409 lock-not-held", $"{method} {uri} {json}", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        AssertNoViolations(violations);
    }

    [Theory]
    [MemberData(nameof(Endpoints2))]
    public async Task OtherTenant_CannotSeeExtendReleaseOrOverwrite(string endpoint)
    {
        using var member = Client();
        using var other = Client(ApiFactory.OtherTenantKey);
        var violations = new List<string>();
        var state = await ArrangeAsync(member);
        using var request = RequestFor(endpoint, state);
        var expected = endpoint switch
        {
            // Tenant B's own namespace: a write or delete there is its own business; reads and the lock's token find nothing.
            "kv-put" or "cache-put" or "kv-delete" or "cache-delete" => new[] { 204 },
            "lock-acquire" => [200],
            "cache-invalidate" => [200],
            "kv-get" or "cache-get" or "lock-get" => [404],
            _ => [409],
        };
        using (var response = await other.SendAsync(request, Cancellation))
        {
            var text = await response.Content.ReadAsStringAsync(Cancellation);
            if (!expected.Contains((int)response.StatusCode))
            {
                violations.Add($"tenant B {request.Method} {request.RequestUri}: expected {string.Join(" or ", expected)}, got {(int)response.StatusCode}: {text}");
            }

            if (text.Contains("original", StringComparison.Ordinal) || text.Contains(state.Token, StringComparison.Ordinal))
            {
                violations.Add($"tenant B {request.Method} {request.RequestUri}: the answer shows tenant A's data: {text}");
            }

        }

        await ReadBackUnchangedAsync(member, state, violations);
        if (endpoint == "cache-invalidate")
        {
            // Not vacuous: the same request from tenant A does invalidate A's entry.
            using var own = RequestFor(endpoint, state);
            using var response = await member.SendAsync(own, Cancellation);
            await AssertStatusAsync(response, HttpStatusCode.OK);
            await ExpectStatusAsync(member, HttpMethod.Get, Cache(state.CacheKey), HttpStatusCode.NotFound, violations, "tenant A's own invalidate");
        }

        AssertNoViolations(violations);
    }

    public static TheoryData<string> Endpoints2() => new(Endpoints);

    /// <summary>Tenant A's value, cache entry and lock are as arranged.</summary>
    private static async Task ReadBackUnchangedAsync(HttpClient member, State state, List<string> violations)
    {
        foreach (var uri in new[] { Kv(state.Key), Cache(state.CacheKey) })
        {
            using var get = await member.GetAsync(uri, Cancellation);
            var text = await get.Content.ReadAsStringAsync(Cancellation);
            if (get.StatusCode != HttpStatusCode.OK || JsonDocument.Parse(text).RootElement.GetProperty("value").GetString() != "original")
            {
                violations.Add($"read-back GET {uri}: expected 200 with \"original\", got {(int)get.StatusCode}: {text}");
            }
        }

        using var info = await member.GetAsync(Lock(state.LockName), Cancellation);
        var infoText = await info.Content.ReadAsStringAsync(Cancellation);
        if (info.StatusCode != HttpStatusCode.OK)
        {
            violations.Add($"read-back GET {Lock(state.LockName)}: expected 200 (held), got {(int)info.StatusCode}: {infoText}");
            return;
        }

        var lockInfo = JsonDocument.Parse(infoText).RootElement;
        if (lockInfo.GetProperty("fencingToken").GetInt64() != state.FencingToken || lockInfo.GetProperty("ttlMs").GetInt64() < 60_000)
        {
            violations.Add($"read-back GET {Lock(state.LockName)}: expected fencing token {state.FencingToken} and the original ttl, got {infoText}");
        }
    }

    private static async Task ExpectStatusAsync(HttpClient client, HttpMethod method, Uri uri, HttpStatusCode status, List<string> violations, string what)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(method, uri), Cancellation);
        await IsAsExpectedAsync(response, status, $"{what}: {method} {uri}", violations);
    }

    internal static bool IsClientError(int status) => status is >= 400 and < 500;

    /// <summary>Whether <paramref name="response"/>'s status is <paramref name="expected"/>; when not, notes it (with the body) as a violation of <paramref name="what"/>.</summary>
    private static Task<bool> IsAsExpectedAsync(HttpResponseMessage response, HttpStatusCode expected, string what, List<string> violations) =>
        IsAsExpectedAsync(response, status => status == (int)expected, ((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), what, violations);

    /// <summary>Whether <paramref name="response"/>'s status is <paramref name="accepted"/>; when not, notes it (with the body) as a violation of <paramref name="what"/>.</summary>
    internal static async Task<bool> IsAsExpectedAsync(HttpResponseMessage response, Func<int, bool> accepted, string expectation, string what, List<string> violations)
    {
        if (accepted((int)response.StatusCode))
        {
            return true;
        }

        violations.Add($"{what}: expected {expectation}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Cancellation)}");
        return false;
    }

    internal static void AssertNoViolations(List<string> violations) =>
        Assert.True(violations.Count == 0, $"{violations.Count} violation(s):\n" + string.Join("\n", violations));
}
