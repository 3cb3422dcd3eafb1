using System.Net;
using System.Text;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

public sealed class KeyValueApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task SetValue_ThenGet_RoundTripsValueAndTimeToLive()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":{"a":[1,"x",true,null]},"ttlMs":60000}""");

        var body = await GetOkAsync(client, Kv(key));
        Assert.Equal(key, body.GetProperty("key").GetString());
        Assert.Equal("""{"a":[1,"x",true,null]}""", body.GetProperty("value").GetRawText());
        Assert.InRange(body.GetProperty("ttlMs").GetInt64(), 1, 60_000);
    }

    [Fact]
    public async Task SetValue_WithoutTtl_NeverExpires()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":"v","ttlMs":null}""");

        var body = await GetOkAsync(client, Kv(key));
        Assert.Equal("v", body.GetProperty("value").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("ttlMs").ValueKind);
    }

    [Fact]
    public async Task SetValue_JsonNull_IsALegalValue()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":null}""");

        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await GetOkAsync(client, Kv(key))).GetProperty("value").ValueKind);
    }

    [Fact]
    public async Task SetValue_PropertyNamesInAnyCaseAndUnknownFields_AreAccepted()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"VALUE":7,"TtlMs":60000,"extra":{"nested":[1,2]},"more":"x"}""");

        var body = await GetOkAsync(client, Kv(key));
        Assert.Equal(7, body.GetProperty("value").GetInt32());
        Assert.InRange(body.GetProperty("ttlMs").GetInt64(), 1, 60_000);
    }

    [Fact]
    public async Task SetValue_RepeatedProperty_LastOneWins()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":1,"value":2}""");

        Assert.Equal(2, (await GetOkAsync(client, Kv(key))).GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task SetValue_KeyWithSlashes_AddressesOneKey()
    {
        using var client = Client();
        var key = NewName() + "/orders/42";
        var uri = new Uri("/v1/kv/" + key, UriKind.Relative);

        await SendExpectingAsync(client, HttpMethod.Put, uri, """{"value":42}""");

        Assert.Equal(key, (await GetOkAsync(client, uri)).GetProperty("key").GetString());
    }

    [Fact]
    public async Task GetValue_Missing_Answers404NotFound()
    {
        using var client = Client();
        using var get = await client.GetAsync(Kv(NewName()), Cancellation);
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task DeleteValue_RemovesTheKey_AndSucceedsWhenAbsent()
    {
        using var client = Client();
        var key = NewName();
        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":1}""");

        using (var delete = await client.DeleteAsync(Kv(key), Cancellation))
        {
            await AssertStatusAsync(delete, HttpStatusCode.NoContent);
        }

        using (var get = await client.GetAsync(Kv(key), Cancellation))
        {
            await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
        }

        using var again = await client.DeleteAsync(Kv(key), Cancellation);
        await AssertStatusAsync(again, HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("""{"value":1,"ttlMs":1e30}""")]
    [InlineData("""{"value":1,"ttlMs":-5}""")]
    [InlineData("""{"value":1,"ttlMs":0}""")]
    [InlineData("""{"value":1,"ttlMs":99999999999999999999}""")]
    [InlineData("""{"value":1,"ttlMs":2592000001}""")]
    [InlineData("""{"value":1,"ttlMs":"60000"}""")]
    [InlineData("""{"value":1,"ttlMs":1.5}""")]
    [InlineData("""{"value":1,"ttlMs":true}""")]
    [InlineData("""{"value":1,"ttlMs":{}}""")]
    [InlineData("""{"value":1,"TTLMS":"60000"}""")]
    [InlineData("""{"value":1,"TtlMs":0}""")]
    public async Task SetValue_BadTtl_Answers400NamingTtlMs(string json)
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(NewName()), json);
        await AssertValidationProblemAsync(put, "ttlMs");
    }

    [Fact]
    public async Task SetValue_LongestTtl_IsAccepted()
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(NewName()), """{"value":1,"ttlMs":2592000000}""");
        await AssertStatusAsync(put, HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"ttlMs":60000}""")]
    [InlineData("""{"Values":1}""")]
    public async Task SetValue_WithoutValue_Answers400NamingValue(string json)
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(NewName()), json);
        await AssertValidationProblemAsync(put, "value");
    }

    [Theory]
    [InlineData("""{"value":""")]
    [InlineData("""{"value":1,}""")]
    [InlineData("""{value:1}""")]
    [InlineData("[1]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("")]
    public async Task SetValue_BodyNotAJsonObject_Answers400NamingBody(string json)
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(NewName()), json);
        await AssertValidationProblemAsync(put, "body");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task SetValue_NotJsonContentType_Answers415Problem(string? contentType)
    {
        using var client = Client();
        using var content = new ByteArrayContent("""{"value":1}"""u8.ToArray());
        content.Headers.ContentType = contentType is null ? null : new(contentType);
        using var put = await client.PutAsync(Kv(NewName()), content, Cancellation);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SetValue_JsonWithCharset_IsAccepted()
    {
        using var client = Client();
        using var content = new StringContent("""{"value":1}""", Encoding.UTF8, "application/json");
        using var put = await client.PutAsync(Kv(NewName()), content, Cancellation);
        await AssertStatusAsync(put, HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task SetValue_NoBodyAtAll_Answers400NamingBody()
    {
        using var client = Client();
        using var put = await client.PutAsync(Kv(NewName()), content: null, Cancellation);
        await AssertValidationProblemAsync(put, "body");
    }

    [Fact]
    public async Task SetValue_InvalidUtf8InTheValue_Answers400NamingBody()
    {
        using var client = Client();
        byte[] body = [.. """{"value":"a"""u8, 0xFF, 0xFE, .. "\"}"u8];
        using var put = await client.PutAsync(Kv(NewName()), Json(body), Cancellation);
        await AssertValidationProblemAsync(put, "body");
    }

    [Theory]
    [InlineData("ignored field value")]
    [InlineData("ignored field name")]
    [InlineData("cut off at the end")]
    public async Task SetValue_InvalidUtf8AnywhereInTheBody_Answers400NamingBody(string where)
    {
        byte[] body = where switch
        {
            "ignored field value" => [.. """{"value":1,"extra":"a"""u8, 0xFF, .. "\"}"u8],
            "ignored field name" => [.. """{"value":1,"a"""u8, 0xC3, 0x28, .. "\":2}"u8],
            _ => [.. """{"value":1} """u8, 0xE2, 0x82],
        };
        using var client = Client();
        using var put = await client.PutAsync(Kv(NewName()), Json(body), Cancellation);
        await AssertValidationProblemAsync(put, "body");
    }

    [Fact]
    public async Task SetValue_LargeValueOfMultiByteCharacters_RoundTrips()
    {
        using var client = Client();
        var key = NewName();
        // 240 KB of two- and four-byte sequences: the body arrives in many reads, sequences split between them.
        var value = string.Concat(Enumerable.Repeat("é😀", 40_000));
        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), $$"""{"value":"{{value}}"}""");
        Assert.Equal(value, (await GetOkAsync(client, Kv(key))).GetProperty("value").GetString());
    }

    [Fact]
    public async Task SetValue_ValueUpToMaxValueBytes_IsAccepted()
    {
        using var client = Client();
        var key = NewName();
        // 1 MiB serialized: the string and its two quotes.
        var value = new string('x', 1024 * 1024 - 2);
        using (var put = await client.PutAsync(Kv(key), Json($$"""{"value":"{{value}}"}"""), Cancellation))
        {
            await AssertStatusAsync(put, HttpStatusCode.NoContent);
        }

        Assert.Equal(value.Length, (await GetOkAsync(client, Kv(key))).GetProperty("value").GetString()!.Length);
    }

    [Fact]
    public async Task SetValue_ValueOneByteOverMaxValueBytes_Answers400NamingValue()
    {
        using var client = Client();
        var value = new string('x', 1024 * 1024 - 1);
        using var put = await client.PutAsync(Kv(NewName()), Json($$"""{"value":"{{value}}"}"""), Cancellation);
        await AssertValidationProblemAsync(put, "value");
    }

    [Fact]
    public async Task SetValue_BodyFarOverTheLimit_Answers400NamingValue()
    {
        using var client = Client();
        // The API refuses by Content-Length before reading the body; waiting for 100-continue means the client sends
        // no body it would otherwise still be writing when the server closes the connection (a broken pipe).
        client.DefaultRequestHeaders.ExpectContinue = true;
        var value = new string('x', 2 * 1024 * 1024);
        using var put = await client.PutAsync(Kv(NewName()), Json($$"""{"value":"{{value}}"}"""), Cancellation);
        await AssertValidationProblemAsync(put, "value");
    }

    [Fact]
    public async Task SetValue_BodyOverTheLimitInWhitespace_Answers400NamingValue()
    {
        using var client = Client();
        // The API refuses by Content-Length before reading the body; waiting for 100-continue means the client sends
        // no body it would otherwise still be writing when the server closes the connection (a broken pipe).
        client.DefaultRequestHeaders.ExpectContinue = true;
        var padding = new string(' ', 1024 * 1024 + 65 * 1024);
        using var put = await client.PutAsync(Kv(NewName()), Json($$"""{"value":1{{padding}}}"""), Cancellation);
        await AssertValidationProblemAsync(put, "value");
    }

    [Fact]
    public async Task SetValue_BodyOverTheLimitWithoutContentLength_Answers400NamingValue()
    {
        using var client = Client();
        var value = new string('x', 2 * 1024 * 1024);
        using var content = new StreamContent(new UnseekableStream(Encoding.UTF8.GetBytes($$"""{"value":"{{value}}"}""")));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, Kv(NewName())) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var put = await client.SendAsync(request, Cancellation);
        await AssertValidationProblemAsync(put, "value");
    }

    [Theory]
    [InlineData("bad%01key")]
    [InlineData("bad%7Fkey")]
    public async Task SetValue_KeyWithControlCharacter_Answers400NamingKey(string rawKey)
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, new Uri("/v1/kv/" + rawKey, UriKind.Relative), """{"value":1}""");
        await AssertValidationProblemAsync(put, "key");
    }

    [Fact]
    public async Task SetValue_KeyOver512Bytes_Answers400NamingKey()
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(new string('k', 513)), """{"value":1}""");
        await AssertValidationProblemAsync(put, "key");
    }

    [Fact]
    public async Task SetValue_Key512MultiByteCharacters_Answers400NamingKey()
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(new string('é', 257)), """{"value":1}""");
        await AssertValidationProblemAsync(put, "key");
    }

    [Fact]
    public async Task SetValue_BadKeyAndBadTtl_NamesBoth()
    {
        using var client = Client();
        using var put = await SendAsync(client, HttpMethod.Put, Kv(new string('k', 513)), """{"value":1,"ttlMs":0}""");
        await AssertValidationProblemAsync(put, "key", "ttlMs");
    }

    [Fact]
    public async Task GetValue_BadKey_Answers400NamingKey()
    {
        using var client = Client();
        using var get = await client.GetAsync(new Uri("/v1/kv/bad%01key", UriKind.Relative), Cancellation);
        await AssertValidationProblemAsync(get, "key");
    }

    [Fact]
    public async Task DeleteValue_BadKey_Answers400NamingKey()
    {
        using var client = Client();
        using var delete = await client.DeleteAsync(Kv(new string('k', 600)), Cancellation);
        await AssertValidationProblemAsync(delete, "key");
    }

    [Fact]
    public async Task GetValue_EmptyKey_Answers400NamingKey()
    {
        using var client = Client();
        using var get = await client.GetAsync(new Uri("/v1/kv/", UriKind.Relative), Cancellation);
        await AssertValidationProblemAsync(get, "key");
    }

    /// <summary>A stream without a length, so the client sends the body chunked (no Content-Length).</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
