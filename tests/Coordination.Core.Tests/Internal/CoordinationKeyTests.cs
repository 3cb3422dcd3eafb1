using System.Text;

namespace Coordination.Core.Tests.Internal;

public class CoordinationKeyTests
{
    [Fact]
    public void ValidateName_Null_ThrowsArgumentNullExceptionNamingTheParameter()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => CoordinationKey.ValidateName(null!, "key"));
        Assert.Equal("key", ex.ParamName);
    }

    [Fact]
    public void ValidateName_Empty_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(string.Empty, "key"));
        Assert.Equal("key", ex.ParamName);
        Assert.Contains("empty", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("orders:42")]
    [InlineData("{tag}:x")]
    [InlineData("with space and * ? [ ]")]
    [InlineData("../../other-tenant:kv:secret")]
    [InlineData("caf\u00e9 \u20ac \U0001F600")]
    public void ValidateName_OrdinaryOrOddButPrintable_Accepted(string name) =>
        CoordinationKey.ValidateName(name, "key");

    public static TheoryData<string> NamesOfExactly512Bytes => new()
    {
        new string('a', 512),                                   // 1 byte per char
        string.Concat(Enumerable.Repeat("\u00e9", 256)),        // 2 bytes per char: 256 chars
        string.Concat(Enumerable.Repeat("\u20ac", 170)) + "ab", // 3 bytes per char: 510 + 2
        string.Concat(Enumerable.Repeat("\U0001F600", 128)),    // 4 bytes per surrogate pair: 256 chars
    };

    [Theory]
    [MemberData(nameof(NamesOfExactly512Bytes))]
    public void ValidateName_512Utf8Bytes_Accepted(string name)
    {
        Assert.Equal(CoordinationLimits.MaxNameBytes, Encoding.UTF8.GetByteCount(name));
        CoordinationKey.ValidateName(name, "key");
    }

    [Theory]
    [MemberData(nameof(NamesOfExactly512Bytes))]
    public void ValidateName_513Utf8Bytes_Rejected(string name512)
    {
        var name = name512 + "x";
        Assert.Equal(513, Encoding.UTF8.GetByteCount(name));

        var ex = Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(name, "key"));
        Assert.Contains("513", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateName_FewCharsButMoreThan512Bytes_Rejected()
    {
        // 171 characters only, but 513 UTF-8 bytes: the limit is on bytes, not on chars.
        var name = string.Concat(Enumerable.Repeat("\u20ac", 171));
        Assert.True(name.Length < CoordinationLimits.MaxNameBytes);

        Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(name, "key"));
    }

    [Theory]
    [InlineData("\0")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("\tindent")]
    [InlineData("bell\u0007")]
    [InlineData("del\u007f")]
    [InlineData("c1\u0085control")]
    [InlineData("esc\u001b[31m")]
    public void ValidateName_ControlCharacter_Rejected(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(name, "key"));
        Assert.Contains("control", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("key", ex.ParamName);
    }

    // Built in the test: xunit serializes theory data as UTF-8, which would replace a lone surrogate with U+FFFD.
    [Theory]
    [InlineData("", 0xD800, "")]
    [InlineData("lone high ", 0xD83D, " at the end")]
    [InlineData("lone low ", 0xDE00, " inside")]
    [InlineData("", 0xDFFF, "x")]
    public void ValidateName_UnpairedSurrogate_Rejected(string before, int surrogate, string after)
    {
        var name = before + (char)surrogate + after;

        var ex = Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(name, "key"));
        Assert.Contains("surrogate", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("key", ex.ParamName);
    }

    [Fact]
    public void ValidateName_SurrogatesInWrongOrder_Rejected()
    {
        var name = new string([(char)0xDE00, (char)0xD83D]);

        Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateName(name, "key"));
    }

    [Theory]
    [InlineData("coord")]
    [InlineData("a")]
    [InlineData("Tenant_1.prod-eu")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")] // 64
    public void ValidateSegment_Valid_Accepted(string segment) =>
        CoordinationKey.ValidateSegment(segment, "tenant");

    [Theory]
    [InlineData("")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")] // 65
    [InlineData("a:b")]
    [InlineData(":")]
    [InlineData("a b")]
    [InlineData("a*")]
    [InlineData("{tag}")]
    [InlineData("caf\u00e9")]
    [InlineData("\uff1a")] // fullwidth colon
    [InlineData("a\n")]
    public void ValidateSegment_Invalid_Rejected(string segment)
    {
        var ex = Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateSegment(segment, "tenant"));
        Assert.Equal("tenant", ex.ParamName);
    }

    [Fact]
    public void ValidateSegment_Null_ThrowsArgumentNullException()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => CoordinationKey.ValidateSegment(null!, "tenant"));
        Assert.Equal("tenant", ex.ParamName);
    }

    [Theory]
    [InlineData("coord")]
    [InlineData("a.b_c-1")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public void SegmentPattern_AgreesWithValidateSegment_OnValid(string segment)
    {
        Assert.Matches(CoordinationLimits.SegmentPattern, segment);
        CoordinationKey.ValidateSegment(segment, "segment");
    }

    [Theory]
    [InlineData("a:b")]
    [InlineData("")]
    [InlineData("caf\u00e9")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")]
    public void SegmentPattern_AgreesWithValidateSegment_OnInvalid(string segment)
    {
        Assert.DoesNotMatch(CoordinationLimits.SegmentPattern, segment);
        Assert.Throws<ArgumentException>(() => CoordinationKey.ValidateSegment(segment, "segment"));
    }

    [Fact]
    public void Build_Segments_JoinedWithColons()
    {
        Assert.Equal("coord:acme:kv:orders:42", CoordinationKey.Build("coord", "acme", "kv", "orders:42"));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("orders:42")]
    [InlineData(":leading")]
    [InlineData("trailing:")]
    [InlineData("caf\u00e9 \U0001F600")]
    public void NameOf_BuiltKey_ReturnsTheName(string name)
    {
        var key = CoordinationKey.Build("coord", "acme", "lock", name);
        Assert.Equal(name, CoordinationKey.NameOf(key, "coord", "acme", "lock"));
    }

    [Fact]
    public void NameOf_KeyShorterThanNamespace_ReturnsKeyUnchanged()
    {
        Assert.Equal("short", CoordinationKey.NameOf("short", "coord", "acme", "kv"));
    }

    public static TheoryData<string> AdversarialNames => new()
    {
        ":",
        "::",
        "other:kv:x",
        ":other:kv:x",
        "../other:kv:x",
        "acme2:kv:x",
        "\uff1aother\uff1akv", // fullwidth colons
        "*",
        "{acme}:x",
        new string(':', 512),
    };

    [Theory]
    [MemberData(nameof(AdversarialNames))]
    public void Build_AnyValidName_StaysInsideItsTenantsNamespace(string name)
    {
        CoordinationKey.ValidateName(name, "key");
        foreach (var tenant in new[] { "acme", "acme2", "a", "other" })
        {
            var key = CoordinationKey.Build("coord", tenant, "kv", name);

            // Prefix and tenant cannot contain ':', so the first two ':'-separated fields are always exactly them.
            var fields = key.Split(':', 4);
            Assert.Equal("coord", fields[0]);
            Assert.Equal(tenant, fields[1]);
            Assert.Equal("kv", fields[2]);
            Assert.StartsWith($"coord:{tenant}:kv:", key, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Build_RandomValidNames_NeverCollideAcrossTenants()
    {
        // A property check over random names drawn from an alphabet rich in separators: no key of one tenant
        // equals a key of another, whatever the names.
        var random = new Random(20240611);
        const string alphabet = "a:b{}*?.-_ \u00e9\u20ac\uff1a";
        var tenants = new[] { "t", "t2", "tt", "t.t", "t-t" };
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 5_000; i++)
        {
            var length = random.Next(1, 12);
            var name = new string([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            CoordinationKey.ValidateName(name, "key");
            foreach (var tenant in tenants)
            {
                var key = CoordinationKey.Build("coord", tenant, "kv", name);
                if (owner.TryGetValue(key, out var previousTenant))
                {
                    Assert.Equal(previousTenant, tenant);
                }
                else
                {
                    owner[key] = tenant;
                }
            }
        }
    }
}
