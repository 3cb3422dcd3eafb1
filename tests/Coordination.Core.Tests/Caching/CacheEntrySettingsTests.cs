namespace Coordination.Core.Tests.Caching;

public class CacheEntrySettingsTests
{
    [Fact]
    public void Resolve_NoEntryOptions_TakesDefaults()
    {
        var defaults = new CacheOptions { DefaultTimeToLive = TimeSpan.FromSeconds(10), FailSafeWindow = TimeSpan.FromSeconds(5), DistributedSingleFlight = true };

        var settings = CacheEntrySettings.Resolve(null, defaults);

        Assert.Equal((10_000L, 0L, 5_000L, 60_000L, true, CacheCompression.Brotli), (settings.TimeToLive, settings.Jitter, settings.FailSafeWindow, settings.MemoryTimeToLive, settings.DistributedSingleFlight, settings.Compression));
        Assert.Empty(settings.Tags);
        Assert.Equal(10_000L, settings.NextTimeToLive());
    }

    [Fact]
    public void Resolve_EntryOptions_OverrideDefaults_JitterStaysInBounds()
    {
        var settings = CacheEntrySettings.Resolve(
            new CacheEntryOptions { TimeToLive = TimeSpan.FromSeconds(1), Jitter = TimeSpan.FromMilliseconds(100), Tags = ["x"], FactorySoftTimeout = TimeSpan.FromSeconds(1), FactoryHardTimeout = TimeSpan.FromSeconds(2) },
            new CacheOptions());

        Assert.Equal(["x"], settings.Tags);
        Assert.Equal((TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)), (settings.SoftTimeout!.Value, settings.HardTimeout!.Value));
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(settings.NextTimeToLive(), 1000, 1100);
        }

        var sliding = CacheEntrySettings.Resolve(new CacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(3) }, new CacheOptions());
        Assert.Equal((3000L, 3000L), (sliding.TimeToLive, sliding.Sliding));
    }

    public static TheoryData<CacheEntryOptions> Invalid() =>
    [
        new CacheEntryOptions { TimeToLive = TimeSpan.Zero },
        new CacheEntryOptions { TimeToLive = TimeSpan.FromDays(31) },
        new CacheEntryOptions { Jitter = TimeSpan.FromSeconds(-1) },
        new CacheEntryOptions { FailSafeWindow = TimeSpan.FromDays(31) },
        new CacheEntryOptions { EagerRefreshThreshold = 1 },
        new CacheEntryOptions { FactorySoftTimeout = TimeSpan.Zero },
        new CacheEntryOptions { FactorySoftTimeout = TimeSpan.FromSeconds(2), FactoryHardTimeout = TimeSpan.FromSeconds(1) },
        new CacheEntryOptions { Tags = Enumerable.Range(0, 256).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() },
        new CacheEntryOptions { Tags = ["bad\u0001"] },
    ];

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Resolve_InvalidOptions_Throws(CacheEntryOptions options) =>
        Assert.ThrowsAny<ArgumentException>(() => CacheEntrySettings.Resolve(options, new CacheOptions()));

    [Fact]
    public void Resolve_MoreTagsThanMaxTagsPerEntry_ThrowsNamingTags()
    {
        var defaults = new CacheOptions { MaxTagsPerEntry = 3 };
        string[] tags = ["a", "b", "c", "d"];

        var error = Assert.Throws<ArgumentException>(() => CacheEntrySettings.Resolve(new CacheEntryOptions { Tags = tags }, defaults));

        Assert.Equal("tags", error.ParamName);
        Assert.Contains("MaxTagsPerEntry", error.Message, StringComparison.Ordinal);
        Assert.Equal(tags[..3], CacheEntrySettings.Resolve(new CacheEntryOptions { Tags = tags[..3] }, defaults).Tags);
    }
}
