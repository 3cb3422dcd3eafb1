using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Core.Tests.Sessions;

public class SessionDataTests
{
    [Fact]
    public void EncodeAll_StoresCompactJsonUnderPrefixedFields()
    {
        using var document = JsonDocument.Parse("{ \"a\" : [ 1 ,  2 ], \"b\": { \"c\" : \"d\" } }");
        var data = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

        var fields = SessionData.EncodeAll(data, new SessionManagerOptions(), "data");

        Assert.Equal(["d:a", "[1,2]", "d:b", "{\"c\":\"d\"}"], fields.Select(f => (string)f!));
    }

    [Fact]
    public void EncodeAll_CountsNameAndValueBytesAgainstTheLimit()
    {
        var options = new SessionManagerOptions { MaxDataBytes = 8 };
        var fits = new Dictionary<string, JsonElement> { ["é"] = JsonSerializer.SerializeToElement("abcd") };
        var over = new Dictionary<string, JsonElement> { ["éé"] = JsonSerializer.SerializeToElement("abcd") };

        Assert.Equal(2, SessionData.EncodeAll(fits, options, "data").Count);
        var error = Assert.Throws<ArgumentException>(() => SessionData.EncodeAll(over, options, "data"));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("MaxDataBytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\tb")]
    public void ValidateFieldName_Invalid_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => SessionData.ValidateFieldName(name, "patch"));

    // Built here: a lone surrogate does not survive the test framework's serialization of theory data.
    [Fact]
    public void ValidateFieldName_UnpairedSurrogate_Throws() =>
        Assert.Throws<ArgumentException>(() => SessionData.ValidateFieldName("a" + (char)0xD800, "patch"));

    [Fact]
    public void ValidateFieldName_AtMost256Characters()
    {
        SessionData.ValidateFieldName(new string('n', 256), "patch");
        Assert.Throws<ArgumentException>(() => SessionData.ValidateFieldName(new string('n', 257), "patch"));
    }

    [Fact]
    public void Read_BuildsTheSessionFromItsHash_ExpiryIsIdleCappedByAbsolute()
    {
        RedisResult[] hash =
        [
            .. new[] { "u", "user-1", "c", "1000", "a", "5000", "i", "3000", "x", "7000", "v", "4", "d:k", "{\"n\":1}" }
                .Select(s => RedisResult.Create((RedisValue)s)),
        ];

        var session = SessionData.Read("id", hash);

        Assert.Equal(("id", "user-1", 4L), (session.Id, session.UserId, session.Version));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1000), session.CreatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(5000), session.LastAccessAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(7000), session.ExpiresAt);
        Assert.Equal(1, session.Data["k"].GetProperty("n").GetInt32());
    }
}
