using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Api.Tests.Apis;

public sealed class CacheApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task SetEntry_ThenGetThenRemove_RoundTrips()
    {
        using var client = Client();
        var key = NewName();
        await PutAsync(client, key, """{"value":{"total":12.5,"items":["a",1,true,null]},"ttlMs":60000,"tags":["t1"]}""");

        var body = await GetOkAsync(client, Cache(key));
        Assert.Equal(key, body.GetProperty("key").GetString());
        Assert.Equal("""{"total":12.5,"items":["a",1,true,null]}""", body.GetProperty("value").GetRawText());

        using (var remove = await client.DeleteAsync(Cache(key), Cancellation))
        {
            await AssertStatusAsync(remove, HttpStatusCode.NoContent);
        }

        using var missing = await client.GetAsync(Cache(key), Cancellation);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task SetEntry_JsonNullWithoutOptions_IsCached()
    {
        using var client = Client();
        var key = NewName();
        await PutAsync(client, key, """{"value":null,"ttlMs":null,"tags":null}""");
        Assert.Equal(JsonValueKind.Null, (await GetAsync(client, key)).ValueKind);
    }

    [Fact]
    public async Task InvalidateTags_HidesTaggedEntriesOnly_AndCountsDistinctTags()
    {
        using var client = Client();
        var (tagged, untagged, tag) = (NewName(), NewName(), NewName("tag"));
        await PutAsync(client, tagged, $$"""{"value":"v1","ttlMs":60000,"tags":["{{tag}}","{{tag}}-other"]}""");
        await PutAsync(client, untagged, """{"value":"v2","ttlMs":60000}""");
        Assert.Equal("v1", (await GetAsync(client, tagged)).GetString());

        using (var invalidate = await SendAsync(client, HttpMethod.Post, Invalidate, $$"""{"tags":["{{tag}}","{{tag}}"]}"""))
        {
            await AssertStatusAsync(invalidate, HttpStatusCode.OK);
            Assert.Equal(1, (await ReadJsonAsync(invalidate)).GetProperty("invalidated").GetInt32());
        }

        using (var gone = await client.GetAsync(Cache(tagged), Cancellation))
        {
            await AssertProblemAsync(gone, HttpStatusCode.NotFound, "not-found");
        }

        Assert.Equal("v2", (await GetAsync(client, untagged)).GetString());
    }

    [Fact]
    public async Task InvalidatePrefixAndTags_CountsBoth()
    {
        using var client = Client();
        var prefix = NewName("p") + "/users/";
        var (inside, outside) = (prefix + "1", NewName());
        await PutAsync(client, inside, """{"value":1}""");
        await PutAsync(client, outside, """{"value":2}""");

        using (var invalidate = await SendAsync(client, HttpMethod.Post, Invalidate, $$"""{"tags":["{{NewName("tag")}}"],"prefix":"{{prefix}}"}"""))
        {
            await AssertStatusAsync(invalidate, HttpStatusCode.OK);
            Assert.Equal(2, (await ReadJsonAsync(invalidate)).GetProperty("invalidated").GetInt32());
        }

        using (var gone = await client.GetAsync(Cache(inside), Cancellation))
        {
            await AssertProblemAsync(gone, HttpStatusCode.NotFound, "not-found");
        }

        Assert.Equal(2, (await GetAsync(client, outside)).GetInt32());
    }

    [Theory]
    [InlineData("{}", "value")]
    [InlineData("""{"value":1,"ttlMs":0}""", "ttlMs")]
    [InlineData("""{"value":1,"ttlMs":1e30}""", "ttlMs")]
    [InlineData("""{"value":1,"ttlMs":"10"}""", "ttlMs")]
    [InlineData("""{"value":1,"tags":"t"}""", "tags")]
    [InlineData("""{"value":1,"tags":{}}""", "tags")]
    [InlineData("""{"value":1,"tags":[5]}""", "tags[0]")]
    [InlineData("""{"value":1,"Tags":["a",{}]}""", "tags[1]")]
    [InlineData("""{"value":1,"tags":["ok",null]}""", "tags[1]")]
    [InlineData("""{"value":1,"tags":["ok",""]}""", "tags[1]")]
    [InlineData("""{"value":1,"tags":["a\u0007"]}""", "tags[0]")]
    [InlineData("""{"value":""", "body")]
    [InlineData("[]", "body")]
    [InlineData("", "body")]
    public async Task SetEntry_BadBody_Answers400NamingTheField(string json, string field)
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Put, Cache(NewName()), json);
        await AssertValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task SetEntry_TooManyTags_Answers400NamingTags()
    {
        using var client = Client();
        var tags = string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"t{i}\""));
        using var response = await SendAsync(client, HttpMethod.Put, Cache(NewName()), $$"""{"value":1,"tags":[{{tags}}]}""");
        await AssertValidationProblemAsync(response, "tags");
    }

    [Fact]
    public async Task SetEntry_ValueOverMaxValueBytes_Answers400NamingValue()
    {
        using var client = Client();
        using var response = await client.PutAsync(Cache(NewName()), Json($$"""{"value":"{{new string('x', 1024 * 1024)}}"}"""), Cancellation);
        await AssertValidationProblemAsync(response, "value");
    }

    [Fact]
    public async Task SetEntry_BodyFarOverTheLimit_Answers400NamingValue()
    {
        using var client = Client();
        using var response = await client.PutAsync(Cache(NewName()), Json($$"""{"value":"{{new string('x', 2 * 1024 * 1024)}}"}"""), Cancellation);
        await AssertValidationProblemAsync(response, "value");
    }

    [Fact]
    public async Task SetEntry_InvalidUtf8_Answers400NamingBody()
    {
        using var client = Client();
        byte[] body = [.. """{"value":1,"tags":["a"""u8, 0xC3, 0x28, .. "\"]}"u8];
        using var response = await client.PutAsync(Cache(NewName()), Json(body), Cancellation);
        await AssertValidationProblemAsync(response, "body");
    }

    [Fact]
    public async Task CacheKey_Invalid_Answers400NamingKeyOnEveryMethod()
    {
        using var client = Client();
        var bad = Cache(new string('k', 513));
        using (var put = await SendAsync(client, HttpMethod.Put, bad, """{"value":1}"""))
        {
            await AssertValidationProblemAsync(put, "key");
        }

        using (var get = await client.GetAsync(bad, Cancellation))
        {
            await AssertValidationProblemAsync(get, "key");
        }

        using var delete = await client.DeleteAsync(bad, Cancellation);
        await AssertValidationProblemAsync(delete, "key");
    }

    [Theory]
    [InlineData("{}", "body")]
    [InlineData("""{"tags":[],"prefix":null}""", "body")]
    [InlineData("""{"tags":"t"}""", "tags")]
    [InlineData("""{"tags":[1]}""", "tags[0]")]
    [InlineData("""{"tags":[""]}""", "tags[0]")]
    [InlineData("""{"prefix":5}""", "prefix")]
    [InlineData("""{"prefix":""}""", "prefix")]
    [InlineData("""{"prefix":"a\u0000"}""", "prefix")]
    [InlineData("""{"tags":""", "body")]
    [InlineData("\"x\"", "body")]
    [InlineData("", "body")]
    public async Task Invalidate_BadBody_Answers400NamingTheField(string json, string field)
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Invalidate, json);
        await AssertValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task Invalidate_TooManyTags_Answers400NamingTags()
    {
        using var client = Client();
        var tags = string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"t{i}\""));
        using var response = await SendAsync(client, HttpMethod.Post, Invalidate, $$"""{"tags":[{{tags}}]}""");
        await AssertValidationProblemAsync(response, "tags");
    }

    [Fact]
    public async Task InvalidateAndSet_MoreTagsThanTheConfiguredCaps_Answer400NamingTags()
    {
        // Caps below the API's own 32: the library's ArgumentException is what answers.
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:Cache:MaxTagsPerInvalidation"] = "4",
            ["Coordination:Cache:MaxTagsPerEntry"] = "4",
        });
        using var client = api.CreateApiClient();
        var five = string.Join(',', Enumerable.Range(0, 5).Select(i => $"\"t{i}\""));
        var four = string.Join(',', Enumerable.Range(0, 4).Select(i => $"\"t{i}\""));

        using (var invalidate = await SendAsync(client, HttpMethod.Post, Invalidate, $$"""{"tags":[{{five}}]}"""))
        {
            var errors = await AssertValidationProblemAsync(invalidate, "tags");
            Assert.Contains("MaxTagsPerInvalidation", errors.GetProperty("tags")[0].GetString(), StringComparison.Ordinal);
        }

        using (var set = await SendAsync(client, HttpMethod.Put, Cache(NewName()), $$"""{"value":1,"tags":[{{five}}]}"""))
        {
            var errors = await AssertValidationProblemAsync(set, "tags");
            Assert.Contains("MaxTagsPerEntry", errors.GetProperty("tags")[0].GetString(), StringComparison.Ordinal);
        }

        await SendExpectingAsync(client, HttpMethod.Put, Cache(NewName()), $$"""{"value":1,"tags":[{{four}}]}""");
        await SendExpectingAsync(client, HttpMethod.Post, Invalidate, $$"""{"tags":[{{four}}]}""", HttpStatusCode.OK);
    }

    [Fact]
    public async Task Invalidate_BodyOverTheLimit_Answers400NamingBody()
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Invalidate, $$"""{"prefix":"p","extra":"{{new string('x', 200 * 1024)}}"}""");
        await AssertValidationProblemAsync(response, "body");
    }

    [Fact]
    public async Task CacheEntries_OfTwoTenants_AreIsolated()
    {
        using var tenantA = Client();
        using var tenantB = Client(ApiFactory.OtherTenantKey);
        var key = NewName();
        await PutAsync(tenantA, key, """{"value":"a"}""");

        using (var other = await tenantB.GetAsync(Cache(key), Cancellation))
        {
            await AssertProblemAsync(other, HttpStatusCode.NotFound, "not-found");
        }

        await PutAsync(tenantB, key, """{"value":"b"}""");
        Assert.Equal("a", (await GetAsync(tenantA, key)).GetString());
        Assert.Equal("b", (await GetAsync(tenantB, key)).GetString());
    }

    [Fact]
    public async Task SetEntry_LargeJsonArray_MemoryLevelIsChargedWhatTheValueHolds()
    {
        // An API of its own, so that no other test's entries move the gauge.
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString);
        using var client = api.CreateApiClient();
        var meters = api.Services.GetRequiredService<IMeterFactory>();
        long charged = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "coordination.cache.memory.size")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => charged = value);
        listener.Start();
        // 524,287 zeros: 1 MiB of JSON, held as a JsonElement in about 7 MiB (12 bytes per token besides the text).
        var zeros = "[" + string.Join(',', Enumerable.Repeat('0', 524_287)) + "]";
        var key = NewName();

        await PutAsync(client, key, $$"""{"value":{{zeros}}}""");
        var value = await GetAsync(client, key);
        listener.RecordObservableInstruments();

        Assert.Equal(524_287, value.GetArrayLength());
        Assert.InRange(charged, 6L * 1024 * 1024, 12L * 1024 * 1024);
    }

    private static Task PutAsync(HttpClient client, string key, string json) => SendExpectingAsync(client, HttpMethod.Put, Cache(key), json);

    private static async Task<JsonElement> GetAsync(HttpClient client, string key) => (await GetOkAsync(client, Cache(key))).GetProperty("value");
}
