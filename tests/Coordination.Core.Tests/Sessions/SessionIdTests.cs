namespace Coordination.Core.Tests.Sessions;

public class SessionIdTests
{
    [Fact]
    public void New_IsTwentyTwoBase64UrlCharactersADotAndTheTag_AndParsesBack()
    {
        var tag = SessionId.TagOf("app", "default", "user-1");

        var id = SessionId.New(tag);

        Assert.Matches("^[A-Za-z0-9_-]{22}\\.[0-9a-z]{1,4}$", id);
        Assert.True(SessionId.TryParse(id, out var random, out var parsedTag));
        Assert.Equal((id[..22], tag), (random, parsedTag));
    }

    [Fact]
    public void SessionKeysParse_GivesBackTheIdAndTheUserIndexPrefixOfAnyTenantsKey()
    {
        var keys = new SessionKeys("app:v2", "tenant-7");
        var tag = keys.TagOf("user-1");
        var id = SessionId.New(tag, out var random);

        var (parsedId, indexPrefix) = SessionKeys.Parse(keys.Session(tag, random));

        Assert.Equal(id, parsedId);
        Assert.Equal(keys.UserIndexPrefix(tag), indexPrefix);
    }

    [Fact]
    public void New_DrawsFreshRandomEachTime() =>
        Assert.Equal(1000, Enumerable.Range(0, 1000).Select(_ => SessionId.New("0")).Distinct(StringComparer.Ordinal).Count());

    [Fact]
    public void TagOf_PutsTheIdInTheSlotOfTheUserInTheTenant()
    {
        var tag = SessionId.TagOf("app", "default", "user-1");

        Assert.Equal(HashSlot.Of("app:default:user-1"), HashSlot.Of(tag));
        Assert.Equal(HashSlot.Of("app:default:session:{" + tag + "}:x"), HashSlot.Of("app:default:session-user:{" + tag + "}:user-{1}"));
    }

    [Fact]
    public void Tags_AreAtMostFourCharactersOfDigitsAndLowercaseLetters_SoEveryIssuedIdParses()
    {
        var tags = Enumerable.Range(0, HashSlot.Count).Select(HashSlot.TagFor).ToArray();

        Assert.All(tags, t => Assert.Matches("^[0-9a-z]{1,4}$", t));
        Assert.All(tags, t => Assert.True(SessionId.TryParse(new string('A', 22) + "." + t, out _, out _), t));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA.0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAA.0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA:.0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA}.0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA=.0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA:0")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.A")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.0}")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.zzzz")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.00")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.00000")]
    public void TryParse_AnythingNotShapedAsIssued_IsRefused(string? id)
    {
        Assert.False(SessionId.TryParse(id, out var random, out var tag));
        Assert.Equal((string.Empty, string.Empty), (random, tag));
    }
}
