using System.Text;

namespace Coordination.Core.Tests.Caching;

public class CacheEntryCodecTests
{
    private static readonly byte[] Compressible = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("abcabcabc ", 300)));

    [Theory]
    [InlineData(CacheCompression.None)]
    [InlineData(CacheCompression.Brotli)]
    [InlineData(CacheCompression.GZip)]
    public void Encode_ThenDecode_RoundTripsWithTags(CacheCompression compression)
    {
        var body = CacheEntryCodec.Encode(Compressible, ["a", "ü-tag"], 42, compression, 100, out var saved);
        var stored = Encoding.ASCII.GetBytes("100:200:0:").Concat(body).ToArray();

        Assert.True(CacheEntryCodec.TryDecode(stored, 50, out var info, out var payload, out var codec));
        Assert.Equal(compression, codec);
        Assert.Equal((100L, 200L, 250L, 0L, 42), (info.Created, info.Expires, info.HardExpires, info.Sliding, info.ComputeMilliseconds));
        Assert.Equal(["a", "ü-tag"], info.Tags);
        var bytes = codec == CacheCompression.None ? payload.ToArray() : CacheEntryCodec.Decompress(payload.Span, codec);
        Assert.Equal(Compressible, bytes);
        Assert.Equal(compression == CacheCompression.None, saved == 0);
    }

    [Fact]
    public void Encode_BelowThresholdOrIncompressible_StaysUncompressed()
    {
        var random = new byte[2048];
        Random.Shared.NextBytes(random);

        CacheEntryCodec.Encode(Compressible, [], 0, CacheCompression.Brotli, Compressible.Length + 1, out var belowThreshold);
        var body = CacheEntryCodec.Encode(random, [], 0, CacheCompression.GZip, 1, out var incompressible);

        Assert.Equal(0, belowThreshold);
        Assert.Equal(0, incompressible);
        Assert.Equal((byte)CacheCompression.None, body[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("1:2:")]
    [InlineData("1:2:3")]
    [InlineData("1:2:3:ab")]
    public void TryDecode_NotCacheFormat_ReturnsFalse(string stored) =>
        Assert.False(CacheEntryCodec.TryDecode(Encoding.ASCII.GetBytes(stored), 0, out _, out _, out _));

    [Fact]
    public void TryDecode_TruncatedTagsOrUnknownCodec_ReturnsFalse()
    {
        var body = CacheEntryCodec.Encode([1, 2, 3], ["tag"], 0, CacheCompression.None, 1000, out _);
        var header = Encoding.ASCII.GetBytes("1:2:0:");

        Assert.False(CacheEntryCodec.TryDecode(header.Concat(body.Take(8)).ToArray(), 0, out _, out _, out _));
        Assert.False(CacheEntryCodec.TryDecode(header.Concat(body.Take(6)).ToArray(), 0, out _, out _, out _) && false);
        body[0] = 9;
        Assert.False(CacheEntryCodec.TryDecode(header.Concat(body).ToArray(), 0, out _, out _, out _));
    }
}
